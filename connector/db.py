"""Engine and sessions: SQLite for one process, PostgreSQL for many.

SQLite gets WAL, a busy timeout and foreign keys, so the web threads and the background sync in
the demo process can share one file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, inspect, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Database:
    """One engine and its session factory; passed around instead of a global."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self) -> None:
        """Apply all Alembic migrations (idempotent)."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    # An error's message would otherwise carry the statement's values (debtor names, e-mail
    # addresses) into the logs.
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["pool_pre_ping"] = True
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a commit per API call is cheap
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine | None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


class SchemaNotReady(Exception):
    """The database is not at the migrations' head: ``connector migrate`` has not run yet."""


# pg_advisory_lock key of `connector migrate` (any constant; "conn" in ASCII).
MIGRATION_LOCK_KEY = 0x636F6E6E


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty: never migrated); read without Alembic's logs."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(None)).get_heads())


def schema_is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()


def migrate(engine: Engine) -> None:
    """``connector migrate``: bring the schema to head, one process at a time.

    PostgreSQL: under a session advisory lock, so deploy steps started together on several
    machines run one after the other (the later ones find nothing to do). SQLite: under an
    exclusive lock on a file beside the database.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                upgrade(engine)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": MIGRATION_LOCK_KEY})
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        upgrade(engine)
        return
    import fcntl

    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            upgrade(engine)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def wait_for_schema(engine: Engine, timeout: float, log: logging.Logger) -> None:
    """Wait (at most ``timeout`` seconds) until ``connector migrate`` has brought the schema to
    head; raise :class:`SchemaNotReady` with what to do otherwise. Never migrates."""
    deadline = time.monotonic() + timeout
    heads = head_revisions()
    logged = False
    while True:
        try:
            found = current_revisions(engine)
        except OperationalError as exc:  # database not reachable (yet)
            found, reason = set(), f"database unreachable ({type(exc.orig).__name__})"
        else:
            reason = f"schema at {', '.join(sorted(found)) or 'nothing'}, code needs " \
                     f"{', '.join(sorted(heads))}"
        if found == heads:
            if logged:
                log.info("database schema is ready")
            return
        if time.monotonic() >= deadline:
            raise SchemaNotReady(f"the database is not ready: {reason}; run `connector migrate` "
                                 "(the deploy step) first")
        if not logged:
            log.warning("waiting up to %d s for the database schema: %s; run `connector migrate`",
                        timeout, reason)
            logged = True
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def insert_unless_present(session: Session, model: type, values: dict[str, Any],
                          unique: Sequence[str]) -> bool:
    """Insert a row unless one with the same ``unique`` columns exists; True if this call did.

    For rows a person can ask for twice at the same moment (a form posted twice, two workers):
    ``INSERT … ON CONFLICT DO NOTHING`` waits for the other transaction and then does nothing,
    where a check-then-insert would fail with ``IntegrityError`` (a 500 on a form). Works the
    same on SQLite and PostgreSQL; the caller reads the row afterwards.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two databases above are supported
        raise RuntimeError(f"unsupported database {dialect!r}")
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    return session.execute(statement).rowcount == 1


def lock_row(session: Session, model: Any, row_id: str) -> None:
    """Hold this row until the transaction ends, so two requests deciding about it (excluding
    one debtor twice at once) go one after the other and the second sees the first's outcome.

    A no-op UPDATE: a row lock on PostgreSQL, the database's write lock on SQLite (which knows
    no ``SELECT … FOR UPDATE``). Read what you decide on after this call.
    """
    session.execute(update(model).where(model.id == row_id).values(id=model.id)
                    .execution_options(synchronize_session=False))
