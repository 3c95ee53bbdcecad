"""Payments first: a payment seen while a go-live backlog is sent at the platform's limit.

One Moneybird administration goes live with 300 overdue invoices (150 debtors); real
``connector worker`` processes send the backlog while the emulator enforces Moneybird's own
limit (150 calls per window), **scaled in time only**: the window is 5 s instead of 300 s, so
the run takes a minute or two instead of an hour. No limit is lifted. When the first steps
are out, the invoice of the step sent last is paid in the emulator; its webhook reaches the app
and the case must close within 5 s. Then the backlog runs to its end.

Floor of the backlog: every API call it made ÷ the connector's share of the limit × window.
PostgreSQL (``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL``) runs two workers; without it a
throw-away SQLite file serves one worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from connector import connections, create_app
from connector.budgets import Lane, ceiling
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.config import Settings
from connector.db import upgrade
from connector.models import Case, Delivery, LedgerWrite, utcnow
from connector.services import Services
from providers.base import TokenSet
from providers.moneybird.emulator import MoneybirdEmulator

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 5  # seconds, for Moneybird's 300: time runs 60 times faster
PLATFORM_LIMIT = 150  # Moneybird's own count per window, enforced by the emulator
OUR_LIMIT = 140  # the connector's share (MONEYBIRD_RATE_LIMIT's default)
TARGET_CLOSE_SECONDS = 5
SEND_SHARE = ceiling(OUR_LIMIT, Lane.SEND)
SECRET = "bench-only-secret"  # noqa: S105 - a throw-away app on loopback


def busiest_window(times: list[datetime], window: float) -> int:
    """The most calls in any ``window`` seconds (a sliding window over the call log)."""
    times = sorted(times)
    span = timedelta(seconds=window)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - span:
            start += 1
        best = max(best, end - start + 1)
    return best


class GoLive:
    """One live company with a backlog, its webhooks served, worked by real worker processes."""

    def __init__(self, database_url: str, emulator: MoneybirdEmulator, tmp: Path) -> None:
        self.emulator, self.tmp = emulator, tmp
        self.adm = self.tenant_id()
        self.http = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()
        key = Fernet.generate_key().decode()
        ledger = self.ledger_settings()
        self.env = {**os.environ, "DATABASE_URL": database_url, "TOKEN_ENCRYPTION_KEYS": key,
                    "SECRET_KEY": SECRET, "PUBLIC_URL": self.url,
                    **{name: str(value) for name, value in ledger.items()},
                    # The engine's and outbox's pace scaled with the window.
                    "ENGINE_INTERVAL_SECONDS": "1", "OUTBOX_INTERVAL_SECONDS": "0.5",
                    "LEASE_SECONDS": "20"}
        self.services = Services.from_settings(Settings(
            database_url=database_url, token_encryption_keys=(key,), secret_key=SECRET,
            public_url=self.url).with_ledger(self.ledger_key, **ledger))
        self.app = create_app(services=self.services)  # receives the platform's webhooks
        self.processes: list[subprocess.Popen] = []
        self.company_id = ""

    def _dispatch(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)

    def go_live(self, per_contact: int = 2) -> str:
        """Overdue invoices for every debtor, the grant, the company connected and live."""
        today = today_nl()
        for debtor in self.debtor_ids():
            for n in range(per_contact):
                due = today - timedelta(days=20 + n)
                self.add_invoice(debtor, Decimal("121.00") + n, due, due - timedelta(days=14))
        access, refresh = self.emulator.issue_token()
        grant = connections.create_grant(self.services, self.ledger_key,
                                         TokenSet(access, refresh, self.token_expires_in),
                                         region=self.region)
        tenants = connections.list_tenants(self.services, grant)
        chosen = [t for t in tenants if t.id == self.adm]
        [self.company_id] = connections.connect_tenants(self.services, grant, chosen)
        with self.services.db.session() as db:
            settings = settings_for(db, self.company_id)
            settings.sender = {"name": "Zoet B.V.", "iban": "NL91ABNA0417164300"}
            settings.live = True
        return self.company_id

    def start(self, count: int) -> None:
        for _ in range(count):
            log = open(self.tmp / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            self.processes.append(subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", *self.worker_command], cwd=ROOT, env=self.env,
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
        self.http.shutdown()
        self.services.db.dispose()

    def count(self, query: Any) -> int:
        with self.services.db.session() as db:
            return db.scalar(query) or 0

    def due(self) -> int:
        """Sends due today and not made yet (the next steps wait for their own day)."""
        return self.count(select(func.count()).select_from(Delivery).where(
            Delivery.state == "planned", Delivery.due_on <= today_nl()))

    def sent(self) -> int:
        return self.count(select(func.count()).select_from(Delivery).where(
            Delivery.state == "sent"))

    def writes_waiting(self) -> int:
        return self.count(select(func.count()).select_from(LedgerWrite).where(
            LedgerWrite.state.in_(["pending", "sending"])))

    def describe(self) -> str:
        """Where the backlog stands, for a failure message."""
        with self.services.db.session() as db:
            deliveries = db.execute(select(Delivery.state, func.count()).group_by(
                Delivery.state)).all()
            writes = db.execute(select(LedgerWrite.kind, LedgerWrite.state, func.count())
                                .group_by(LedgerWrite.kind, LedgerWrite.state)).all()
        return f"deliveries {deliveries}; writes {writes}; now {utcnow()}"

    def run(self, workers: int, cases: int, timeout: float = 300) -> dict[str, Any]:
        """Go live, pay the invoice of the step sent last while the backlog runs, measure."""
        self.go_live(per_contact=cases // self.debtor_count())
        self.emulator.reset_calls()
        started = time.monotonic()
        self.start(workers)
        _wait(lambda: self.count(select(func.count()).select_from(Case)) == cases, 60, self)
        _wait(lambda: self.sent() >= 20, 90, self)
        backlog_left = self.due()
        with self.services.db.session() as db:
            last = db.scalars(select(Delivery).where(Delivery.state == "sent")
                              .order_by(Delivery.sent_at.desc()).limit(1)).one()
            case = last.cases[0].case
            invoice_id, external_id, case_id = case.invoice_id, case.invoice.external_id, case.id
        paid_at = utcnow()
        self.pay(external_id)  # the emulator sends the webhook

        def closed() -> bool:
            with self.services.db.session() as db:
                return db.get(Case, case_id).state == "closed"

        _wait(closed, 30, self, step=0.1)
        with self.services.db.session() as db:
            closed_at = db.get(Case, case_id).closed_at
        _wait(lambda: not self.due() and not self.writes_waiting(), timeout, self, step=0.5)
        took = time.monotonic() - started
        api = self.api_calls()
        return {
            "invoice_id": invoice_id, "external_id": external_id, "paid_at": paid_at,
            "closed_at": closed_at, "close_seconds": (closed_at - paid_at).total_seconds(),
            "backlog_left_at_payment": backlog_left, "seconds": took, "calls": len(api),
            "refused": sum(1 for c in api if c["status"] == 429),
            "busiest": busiest_window([c["at"] for c in api], self.platform_window),
            "floor": len(api) / self.our_limit * self.window,
        }

    # What differs per platform (ExactGoLive in bench.payments_first_exact overrides these).
    platform_window: float = WINDOW  # the window on the platform's own clock (its call log's)
    window: float = WINDOW  # the same window in real seconds
    our_limit: int = OUR_LIMIT

    worker_command: tuple[str, ...] = ("connector.cli", "worker")
    ledger_key = "moneybird"
    token_expires_in: int | None = None
    region: str | None = None

    def ledger_settings(self) -> dict[str, object]:
        """The plug-in's settings for the app and the workers: the emulator and the budget."""
        return {"MONEYBIRD_BASE_URL": self.emulator.server.url,
                "MONEYBIRD_RATE_LIMIT": OUR_LIMIT, "MONEYBIRD_RATE_WINDOW": WINDOW}

    def tenant_id(self) -> str:
        return self.emulator.administration_ids()[0]

    def debtor_ids(self) -> list[str]:
        return [contact["id"] for contact in self.emulator.contacts(self.adm)]

    def debtor_count(self) -> int:
        return len(self.debtor_ids())

    def add_invoice(self, debtor: str, amount: Decimal, due: date, invoice_date: date) -> None:
        self.emulator.create_invoice(self.adm, debtor, amount, due, invoice_date=invoice_date)

    def pay(self, external_id: str) -> None:
        self.emulator.mark_paid(self.adm, external_id)

    def api_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.emulator.calls if "/api/v2/" in c["path"]]


