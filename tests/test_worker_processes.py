"""Several `connector worker` processes on one PostgreSQL database against the emulator.

Each test starts real worker processes (the command an operator runs), lets them share the
work, and then checks from the database and the emulator's request log that nothing was done
twice, nothing was lost, and the platform's rate limit held.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text

from connector import connections, writeback
from connector.collection.cases import settings_for
from connector.config import Settings
from connector.models import (
    Base,
    Company,
    Delivery,
    DeliveryCase,
    Event,
    Invoice,
    LedgerWrite,
    SyncRun,
)
from connector.services import Services
from providers.base import TokenSet
from tests.conftest import PG_URL
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def pg(pg_database):
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return pg_database


class Fleet:
    """Worker processes and the services the test uses to look at the same database."""

    def __init__(self, database_url: str, emulator, tmp: Path, **env: str) -> None:
        self.key = Fernet.generate_key().decode()
        self.env = {**os.environ, "DATABASE_URL": database_url, "TOKEN_ENCRYPTION_KEYS": self.key,
                    "SECRET_KEY": "test-secret", "PUBLIC_URL": "http://127.0.0.1:9",
                    "MONEYBIRD_BASE_URL": emulator.server.url, **env}
        self.services = Services.from_settings(Settings(
            database_url=database_url, token_encryption_keys=(self.key,),
            public_url="http://127.0.0.1:9").with_ledger(
            "moneybird", MONEYBIRD_BASE_URL=emulator.server.url,
            MONEYBIRD_RATE_LIMIT=env.get("MONEYBIRD_RATE_LIMIT", 140),
            MONEYBIRD_RATE_WINDOW=env.get("MONEYBIRD_RATE_WINDOW", 300)))
        self.emulator = emulator
        self.tmp = tmp
        self.processes: list[subprocess.Popen] = []

    def connect_all(self, live: bool = False) -> list[str]:
        access, refresh = self.emulator.issue_token()
        grant = connections.create_grant(self.services, "moneybird",
                                         TokenSet(access, refresh, None))
        tenants = connections.list_tenants(self.services, grant)
        companies = connections.connect_tenants(self.services, grant, tenants)
        with self.services.db.session() as db:
            for company_id in companies:
                settings = settings_for(db, company_id)
                settings.sender = {"name": "Zoet B.V.", "iban": "NL91ABNA0417164300"}
                settings.live = live
        return companies

    def start(self, count: int) -> None:
        for _ in range(count):
            log = open(self.tmp / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "connector.cli", "worker"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # SIGINT may be ignored in background jobs
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.services.db.dispose()

    def synced(self, companies: list[str]) -> bool:
        with self.services.db.session() as db:
            ok = set(db.scalars(select(SyncRun.company_id).where(SyncRun.outcome == "ok")))
        return set(companies) <= ok


@pytest.fixture
def fleet_factory(pg, tmp_path):
    fleets: list[Fleet] = []

    def make(emulator, **env: str) -> Fleet:
        fleet = Fleet(pg, emulator, tmp_path, **env)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.stop()


def _no_overlapping_runs(services: Services) -> None:
    with services.db.session() as db:
        runs = list(db.scalars(select(SyncRun).order_by(SyncRun.company_id, SyncRun.started_at)))
    by_company: dict[str, list[SyncRun]] = {}
    for run in runs:
        by_company.setdefault(run.company_id, []).append(run)
    for company_runs in by_company.values():
        for before, after in itertools.pairwise(company_runs):
            assert before.finished_at is not None and before.finished_at <= after.started_at, \
                f"two syncs of one company overlapped ({before.worker}, {after.worker})"


def _nothing_sent_twice(services: Services) -> None:
    with services.db.session() as db:
        sent = db.execute(select(DeliveryCase.case_id, Delivery.step).join(Delivery).where(
            Delivery.state == "sent")).all()
    assert all(n == 1 for n in Counter(sent).values()), "a step went out twice"


def _notes_once(emulator) -> None:
    for adm in emulator.administration_ids():
        for invoice in emulator.invoices(adm):
            keys = [n["note"].rsplit("[", 1)[-1] for n in invoice.get("notes") or ()]
            assert len(keys) == len(set(keys)), "a note was written twice"


def test_four_workers_share_200_companies_and_take_over_a_killed_one(
    fleet_factory, make_moneybird_emulator
):
    emulator = make_moneybird_emulator(administrations=200, contacts=5, invoices=20,
                                       rate_limit=None)
    fleet = fleet_factory(emulator, LEASE_SECONDS="6")
    # Preview keeps this test about syncing at scale; the chaos test sends messages.
    companies = fleet.connect_all(live=False)
    assert len(companies) == 200

    # A first worker gets stuck in its syncs and is killed: its leases run out.
    emulator.inject_delay("POST", "sales_invoices/synchronization", 60, times=3)
    fleet.start(1)
    wait_until(lambda: _running(fleet), timeout=30)
    fleet.processes[0].kill()
    killed_at = time.monotonic()

    fleet.start(4)
    wait_until(lambda: fleet.synced(companies), timeout=120)
    with fleet.services.db.session() as db:
        takeovers = db.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "lease.takeover"))
    assert takeovers >= 1
    with fleet.services.db.session() as db:
        interrupted = db.scalar(select(func.count()).select_from(SyncRun).where(
            SyncRun.outcome == "interrupted"))
    assert interrupted >= 1  # the killed worker's sync, closed by the worker that took over
    assert time.monotonic() - killed_at < 120
    workers = _workers_that_synced(fleet.services)
    assert len(workers) >= 3  # the work was shared
    _no_overlapping_runs(fleet.services)
    # The emulator's log agrees: every sync list call belongs to one of our sync runs.
    with fleet.services.db.session() as db:
        runs = db.scalar(select(func.count()).select_from(SyncRun)) or 0
    lists = emulator.count_calls(method="GET", path_contains="sales_invoices/synchronization")
    assert lists <= runs
    wait_until(lambda: _outbox_empty(fleet.services), timeout=60)
    _nothing_sent_twice(fleet.services)
    _notes_once(emulator)


def test_four_workers_keep_one_administration_under_its_rate_limit(
    fleet_factory, make_moneybird_emulator
):
    # 20 requests per 10 s stands in for Moneybird's 150 per 5 minutes.
    emulator = make_moneybird_emulator(administrations=1, contacts=10, invoices=80,
                                       rate_limit=20, rate_window=10)
    fleet = fleet_factory(emulator, MONEYBIRD_RATE_LIMIT="18", MONEYBIRD_RATE_WINDOW="10")
    [company_id] = fleet.connect_all(live=True)  # a preview writes nothing to the ledger
    from connector.sync import sync_company

    assert sync_company(fleet.services, company_id).outcome == "ok"
    with fleet.services.db.session() as db:
        invoices = list(db.scalars(select(Invoice).where(Invoice.company_id == company_id)))
        keys = [writeback.queue_note(db, invoice, f"Pre-incasso: test {i}").key
                for i, invoice in enumerate(invoices[:45])]
    emulator.reset_calls()
    fleet.start(4)
    wait_until(lambda: _outbox_empty(fleet.services), timeout=120)

    calls = sorted(c["at"] for c in emulator.calls)
    assert not [c for c in emulator.calls if c["status"] == 429], "the emulator had to refuse"
    window = timedelta(seconds=10)
    busiest = max(sum(1 for t in calls if start <= t < start + window) for start in calls)
    assert busiest <= 20
    adm = emulator.administration_ids()[0]
    written = [n["note"] for inv in emulator.invoices(adm) for n in inv.get("notes") or ()]
    assert all(sum(key in note for note in written) == 1 for key in keys)


def test_chaos_then_everything_in_sync_and_nothing_twice(fleet_factory, make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=12, contacts=5, invoices=20,
                                       rate_limit=None)
    fleet = fleet_factory(emulator, LEASE_SECONDS="10", RETRY_BASE_SECONDS="1")
    companies = fleet.connect_all(live=True)
    # A storm: server errors, answers that never come in time, and 429s.
    emulator.inject_error("GET", "synchronization", status=500, times=15)
    emulator.inject_error("POST", "synchronization", status=429, times=10, body="Retry later")
    emulator.inject_delay("POST", "/notes", 4, times=6)
    emulator.inject_error("POST", "/notes", status=500, times=6)
    fleet.start(3)
    wait_until(lambda: fleet.synced(companies), timeout=150)
    # A payment during the storm must still arrive.
    adm = emulator.administration_ids()[0]
    paid = next(i for i in emulator.invoices(adm) if i["state"] in ("late", "reminded"))
    emulator.mark_paid(adm, paid["id"])
    with fleet.services.db.session() as db:
        for company in db.scalars(select(Company)):
            company.sync_requested_at = company.next_sync_at = None
    wait_until(lambda: _status(fleet.services, paid["id"]) == "paid", timeout=60)
    wait_until(lambda: _outbox_empty(fleet.services), timeout=120)
    _no_overlapping_runs(fleet.services)
    _nothing_sent_twice(fleet.services)
    _notes_once(emulator)
    with fleet.services.db.session() as db:
        failed = db.scalar(select(func.count()).select_from(LedgerWrite).where(
            LedgerWrite.state == "failed"))
    assert failed == 0


def _running(fleet: Fleet) -> bool:
    with fleet.services.db.session() as db:
        return bool(db.scalar(select(func.count()).select_from(SyncRun).where(
            SyncRun.outcome == "running")))


def _workers_that_synced(services: Services) -> set[str]:
    with services.db.session() as db:
        return set(db.scalars(select(SyncRun.worker).where(SyncRun.outcome == "ok")))


def _outbox_empty(services: Services) -> bool:
    with services.db.session() as db:
        return not db.scalar(select(func.count()).select_from(LedgerWrite).where(
            LedgerWrite.state.in_(["pending", "sending"])))


def _status(services: Services, external_id: str) -> str | None:
    with services.db.session() as db:
        return db.scalar(select(Invoice.status).where(Invoice.external_id == external_id))


