"""SnelStart: API calls per polled sync next to the floor and a naive client.

Floor: one page of ``modifiedOn`` changes per feed (relations, invoices), plus one page per 500
changed invoices. Naive: re-listing every sales invoice (500 per page) and every relation on each
sync, as a client without watermarks must to find open amounts. Runs the emulator in this process
with its rate limit lifted, on a throw-away SQLite database.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench.syncs import call_rows, throwaway_services, timed_sync
from connector import connections
from connector.sync import sync_company
from providers.snelstart.emulator import DEMO_SUBSCRIPTION_KEY, SnelStartEmulator
from providers.snelstart.feed import PAGE, SWEEP_EVERY


def run(invoices: int) -> list[dict[str, Any]]:
    relations = max(invoices // 5, 20)
    emulator = SnelStartEmulator(seed=11, relations=relations, invoices=invoices)
    server = emulator.serve()
    services = throwaway_services(snelstart={
        "SNELSTART_BASE_URL": server.url, "SNELSTART_SUBSCRIPTION_KEY": DEMO_SUBSCRIPTION_KEY,
        "SNELSTART_RATE_LIMIT": 10**9})
    provider = services.providers.get("snelstart")
    grant = connections.create_grant(services, "snelstart",
                                     provider.exchange_key(emulator.key_for()))
    [company] = connections.connect_tenants(services, grant,
                                            connections.list_tenants(services, grant))
    open_ids = emulator.invoice_ids(open_only=True)
    rows: list[dict[str, Any]] = []

    def measure(label: str, changed: int) -> int:
        emulator.reset_calls()
        seconds = timed_sync(services, company)
        calls = emulator.count_calls(path_contains="/v2/")
        minimum = 1 + max(1, math.ceil(changed / PAGE))
        rows.extend(call_rows(f"snelstart {label}", calls, minimum, seconds))
        return calls

    # The first sync lists every relation and invoice: its floor is all pages of both.
    emulator.reset_calls()
    started = time.perf_counter()
    sync_company(services, company, trigger="bench")
    first = emulator.count_calls(path_contains="/v2/")
    floor = math.ceil((relations + relations // 6 + 1) / PAGE) + math.ceil((invoices + 1) / PAGE)
    rows.append({"measure": f"snelstart initial sync of {len(open_ids)} open ({invoices} "
                            "invoices): API calls", "value": first, "minimum": floor,
                 "ratio": first / floor, "ok": first <= floor + 1})
    rows.append({"measure": "snelstart initial sync: seconds",
                 "value": round(time.perf_counter() - started, 2)})
    unchanged = measure("unchanged", 0)
    changed = open_ids[: max(1, len(open_ids) // 100)]
    for invoice_id in changed:
        emulator.settle(invoice_id, Decimal("0.01"))
    measure("1% changed", len(changed))
    # Every six hours the sweep lists all invoices (open amounts a bank booking may change
    # without moving modifiedOn; deletions): its calls, spread over a day of 15-minute polls.
    provider.sweep_every = timedelta(0)
    emulator.reset_calls()
    sync_company(services, company, trigger="bench")
    sweep = emulator.count_calls(path_contains="/v2/")
    provider.sweep_every = SWEEP_EVERY
    rows.append({"measure": "snelstart sweep (every 6 h): API calls", "value": sweep,
                 "note": f"{(sweep - unchanged) * 4 / 96:.2f} extra calls per 15-minute poll"})
    naive = math.ceil(invoices / PAGE) + math.ceil((relations + relations // 6) / PAGE)
    rows.append({"measure": "snelstart naive client (re-list all invoices and relations): "
                            "calls per sync", "value": naive, "ratio": naive / max(unchanged, 1)})
    server.shutdown()
    services.db.dispose()
    return rows
