"""The product as an operator installs it: a wheel in a fresh virtualenv, outside the source tree.

Builds the wheel, installs it (not editable) into a new virtualenv, then runs the deploy step
(`connector migrate`), the web app (`connector serve`, gunicorn) and two `connector worker`
processes on PostgreSQL against the Moneybird emulator; a creditor connects through the OAuth
redirect chain and sees the administration's overdue invoices on the company page. Nothing in the
journey answers 500, every log line is JSON (LOG_FORMAT=json), the scheduler does not chatter,
and no file is written into the installed package.

To stay fast and offline, the new virtualenv gets no dependencies of its own: a .pth file points
it at the project's .venv site-packages, whose editable install is not active there (.pth files
in a directory named by a .pth are not processed), so `connector` is the installed wheel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.helpers import oauth_connect, wait_until

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("connector", "providers", "templates", "pyproject.toml", "setup.py", "MANIFEST.in",
           "README.md", "babel.cfg")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                            **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its bin/ directory."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"  # a clean copy: the build must not rely on stray local files
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.mo", "*.pyc")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    wheels = base / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", wheels, source, cwd=base)
    [wheel] = wheels.glob("preincasso_connector-*.whl")
    venv = base / "venv"
    _run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "project-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel)
    return venv / "bin"


@pytest.fixture
def database() -> Iterator[str]:
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"connector_package_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _package_files(bin_dir: Path) -> dict[str, tuple[int, int]]:
    python = bin_dir / "python"
    package = Path(_run(python, "-c", "import connector, os; print(os.path.dirname("
                                      "connector.__file__))", cwd=bin_dir).stdout.strip())
    assert "site-packages" in package.parts, package
    return {str(p.relative_to(package)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in package.rglob("*")}


class Processes:
    """Long-running commands of the installed package, each logging to its own file."""

    def __init__(self, bin_dir: Path, cwd: Path, env: dict[str, str]) -> None:
        self.bin_dir, self.cwd, self.env = bin_dir, cwd, env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = self.cwd / f"{name}.log"
        process = subprocess.Popen([str(self.bin_dir / "connector"), *args], cwd=self.cwd,
                                   env=self.env, stdout=log.open("w"),
                                   stderr=subprocess.STDOUT)
        self.started.append((name, process, log))
        return process

    def stop(self) -> None:
        for _, process, _ in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process, _ in self.started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> dict[str, str]:
        return {name: log.read_text() for name, _, log in self.started}


def test_installed_wheel_migrates_serves_and_syncs_on_postgresql(
        installed: Path, database: str, tmp_path: Path):
    before = _package_files(installed)
    run_dir = tmp_path / "run"  # the operator's working directory, far from the source tree
    run_dir.mkdir()
    web_port, emulator_port = _free_port(), _free_port()
    app_url, emulator_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{emulator_port}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update({
        "DATABASE_URL": database, "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "package-test-secret",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_URL": app_url, "MONEYBIRD_BASE_URL": emulator_url, "BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2", "LOG_FORMAT": "json",
    })
    processes = Processes(installed, run_dir, env)
    try:
        processes.start("emulator", "emulator", "moneybird", "--port", str(emulator_port))
        # Workers started before the deploy step wait for it instead of migrating.
        processes.start("worker-1", "worker")
        # Migrate only once it waits: a worker slow to start (a busy machine) would otherwise
        # find the schema ready and the waiting would go untested.
        wait_until(lambda: "waiting up to" in (run_dir / "worker-1.log").read_text(),
                   timeout=120, step=0.2)
        migrate = subprocess.run([str(installed / "connector"), "migrate"], cwd=run_dir, env=env,
                                 capture_output=True, text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        assert "database is up to date" in migrate.stdout
        processes.start("web", "serve")
        processes.start("worker-2", "worker")

        def healthy() -> bool:
            try:
                answer = requests.get(f"{app_url}/healthz", timeout=5)
            except requests.ConnectionError:
                return False
            return answer.status_code == 200 and answer.json()["workers"] == 2

        wait_until(healthy, timeout=90, step=0.5)
        wait_until(lambda: _answers(f"{emulator_url}/_emulator/"), timeout=30, step=0.2)
        first_administration = re.search(r"Administraties: (\d+)",
                                         processes.logs()["emulator"]).group(1)

        journey: list[tuple[int, str]] = []
        browser = requests.Session()
        browser.hooks["response"].append(
            lambda response, *args, **kwargs: journey.append((response.status_code,
                                                              response.url)))
        assert browser.get(f"{app_url}/", timeout=10).status_code == 200
        assert browser.get(f"{app_url}/login", timeout=10).status_code == 200
        _, page = oauth_connect(app_url, emulator_url, administrations=[first_administration],
                                session=browser)
        assert page.status_code == 200, page.text[:500]
        assert re.search(r"/companies/[0-9a-f]{32}$", page.url), page.url

        def invoices_shown() -> str | None:
            company = browser.get(page.url, timeout=30)
            return company.text if company.status_code == 200 and "€" in _overdue(
                company.text) else None

        shown = wait_until(invoices_shown, timeout=90, step=1.0)
        assert "actief" in shown
        assert browser.get(f"{app_url}/metrics", timeout=10).status_code == 200
        assert all(status < 500 for status, _ in journey), journey
    finally:
        processes.stop()
    logs = processes.logs()
    for name in ("web", "worker-1", "worker-2"):
        lines = [json.loads(line) for line in logs[name].splitlines()]
        assert lines, f"{name} logged nothing"
        assert not [e for e in lines if e["level"] in ("error", "critical")], logs[name][-3000:]
        assert not [e for e in lines if e["logger"].startswith("apscheduler")
                    and e["level"] == "info"]
    assert "waiting up to" in logs["worker-1"]  # it waited for `connector migrate`
    assert any("gunicorn" in json.loads(line)["logger"] for line in logs["web"].splitlines())
    assert _package_files(installed) == before, "files written into the installed package"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _overdue(page: str) -> str:
    start = page.find('id="overdue"')
    return page[start:start + 20000] if start >= 0 else ""
