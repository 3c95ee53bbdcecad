"""Payments first, with real `connector worker` processes on PostgreSQL against the emulator.

A company goes live with a 300-case backlog at Moneybird's own limit, scaled in time only
(150 calls per 5 s instead of per 5 minutes; the emulator enforces it). While the backlog is
sent, an invoice whose step was just sent is paid; the webhook reaches the app and the case must
close within seconds, with nothing stale written after it, while the backlog still finishes at
the pace the limit allows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from connector import connections, create_app
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.config import Settings
from connector.models import Case, Delivery, DeliveryCase, Invoice, LedgerWrite, utcnow
from connector.services import Services
from providers.base import TokenSet
from tests.conftest import PG_URL
from tests.helpers import wait_until
from tests.test_worker_processes import pg  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")

WINDOW = 5  # seconds, for Moneybird's 300: time runs 60 times faster
PLATFORM_LIMIT = 150  # Moneybird's own count per window, enforced by the emulator
OUR_LIMIT = 140  # the connector's share (MONEYBIRD_RATE_LIMIT's default)


def busiest_window(times: list, window: float) -> int:
    times = sorted(times)
    span = timedelta(seconds=window)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - span:
            start += 1
        best = max(best, end - start + 1)
    return best


class Backlog:
    """One live company with 300 overdue invoices, served by real worker processes."""

    def __init__(self, database_url: str, emulator, live_server, tmp: Path) -> None:
        self.emulator, self.tmp = emulator, tmp
        self.adm = emulator.administration_ids()[0]
        key = Fernet.generate_key().decode()
        env = {"DATABASE_URL": database_url, "TOKEN_ENCRYPTION_KEYS": key,
               "SECRET_KEY": "test-secret", "PUBLIC_URL": live_server.url,
               "MONEYBIRD_BASE_URL": emulator.server.url,
               "MONEYBIRD_RATE_LIMIT": str(OUR_LIMIT), "MONEYBIRD_RATE_WINDOW": str(WINDOW),
               "ENGINE_INTERVAL_SECONDS": "1", "LEASE_SECONDS": "20"}
        self.env = {**os.environ, **env}
        self.services = Services.from_settings(Settings(
            database_url=database_url, token_encryption_keys=(key,), secret_key="test-secret",
            public_url=live_server.url, moneybird_base_url=emulator.server.url,
            moneybird_rate_limit=OUR_LIMIT, moneybird_rate_window=WINDOW))
        live_server.app = create_app(services=self.services)  # receives the webhooks
        self.processes: list[subprocess.Popen] = []

    def go_live(self, per_contact: int) -> str:
        today = today_nl()
        for contact in self.emulator.contacts(self.adm):
            for n in range(per_contact):
                due = today - timedelta(days=20 + n)
                self.emulator.create_invoice(self.adm, contact["id"], Decimal("121.00") + n,
                                             due, invoice_date=due - timedelta(days=14))
        access, refresh = self.emulator.issue_token()
        grant = connections.create_grant(self.services, "moneybird",
                                         TokenSet(access, refresh, None))
        tenants = connections.list_tenants(self.services, grant)
        [company_id] = connections.connect_tenants(self.services, grant, tenants)
        with self.services.db.session() as db:
            settings = settings_for(db, company_id)
            settings.sender = {"name": "Zoet B.V.", "iban": "NL91ABNA0417164300"}
            settings.live = True
        return company_id

    def start(self, count: int) -> None:
        for _ in range(count):
            log = open(self.tmp / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "connector.cli", "worker"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.services.db.dispose()

    def describe(self) -> str:
        """Where the backlog stands, for a failure message."""
        with self.services.db.session() as db:
            deliveries = db.execute(select(Delivery.state, func.count()).group_by(
                Delivery.state)).all()
            writes = db.execute(select(LedgerWrite.kind, LedgerWrite.state, func.count())
                                .group_by(LedgerWrite.kind, LedgerWrite.state)).all()
            errors = db.execute(select(LedgerWrite.last_error, LedgerWrite.next_attempt_at)
                                .where(LedgerWrite.state == "pending").limit(5)).all()
            due = db.execute(select(Delivery.due_on, Delivery.skip_reason).where(
                Delivery.state == "planned").limit(5)).all()
        return (f"deliveries {deliveries}; writes {writes}; errors {errors}; planned {due}; "
                f"now {utcnow()}")

    def count(self, query) -> int:
        with self.services.db.session() as db:
            return db.scalar(query) or 0


@pytest.fixture
def backlog(pg, make_moneybird_emulator, live_server, tmp_path):  # noqa: F811
    emulator = make_moneybird_emulator(administrations=1, contacts=150, invoices=0,
                                       rate_limit=PLATFORM_LIMIT, rate_window=WINDOW)
    world = Backlog(pg, emulator, live_server, tmp_path)
    yield world
    world.stop()


def _sent_for(services: Services, invoice_id: str) -> list[Delivery]:
    with services.db.session() as db:
        return list(db.scalars(select(Delivery).join(DeliveryCase).join(Case).where(
            Case.invoice_id == invoice_id, Delivery.state == "sent")))


def test_a_payment_closes_its_case_within_seconds_while_300_cases_go_live(backlog):
    company_id = backlog.go_live(per_contact=2)
    backlog.emulator.reset_calls()
    started = time.monotonic()
    backlog.start(2)
    sent = select(func.count()).select_from(Delivery).where(Delivery.state == "sent")
    # Due today; the next steps (the letter a week later) are planned too and wait their day.
    planned = select(func.count()).select_from(Delivery).where(
        Delivery.state == "planned", Delivery.due_on <= today_nl())
    wait_until(lambda: backlog.count(select(func.count()).select_from(Case)) == 300, timeout=60)
    wait_until(lambda: backlog.count(sent) >= 20, timeout=90)
    assert backlog.count(planned) >= 60, "the backlog must still be going"

    # The invoice of the step that went out last is paid in the ledger.
    with backlog.services.db.session() as db:
        last = db.scalars(select(Delivery).where(Delivery.state == "sent")
                          .order_by(Delivery.sent_at.desc()).limit(1)).one()
        case = last.cases[0].case
        invoice_id, external_id, case_id = case.invoice_id, case.invoice.external_id, case.id
    paid_at = utcnow()
    backlog.emulator.mark_paid(backlog.adm, external_id)  # the emulator sends the webhook

    def closed() -> bool:
        with backlog.services.db.session() as db:
            return db.get(Case, case_id).state == "closed"

    wait_until(closed, timeout=30, step=0.1)
    with backlog.services.db.session() as db:
        closed_at = db.get(Case, case_id).closed_at
    assert (closed_at - paid_at).total_seconds() <= 5, closed_at - paid_at

    # The whole backlog goes out and every write reaches the ledger.
    def done() -> bool:
        return not backlog.count(planned) and not backlog.count(
            select(func.count()).select_from(LedgerWrite).where(
                LedgerWrite.state.in_(["pending", "sending"])))

    try:
        wait_until(done, timeout=300, step=0.5)
    except AssertionError:
        raise AssertionError(backlog.describe()) from None
    took = time.monotonic() - started

    # Nothing about the paid invoice went out after the payment but its closing note.
    assert all(d.sent_at < paid_at for d in _sent_for(backlog.services, invoice_id))
    # From the moment the connector knew (the case closed): no pause, one note, the closing
    # one. (A write already on the wire in the seconds between the payment and the webhook's
    # sync may land; a pause that did is lifted.)
    after = [c for c in backlog.emulator.calls if c["at"] > closed_at
             and external_id in c["path"] and c["method"] != "GET"]
    writes = [c["path"].rsplit("/", 1)[-1] for c in after]
    writes_since_payment = [c["path"].rsplit("/", 1)[-1] for c in backlog.emulator.calls
                            if c["at"] > paid_at and external_id in c["path"]]
    notes = [n["note"] for n in backlog.emulator.notes(backlog.adm, external_id)]
    assert all("pause" not in w for w in writes), writes
    assert sum("notes" in w for w in writes) == 1, (writes, notes)
    closing = [n for n in notes if "Pre-incasso beëindigd: factuur betaald" in n]
    assert len(closing) == 1
    assert not [n for n in notes if "; openstaand" in n and notes.index(n) > notes.index(
        closing[0])], notes
    assert backlog.emulator.invoice(backlog.adm, external_id)["paused"] is False

    # At the limit, never over it: the emulator never had to refuse, no window over its count.
    api = [c for c in backlog.emulator.calls if "/api/v2/" in c["path"]]
    assert not [c for c in api if c["status"] == 429]
    busiest = busiest_window([c["at"] for c in api], WINDOW)
    assert busiest <= OUR_LIMIT < PLATFORM_LIMIT
    floor = len(api) / OUR_LIMIT * WINDOW
    print(f"\nwrites after the payment {writes_since_payment}; notes {notes}")
    print(f"\npayment -> case closed {(closed_at - paid_at).total_seconds():.2f} s; "
          f"{len(api)} calls in {took:.0f} s (floor {floor:.0f} s); busiest window {busiest}")
    assert took <= 2 * floor + 60
    with backlog.services.db.session() as db:
        open_invoices = db.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.company_id == company_id, Invoice.status == "open"))
    assert open_invoices == 299
