"""Payments first at Exact Online: a payment seen while a go-live backlog runs at 60 a minute.

The Moneybird scenario (bench.payments_first) with Exact's limit: 60 calls a minute per
division, enforced by the emulator, of which the connector uses 55. Time is scaled, the limit
is not: the emulator's clock runs ``SPEED`` times as fast, so its minute lasts ``WINDOW`` real
seconds, and the connector's shared minute budget (``EXACT_RATE_WINDOW``) is that long too.
Workers judge token age on the emulator's clock (bench.exact_clock_worker). A payment booked in
Exact reaches the app by Exact's signed webhook. Exact has no reminders of its own to pause.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from bench.payments_first import TARGET_CLOSE_SECONDS, GoLive, _own_database
from connector import connections, create_app, tokens
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.db import upgrade
from connector.services import Services
from providers.base import TokenSet
from providers.exact_online.emulator import ExactEmulator
from providers.exact_online.provider import MINUTELY_LIMIT

SPEED = 15  # the emulator's clock runs 15 times as fast: Exact's minute lasts 4 real seconds
WINDOW = 60 // SPEED  # real seconds
PLATFORM_LIMIT = 60  # Exact's own count per minute and division, enforced by the emulator
OUR_LIMIT = MINUTELY_LIMIT  # the connector's share (55)
DEBTORS = 150


def emulator_kwargs() -> dict[str, Any]:
    """One division with 150 debtors and no invoices yet, on a clock SPEED times as fast."""
    return {"divisions": 1, "accounts": DEBTORS + 20, "open_items": 0,
            "clock_speed": SPEED, "minutely_limit": PLATFORM_LIMIT}


class ExactGoLive(GoLive):
    """GoLive against the Exact emulator (its clock scaled, its limit not)."""

    platform_window = 60.0  # the emulator's call log runs on its own (fast) clock
    window = float(WINDOW)
    our_limit = OUR_LIMIT
    worker_command = ("bench.exact_clock_worker",)

    def __init__(self, database_url: str, emulator: ExactEmulator, tmp: Path) -> None:
        self.division = emulator.division_codes()[0]
        super().__init__(database_url, emulator, tmp)
        start = emulator._real_start
        self.env.update({"EXACT_ONLINE_BASE_URL": emulator.server.url,
                         "EXACT_RATE_WINDOW": str(WINDOW),
                         "EXACT_CLOCK_START": start.isoformat(),
                         "EXACT_CLOCK_SPEED": str(SPEED)})
        self.services.db.dispose()
        settings = self.services.settings.with_ledger(
            "exact_online", EXACT_ONLINE_BASE_URL=emulator.server.url, EXACT_RATE_WINDOW=WINDOW)
        self.services = Services.from_settings(settings)
        self.app = create_app(services=self.services)
        self._clock = tokens.clock
        tokens.clock = lambda: start + (datetime.now(start.tzinfo) - start) * SPEED

    def stop(self) -> None:
        super().stop()
        tokens.clock = self._clock

    def emulator_time(self, real: datetime) -> datetime:
        """A real moment on the emulator's clock (its call log and notes use that clock)."""
        start = self.emulator._real_start
        return start + (real - start) * SPEED

    def tenant_id(self) -> str:
        return str(self.division)

    def debtors(self) -> list[dict[str, Any]]:
        return [a for a in self.emulator.accounts(self.division) if a["IsSales"]][:DEBTORS]

    def debtor_count(self) -> int:
        return DEBTORS

    def go_live(self, per_contact: int = 2) -> str:
        today = today_nl()
        for account in self.debtors():
            for n in range(per_contact):
                due = today - timedelta(days=20 + n)
                self.emulator.create_item(self.division, account["ID"], Decimal("121.00") + n,
                                          due, invoice_date=due - timedelta(days=14))
        access, refresh = self.emulator.issue_token()
        grant = connections.create_grant(self.services, "exact_online",
                                         TokenSet(access, refresh, 600), region="nl")
        tenants = connections.list_tenants(self.services, grant)
        chosen = [t for t in tenants if t.id == self.adm]
        [self.company_id] = connections.connect_tenants(self.services, grant, chosen)
        with self.services.db.session() as db:
            settings = settings_for(db, self.company_id)
            settings.sender = {"name": "Zoet B.V.", "iban": "NL91ABNA0417164300"}
            settings.live = True
        return self.company_id

    def pay(self, external_id: str) -> None:
        self.emulator.pay_item(self.division, external_id)  # Exact sends the webhook

    def api_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.emulator.calls if c["path"].startswith("/api/v1/")]



def run() -> list[dict[str, Any]]:
    """The scenario on PostgreSQL (two workers) or SQLite (one), as bench rows."""
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
    emulator = ExactEmulator(seed=7, **emulator_kwargs())
    emulator.serve()
    scenario = ExactGoLive(url, emulator, tmp)
    try:
        m = scenario.run(workers, cases=300)
    finally:
        scenario.stop()
        emulator.server.shutdown()
        drop()
    limit_note = (f"Exact's {PLATFORM_LIMIT}/min on an emulator clock {SPEED}x as fast "
                  f"({PLATFORM_LIMIT}/{WINDOW} s), enforced (not lifted); {workers} worker(s)")
    return [
        {"measure": "payments first (Exact): payment -> case closed, 300-case go-live (s)",
         "value": round(m["close_seconds"], 2), "target": f"<={TARGET_CLOSE_SECONDS}",
         "ok": m["close_seconds"] <= TARGET_CLOSE_SECONDS,
         "note": f"{m['backlog_left_at_payment']} sends still due at the payment; "
                 + limit_note},
        {"measure": "payments first (Exact): 300-case backlog complete (s, scaled time)",
         "value": round(m["seconds"]), "minimum": round(m["floor"]),
         "ratio": round(m["seconds"] / m["floor"], 2),
         "note": f"{m['calls']} calls ÷ {OUR_LIMIT} × {WINDOW} s = floor; each second here is "
                 f"{SPEED} s at Exact's real minute"},
        {"measure": "payments first (Exact): busiest minute (calls, limit 60)",
         "value": m["busiest"], "target": f"<={OUR_LIMIT}",
         "ok": m["busiest"] <= OUR_LIMIT and not m["refused"],
         "note": f"{m['refused']} refused (429) by the emulator"},
    ]