def _wait(condition: Any, timeout: float, scenario: GoLive, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {scenario.describe()}")
        time.sleep(step)


def _own_database(server_url: str) -> tuple[str, Any]:
    """A database of the bench's own on the PostgreSQL server, migrated; and its dropper."""
    url = make_url(server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"connector_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    own = url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return own, drop


def run_go_live(make_emulator: Callable[[], Any], scenario: type[GoLive]
                ) -> tuple[dict[str, Any], int]:
    """Serve a fresh emulator and run ``scenario`` with 300 cases on PostgreSQL (two workers,
    ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL``) or SQLite (one): its measures and the
    number of workers."""
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    tmp = Path(tempfile.mkdtemp())
    if server:
        url, drop = _own_database(server)
        workers = 2
    else:
        url, drop, workers = f"sqlite:///{tmp / 'bench.sqlite3'}", (lambda: None), 1
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    emulator = make_emulator()
    emulator.serve()
    go_live = scenario(url, emulator, tmp)
    try:
        return go_live.run(workers, cases=300), workers
    finally:
        go_live.stop()
        emulator.server.shutdown()
        drop()


def report(m: dict[str, Any], *, name: str, limit_note: str, floor_note: str, busiest: str,
           busiest_limit: int) -> list[dict[str, Any]]:
    """The bench rows of one run: time to close the paid case, the backlog against its
    floor, and the busiest window against the limit."""
    return [
        {"measure": f"{name}: payment -> case closed, 300-case go-live (s)",
         "value": round(m["close_seconds"], 2), "target": f"<={TARGET_CLOSE_SECONDS}",
         "ok": m["close_seconds"] <= TARGET_CLOSE_SECONDS,
         "note": f"{m['backlog_left_at_payment']} sends still due at the payment; "
                 + limit_note},
        {"measure": f"{name}: 300-case backlog complete (s, scaled time)",
         "value": round(m["seconds"]), "minimum": round(m["floor"]),
         "ratio": round(m["seconds"] / m["floor"], 2), "note": floor_note},
        {"measure": f"{name}: {busiest}",
         "value": m["busiest"], "target": f"<={busiest_limit}",
         "ok": m["busiest"] <= busiest_limit and not m["refused"],
         "note": f"{m['refused']} refused (429) by the emulator"},
    ]


def run() -> list[dict[str, Any]]:
    m, workers = run_go_live(
        lambda: MoneybirdEmulator(seed=7, administrations=1, contacts=150, invoices=0,
                                  rate_limit=PLATFORM_LIMIT, rate_window=WINDOW), GoLive)
    return report(
        m, name="payments first", busiest="busiest window (calls, limit 150)",
        busiest_limit=PLATFORM_LIMIT,
        limit_note=f"Moneybird's {PLATFORM_LIMIT}/5 min scaled in time to {PLATFORM_LIMIT}/"
                   f"{WINDOW} s, enforced by the emulator (not lifted); {workers} worker(s), "
                   f"{'PostgreSQL' if workers > 1 else 'SQLite'}",
        floor_note=f"{m['calls']} calls ÷ {OUR_LIMIT} × {WINDOW} s = floor; sends get lane 4 "
                   f"({SEND_SHARE} of {OUR_LIMIT} a window, floor at that pace "
                   f"{m['calls'] / SEND_SHARE * WINDOW:.0f} s), the rest stays free for payment "
                   "checks and syncs; at Moneybird's real window each second here is a minute")
