"""One of several processes hammering one Exact Online connection (see test_exact_concurrency).

Runs with the emulator's accelerated clock, so token lifetimes pass in seconds; prints a JSON
summary on its last line.
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
from providers.http import Budgets, RateBudget


def main(config: dict) -> dict:
    real_start = datetime.fromisoformat(config["real_start"])
    speed = float(config["speed"])
    tokens.clock = lambda: real_start + (datetime.now(UTC) - real_start) * speed
    settings = Settings(database_url=config["database_url"],
                        token_encryption_keys=(config["key"],)).with_ledger(
        "exact_online", EXACT_ONLINE_BASE_URL=config["exact_url"])
    services = Services.from_settings(settings)
    services.providers.get("exact_online").budgets = Budgets(RateBudget(10**6, 60))
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
        time.sleep(0.003)
    return {"calls": calls, "failures": failures[:5], "failed": len(failures)}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
