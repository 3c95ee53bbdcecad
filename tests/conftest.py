"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), the connector's services, and the app served on loopback."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from connector import create_app
from connector.config import Settings
from connector.db import upgrade
from connector.models import Base
from connector.services import Services
from tests import working_hours

pytest_plugins = ["tests.fixtures_moneybird", "tests.fixtures_exact"]

# Steps go out to debtors only in contact hours: started in the evening, the suite shifts its
# clock (and its child processes') to the next working morning; see tests/working_hours.py.
CLOCK_SHIFT_SECONDS = working_hours.start()



PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
EMULATOR_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds for calls to the emulators
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``slow`` first: the parallel pass hands them out before the rest, one
    per worker, instead of leaving one worker with minutes of work at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once per session."""
    assert PG_URL
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"connector_test_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a power cut: no fsync wait on every commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(test_url)
    upgrade(engine)
    engine.dispose()
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "connector.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    empty_pg_database(url)
    return url


def empty_pg_database(url: str) -> None:
    """Every table emptied and every sequence back at its start, as after the migration.

    DELETE, not TRUNCATE: on tables this small it takes milliseconds, where one TRUNCATE of all
    tables gives each a new file and took 0.4-1.2 s per test (minutes over the suite). The
    tables' own triggers (the event log refuses DELETE) are off only inside this transaction.
    """
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        guarded = set(conn.scalars(text(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal")))
        statements = [f'ALTER TABLE "{name}" DISABLE TRIGGER USER' for name in sorted(guarded)]
        # Children before their parents; one round trip for all of it.
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        statements += [f'DELETE FROM "{name}"' for name in tables]  # noqa: S608 - our tables
        statements += [f'ALTER TABLE "{name}" ENABLE TRIGGER USER' for name in sorted(guarded)]
        statements.append("SELECT setval((quote_ident(schemaname) || '.' || "
                          "quote_ident(sequencename))::regclass, start_value, false) "
                          "FROM pg_sequences")
        conn.exec_driver_sql("; ".join(statements))
    engine.dispose()


class LiveServer:
    """A WSGI app on a loopback port; the app can be set after the port is known."""

    def __init__(self) -> None:
        self.app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll: shutdown() waits up to one poll interval, once per test.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    server = LiveServer()
    yield server
    server.stop()


def make_settings(database_url: str, public_url: str, moneybird_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        token_encryption_keys=(Fernet.generate_key().decode(),),
        public_url=public_url,
        # Generous: a loaded machine must not turn a slow answer into a lost one. Tests of
        # lost answers provoke the loss (emulator.inject_lost_answer).
        ledger_timeout=EMULATOR_TIMEOUT,
    ).with_ledger("moneybird", MONEYBIRD_CLIENT_ID="demo-client",
                  MONEYBIRD_CLIENT_SECRET="demo-secret", MONEYBIRD_BASE_URL=moneybird_url)


@pytest.fixture
def make_services(database_url: str, live_server: LiveServer) -> Iterator[Callable[..., Services]]:
    """Services wired to a given emulator, with the app served at ``live_server``."""
    made: list[Services] = []

    def factory(emulator=None, *, exact=None, ledger=None, **overrides) -> Services:
        """``ledger``: plug-in key → its settings to change, by variable name."""
        assert not made, "one app per test"
        settings = make_settings(database_url, live_server.url,
                                 emulator.server.url if emulator else "http://127.0.0.1:9")
        if exact is not None:
            settings = settings.with_ledger("exact_online", EXACT_ONLINE_BASE_URL=exact.server.url)
        for key, values in (ledger or {}).items():
            settings = settings.with_ledger(key, **values)
        settings = settings.replace(**overrides)
        svc = Services.from_settings(settings)
        live_server.app = create_app(services=svc)
        made.append(svc)
        return svc

    yield factory
    for svc in made:
        svc.db.dispose()


@pytest.fixture
def services(make_services: Callable[..., Services], moneybird_emulator) -> Services:
    return make_services(moneybird_emulator)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
