"""Running it as an operator does: `connector migrate` as the deploy step (one at a time, never
by a worker or the web app), `connector serve`'s settings, proxies, logs and the e-mail rule."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from connector.cli import main
from connector.config import load_settings
from connector.db import current_revisions, head_revisions
from connector.logs import configure_logging, ensure_logging
from connector.serve import DEFAULT_BIND, ServeOptions
from connector.web import login_limits
from tests.conftest import PG_URL
from tests.helpers import csrf_token

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    """A database nobody migrated: PostgreSQL when TEST_DATABASE_URL is set, else SQLite."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"connector_deploy_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def test_migrate_started_three_times_at_once_runs_once_and_none_fails(empty_database, tmp_path):
    env = {**os.environ, "DATABASE_URL": empty_database, "DATA_DIR": str(tmp_path / "data")}
    started = [subprocess.Popen([sys.executable, "-m", "connector.cli", "migrate"], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(3)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in started]
    assert [code for code, _, _ in results] == [0, 0, 0], [err[-2000:] for _, _, err in results]
    assert all("database is up to date" in out for _, out, _ in results)
    engine = create_engine(empty_database)
    try:
        assert current_revisions(engine) == head_revisions()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()
    again = CliRunner().invoke(main, ["migrate"], env={"DATABASE_URL": empty_database})
    assert again.exit_code == 0 and "up to date" in again.output  # idempotent
    alias = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": empty_database})
    assert alias.exit_code == 0 and "up to date" in alias.output


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_worker_and_serve_never_migrate_they_refuse_with_what_to_do(empty_database, command):
    # Own secrets: with the public demo ones both refuse before looking at the schema (#18).
    result = CliRunner().invoke(main, [command, "--wait-for-schema", "0"],
                                env={"DATABASE_URL": empty_database, "SECRET_KEY": "s" * 32,
                                     "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert result.exit_code == 1
    assert "run `connector migrate`" in result.output and "Traceback" not in result.output
    engine = create_engine(empty_database)
    try:
        assert inspect(engine).get_table_names() == []  # nothing was created
    finally:
        engine.dispose()


def test_serve_reads_bind_concurrency_and_proxies_from_the_environment():
    assert ServeOptions.from_environ({}) == ServeOptions((DEFAULT_BIND,), 2, ())
    options = ServeOptions.from_environ({"BIND": "0.0.0.0:8000, unix:/run/connector.sock",
                                         "WEB_CONCURRENCY": "5",
                                         "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert options == ServeOptions(("0.0.0.0:8000", "unix:/run/connector.sock"), 5,
                                   ("10.0.0.0/8", "127.0.0.1"))
    for env, message in (({"WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY"),
                         ({"TRUSTED_PROXIES": "proxy.local"}, "TRUSTED_PROXIES")):
        result = CliRunner().invoke(main, ["serve"], env=env)
        assert result.exit_code == 1 and message in result.output, result.output
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        load_settings({"TRUSTED_PROXIES": "10.0.0.1/33"})


def test_data_dir_holds_the_database_and_letters_by_default(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'connector.sqlite3'}"
    assert settings.letter_dir == str(tmp_path / "data" / "letters")
    assert settings.data_dir == str(tmp_path / "data")


def _failed_logins(url: str, count: int, client: str | None) -> requests.Response:
    s = requests.Session()
    headers = {"X-Forwarded-For": client} if client else {}
    token = csrf_token(s.get(f"{url}/login", headers=headers).text)
    answer = None
    for n in range(count):
        answer = s.post(f"{url}/login", headers=headers, data={
            "csrf_token": token, "email": f"guess{n}@partner.example", "password": "x" * 12})
    return answer


def test_behind_a_trusted_proxy_the_login_limit_keys_on_the_real_client(
        make_services, moneybird_emulator, monkeypatch):
    monkeypatch.setattr(login_limits, "MAX_PER_CLIENT", 3)  # fewer attempts, same rule
    services = make_services(moneybird_emulator, trusted_proxies=("127.0.0.1",))
    url = services.settings.public_url
    assert _failed_logins(url, 4, "203.0.113.7").status_code == 429  # that client waits
    # Another client behind the same proxy is not locked out by the first one's failures.
    assert "klopt niet" in _failed_logins(url, 1, "198.51.100.9").text


def test_without_trusted_proxies_forwarded_headers_are_ignored(
        make_services, moneybird_emulator, monkeypatch):
    monkeypatch.setattr(login_limits, "MAX_PER_CLIENT", 3)
    services = make_services(moneybird_emulator)
    url = services.settings.public_url
    _failed_logins(url, 3, "203.0.113.7")
    # A header of the client's own choosing does not buy it new attempts.
    assert _failed_logins(url, 1, "198.51.100.9").status_code == 429


@pytest.mark.parametrize("address", ["ops@example.test", "ops@localhost", "not-an-address",
                                     "ops@partner..example"])
def test_one_email_rule_an_address_the_login_form_refuses_cannot_be_added(
        address, tmp_path, monkeypatch, services):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'c.sqlite3'}")
    added = CliRunner().invoke(main, ["operator", "add", address, "--password", "a long password"])
    assert added.exit_code == 1 and "not a valid e-mail address" in added.output
    url = services.settings.public_url
    s = requests.Session()
    token = csrf_token(s.get(f"{url}/login").text)
    page = s.post(f"{url}/login", data={"csrf_token": token, "email": address,
                                        "password": "a long password"})
    assert "Dit is geen geldig e-mailadres." in page.text


def test_logging_keeps_app_lines_and_quiets_the_scheduler(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("json")
        logging.getLogger("connector.sync").info("sync ok company=c1")
        logging.getLogger("apscheduler.executors.default").info("Running job ...")
        logging.getLogger("apscheduler.scheduler").warning("job missed")
        ensure_logging()  # a second set-up (create_app under gunicorn) changes nothing
        err = capsys.readouterr().err.splitlines()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert [line for line in err if "sync ok company=c1" in line and '"level": "info"' in line]
    assert not [line for line in err if "Running job" in line]
    assert [line for line in err if "job missed" in line]


def test_forwarded_headers_count_only_from_a_listed_proxy():
    from werkzeug.test import Client
    from werkzeug.wrappers import Request, Response

    from connector.web.proxies import TrustedProxyFix

    @Request.application
    def echo(request: Request) -> Response:
        return Response(f"{request.remote_addr} {request.scheme}")

    app = TrustedProxyFix(echo, ("10.0.0.0/8",))
    headers = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    via_proxy = Client(app).get("/", headers=headers, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert via_proxy.get_data(as_text=True) == "203.0.113.7 https"  # the hop our proxy added
    direct = Client(app).get("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert direct.get_data(as_text=True) == "192.0.2.1 http"
