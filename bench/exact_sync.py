"""Exact Online: API calls per sync next to the theoretical minimum and a naive client.

Minimum, initial sync: the open receivables first (``bulk/Cashflow/Receivables``), then every
row set the mirror needs, read through the sync endpoints at 1,000 rows a page (an empty feed
still costs one call): the receivables sync
(``sync/Cashflow/PaymentTerms``; it cannot be filtered, so it also carries settled and payable
terms), accounts, addresses and contacts, + 1 call to fix the deletions watermark. The strict
minimum (pages of the open receivables alone) is shown as a separate row.
Minimum, incremental sync with k changed items: ceil(k / 1,000) (at least 1) payment-term pages
+ 1 accounts + 1 deletions: the three change feeds that must be asked, at one page each.
Naive: re-listing every open item through ``read/financial/ReceivablesList`` (60 rows a page,
following ``__next``) on every sync.
Runs the emulator in this process with its rate limits lifted, on a throw-away SQLite database.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

import requests

from bench.syncs import call_rows, throwaway_services, timed_sync
from connector import connections
from connector.services import Services
from providers.base import TokenSet
from providers.exact_online.emulator import ExactEmulator
from providers.http import Budgets, RateBudget

PAGE = 1000
NAIVE_PAGE = 60
TARGET_RATIO = 1.05
UNCHANGED_TARGET = 3


def pages(rows: int, size: int = PAGE) -> int:
    """Calls to read ``rows`` rows at ``size`` a page; an empty answer still costs one call."""
    return max(1, math.ceil(rows / size))


def make_services(exact_url: str | None = None,
                  moneybird_url: str = "http://127.0.0.1:9") -> Services:
    """Services on a throw-away database with both platforms' shared budgets lifted."""
    services = throwaway_services(
        exact_online={"EXACT_ONLINE_BASE_URL": exact_url},
        moneybird={"MONEYBIRD_BASE_URL": moneybird_url, "MONEYBIRD_RATE_LIMIT": 10**9})
    services.providers.get("exact_online").budgets = Budgets(RateBudget(10**9, 60))
    services.providers.get("moneybird").budget.limit = 10**9
    return services


def connect(services: Services, access: str, refresh: str, division: int) -> str:
    """One company for ``division`` (webhook registration may fail: fine for a bench)."""
    grant = connections.create_grant(services, "exact_online", TokenSet(access, refresh, 600),
                                     region="nl")
    tenants = [t for t in connections.list_tenants(services, grant) if t.id == str(division)]
    [company_id] = connections.connect_tenants(services, grant, tenants)
    return company_id


def naive_calls(base: str, division: int, token: str) -> int:
    """A client that re-lists all open items at 60 a page, as the old REST samples do."""
    calls = 0
    url: str | None = f"{base}/api/v1/{division}/read/financial/ReceivablesList"
    session = requests.Session()
    while url:
        response = session.get(url, timeout=120, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json"})
        response.raise_for_status()
        calls += 1
        url = response.json()["d"].get("__next")
    return calls


def run(invoices: int) -> list[dict[str, Any]]:
    emulator = ExactEmulator(seed=11, divisions=1, accounts=max(invoices // 5, 20),
                             open_items=invoices, minutely_limit=10**9, daily_limit=10**9)
    server = emulator.serve()
    services = make_services(server.url)
    division = emulator.division_codes()[0]
    access, refresh = emulator.issue_token()
    company = connect(services, access, refresh, division)
    open_items = emulator.open_items(division)
    rows: list[dict[str, Any]] = []

    def measure(label: str, minimum: int) -> int:
        emulator.reset_calls()
        seconds = timed_sync(services, company)
        calls = emulator.count_calls(division=division)
        rows.extend(call_rows(label, calls, minimum, seconds, TARGET_RATIO))
        return calls

    terms = len(emulator._div(division)["items"])  # every row the feed returns
    # Open items first: their bulk pages, and the accounts once more to join addresses and
    # contacts, come on top of the feeds (the price of the first cases in seconds).
    initial_minimum = (pages(terms) + 2 * pages(len(emulator.accounts(division)))
                       + pages(len(emulator.addresses(division)))
                       + pages(len(emulator.contacts(division))) + 1
                       + pages(len(open_items)))
    started = time.perf_counter()
    initial = measure(f"exact initial sync of {len(open_items)} open items", initial_minimum)
    rate = len(open_items) / (time.perf_counter() - started)
    strict = pages(len(open_items))
    rows.append({"measure": "exact initial sync vs receivables pages only", "value": initial,
                 "minimum": strict, "ratio": initial / strict,
                 "note": f"open items only; the terms feed holds {terms} rows, and accounts, "
                         "addresses, contacts and deletions come on top"})
    rows.append({"measure": "exact initial sync: invoices per second", "value": round(rate),
                 "target": ">=2000", "ok": rate >= 2000,
                 "note": "emulator in this process (shares the GIL)"})

    unchanged_calls = None
    sync_calls: list[int] = []
    for share in (0.0, 0.01, 0.10):
        changed = open_items[: int(len(open_items) * share)]
        for item in changed:
            emulator.pay_item(division, item["ID"], Decimal("0.01"))
        calls = measure(f"exact incremental, {share:.0%} changed", pages(len(changed)) + 2)
        sync_calls.append(calls)
        if share == 0.0:
            unchanged_calls = calls
    assert unchanged_calls is not None
    rows.append({"measure": "exact unchanged division: calls", "value": unchanged_calls,
                 "target": f"<={UNCHANGED_TARGET}", "ok": unchanged_calls <= UNCHANGED_TARGET})
    started = time.perf_counter()
    naive = naive_calls(server.url, division, access)
    naive_seconds = time.perf_counter() - started
    rows.append({"measure": "exact naive client (ReceivablesList, 60/page): calls per sync",
                 "value": naive, "minimum": strict, "ratio": naive / strict,
                 "note": f"{naive / max(unchanged_calls, 1):.0f}x the connector's unchanged "
                         f"sync, {naive / max(sync_calls[-1], 1):.0f}x its 10% sync; "
                         f"{naive_seconds:.1f} s"})
    server.shutdown()
    services.db.dispose()
    return rows


if __name__ == "__main__":
    for row in run(10_000):
        print(row)
