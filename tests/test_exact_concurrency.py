"""Four processes, one Exact Online connection, 25+ access-token lifetimes on PostgreSQL.

Exact rotates the refresh token on every refresh and refuses one used twice ("Old refresh token
used") or used before 570 s: the token store must serialise refreshes across processes with a
row lock, re-read after taking it, and persist before releasing it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from connector.config import Settings
from connector.models import Base, Grant, Invoice
from connector.services import Services
from connector.sync import sync_company
from tests.conftest import PG_URL
from tests.test_exact import big_division, connect

SPEED = 400  # a 600-second token lives 1.5 real seconds
SECONDS = 42  # 28 lifetimes
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.serial  # a token lives 1.5 real seconds: a busy neighbour makes one expire in flight
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_four_processes_never_lose_the_connection(pg_database, make_exact_emulator):
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    emulator = make_exact_emulator(clock_speed=SPEED, minutely_limit=10**6, daily_limit=10**7)
    key = Fernet.generate_key().decode()
    settings = Settings(database_url=pg_database, token_encryption_keys=(key,)).with_ledger(
        "exact_online", EXACT_ONLINE_BASE_URL=emulator.server.url)
    services = Services.from_settings(settings)
    company_id = connect(services, emulator, big_division(emulator))
    assert sync_company(services, company_id).outcome == "ok"
    with services.db.session() as db:
        invoice_id = db.scalars(select(Invoice.external_id)).first()
    emulator.take_violations()  # set-up calls ran on the real-time token store

    config = {"real_start": emulator._real_start.isoformat(), "speed": SPEED,
              "database_url": pg_database, "key": key, "exact_url": emulator.server.url,
              "company_id": company_id, "invoice_id": invoice_id, "seconds": SECONDS}
    workers = [subprocess.Popen([sys.executable, "-m", "tests.exact_token_worker",
                                 json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=SECONDS + 60)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    refreshed = emulator.count_token_events("refreshed")
    assert refreshed >= 25, f"only {refreshed} refreshes: too few token lifetimes covered"
    assert emulator.count_token_events("old_refresh_token_used") == 0
    assert emulator.count_token_events("early_refresh_rejected") == 0
    assert all(r["calls"] > 0 for r in results)
    assert sum(r["failed"] for r in results) == 0, [r["failures"] for r in results]
    with services.db.session() as db:
        assert db.scalars(select(Grant.status)).one() == "active"
    services.db.dispose()
