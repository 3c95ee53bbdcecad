"""Payments first at Exact Online: a payment seen while a go-live backlog runs at 60 a minute.

The Moneybird scenario (bench.payments_first) with Exact's limit: 60 calls a minute per
division, enforced by the emulator, of which the connector uses 55. Time is scaled, the limit
is not: the emulator's clock runs ``SPEED`` times as fast, so its minute lasts ``WINDOW`` real
seconds, and the connector's shared minute budget (``EXACT_RATE_WINDOW``) is that long too.
Workers judge token age on the emulator's clock (bench.exact_clock_worker). A payment booked in
Exact reaches the app by Exact's signed webhook. Exact has no reminders of its own to pause.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.payments_first import GoLive, report, run_go_live
from connector import tokens
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
    ledger_key = "exact_online"
    token_expires_in = 600
    region = "nl"

    def __init__(self, database_url: str, emulator: ExactEmulator, tmp: Path) -> None:
        self.division = emulator.division_codes()[0]
        super().__init__(database_url, emulator, tmp)
        start = emulator._real_start
        self.env.update({"EXACT_CLOCK_START": start.isoformat(),
                         "EXACT_CLOCK_SPEED": str(SPEED)})
        self._clock = tokens.clock
        tokens.clock = lambda: start + (datetime.now(start.tzinfo) - start) * SPEED

    def ledger_settings(self) -> dict[str, object]:
        return {"EXACT_ONLINE_BASE_URL": self.emulator.server.url, "EXACT_RATE_WINDOW": WINDOW}

    def stop(self) -> None:
        super().stop()
        tokens.clock = self._clock

    def emulator_time(self, real: datetime) -> datetime:
        """A real moment on the emulator's clock (its call log and notes use that clock)."""
        start = self.emulator._real_start
        return start + (real - start) * SPEED

    def tenant_id(self) -> str:
        return str(self.division)

    def debtor_ids(self) -> list[str]:
        return [a["ID"] for a in self.emulator.accounts(self.division) if a["IsSales"]][:DEBTORS]

    def add_invoice(self, debtor: str, amount: Decimal, due: date, invoice_date: date) -> None:
        self.emulator.create_item(self.division, debtor, amount, due, invoice_date=invoice_date)

    def pay(self, external_id: str) -> None:
        self.emulator.pay_item(self.division, external_id)  # Exact sends the webhook

    def api_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.emulator.calls if c["path"].startswith("/api/v1/")]


def run() -> list[dict[str, Any]]:
    """The scenario on PostgreSQL (two workers) or SQLite (one), as bench rows."""
    m, workers = run_go_live(lambda: ExactEmulator(seed=7, **emulator_kwargs()), ExactGoLive)
    return report(
        m, name="payments first (Exact)", busiest="busiest minute (calls, limit 60)",
        busiest_limit=OUR_LIMIT,
        limit_note=f"Exact's {PLATFORM_LIMIT}/min on an emulator clock {SPEED}x as fast "
                   f"({PLATFORM_LIMIT}/{WINDOW} s), enforced (not lifted); {workers} worker(s)",
        floor_note=f"{m['calls']} calls ÷ {OUR_LIMIT} × {WINDOW} s = floor; each second here is "
                   f"{SPEED} s at Exact's real minute")
