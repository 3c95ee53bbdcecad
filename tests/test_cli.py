"""The ``connector`` command as an operator uses it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import select

from connector.cli import main
from connector.db import Database
from connector.models import Operator


def test_operator_add_hashes_the_password(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["operator", "add", "op@partner.example",
                                       "--password", "a long password"])
    assert result.exit_code == 0, result.output
    db = Database(url)
    with db.session() as session:
        operator = session.scalars(select(Operator)).one()
        assert operator.password_hash.startswith(("scrypt:", "pbkdf2:"))
    again = CliRunner().invoke(main, ["operator", "add", "op@partner.example",
                                      "--password", "a long password"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = CliRunner().invoke(main, ["operator", "add", "x@partner.example",
                                      "--password", "short"])
    assert short.exit_code != 0 and "10 characters" in short.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_emulator_command_serves_with_a_preissued_token():
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "emulator", "moneybird", "--port", str(port),
         "--seed", "2", "--token", "personal-token"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(f"{base}/api/v2/administrations.json",
                                        headers={"Authorization": "Bearer personal-token"},
                                        timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and len(response.json()) >= 3
        assert requests.get(f"{base}/api/v2/administrations.json",
                            timeout=2).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
