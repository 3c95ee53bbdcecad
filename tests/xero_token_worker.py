"""One of several processes hammering one Xero connection (see test_xero_concurrency).

Runs on the emulator's accelerated clock, so 30-minute token lifetimes pass in seconds; paced
to stay under Xero's per-organisation limits on that clock; prints a JSON summary last.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from connector import tokens
from connector.config import Settings
from connector.models import Company
from connector.services import Services
from providers.base import LedgerError
from providers.http import RateBudget
from providers.xero.api import XeroBudgets


def main(config: dict) -> dict:
    real_start = datetime.fromisoformat(config["real_start"])
    speed = float(config["speed"])
    tokens.clock = lambda: real_start + (datetime.now(UTC) - real_start) * speed
    settings = Settings(database_url=config["database_url"],
                        token_encryption_keys=(config["key"],)).with_ledger(
        "xero", XERO_BASE_URL=config["xero_url"])
    services = Services.from_settings(settings)
    # Our own budget on the real clock would be the bottleneck here; the pause below keeps
    # the four processes under Xero's limits on the emulator's clock.
    services.providers.get("xero").budgets = XeroBudgets(RateBudget(10**6, 60),
                                                         RateBudget(10**6, 60))
    with services.db.session() as session:
        ledger = services.ledger_for(session.get(Company, config["company_id"]))
    calls, failures = 0, []
    deadline = time.monotonic() + float(config["seconds"])
    while time.monotonic() < deadline:
        try:
            ledger.invoice(config["invoice_id"])
            calls += 1
        except LedgerError as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        time.sleep(float(config["pause"]))
    return {"calls": calls, "failures": failures[:5], "failed": len(failures)}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
