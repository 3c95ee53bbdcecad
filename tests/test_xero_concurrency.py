"""Four processes, one Xero connection, 25+ access-token lifetimes on PostgreSQL.

Xero rotates the refresh token on every refresh and the old one dies (invalid_grant): the token
store must serialise refreshes across processes under the grant's row lock, read the tokens
again after taking it, and store the new pair before using it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from connector import connections
from connector.config import Settings
from connector.models import Base, Grant
from connector.services import Services
from tests.conftest import PG_URL
from tests.xero_helpers import consent

pytest_plugins = ["tests.fixtures_xero"]
SPEED = 1200  # a 30-minute token lives 1.5 real seconds; Xero's minute passes in 50 ms
SECONDS = 42  # 28 lifetimes
PAUSE = 0.05  # four processes at ≤ 20 calls a second each: ~3,400 calls, under 5,000 a day
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.serial  # a token lives 1.5 real seconds: a busy neighbour makes one expire in flight
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_four_processes_never_lose_the_xero_grant(pg_database, make_xero_emulator):
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    emulator = make_xero_emulator(clock_speed=SPEED)
    key = Fernet.generate_key().decode()
    settings = Settings(database_url=pg_database, token_encryption_keys=(key,)).with_ledger(
        "xero", XERO_BASE_URL=emulator.public_url)
    services = Services.from_settings(settings)
    provider = services.providers.get("xero")
    tenant = emulator.tenant_ids()[0]
    grant = connections.create_grant(services, "xero", consent(provider, [tenant]))
    tenants = connections.list_tenants(services, grant)
    [company_id] = connections.connect_tenants(services, grant, tenants)
    invoice_id = emulator.open_invoices(tenant)[0]["InvoiceID"]
    emulator.take_violations()  # set-up calls ran on the real-time token store

    config = {"real_start": emulator._real_start.isoformat(), "speed": SPEED,
              "database_url": pg_database, "key": key, "xero_url": emulator.public_url,
              "company_id": company_id, "invoice_id": invoice_id, "seconds": SECONDS,
              "pause": PAUSE}
    workers = [subprocess.Popen([sys.executable, "-m", "tests.xero_token_worker",
                                 json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=SECONDS + 90)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    refreshed = emulator.count_token_events("refreshed")
    assert refreshed >= 25, f"only {refreshed} refreshes: too few token lifetimes covered"
    assert emulator.count_token_events("old_refresh_token_used") == 0
    assert emulator.count_token_events("invalid_grant") == 0
    assert all(r["calls"] > 0 for r in results)
    assert sum(r["failed"] for r in results) == 0, [r["failures"] for r in results]
    with services.db.session() as db:
        assert db.scalars(select(Grant.status)).one() == "active"
    services.db.dispose()
