"""Moneybird: API calls per sync next to the theoretical minimum and a naive client.

Minimum (issue "Benchmarks"): the synchronization list plus one POST per 100 changed invoices.
Naive: re-listing every unpaid invoice with the plain list endpoint, 100 per page, each sync.
Runs the emulator in this process with its rate limit lifted, on a throw-away SQLite database.
"""

from __future__ import annotations

import math
import resource
import time
from decimal import Decimal
from typing import Any

import requests

from bench.syncs import call_rows, throwaway_services, timed_sync
from connector import connections
from connector.services import Services
from providers.base import TokenSet
from providers.moneybird.client import sync_period
from providers.moneybird.emulator import MoneybirdEmulator
from providers.moneybird.mapping import UNPAID_STATES

UNPAID = set(UNPAID_STATES)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _naive_calls(base: str, adm: str, token: str, today: Any) -> int:
    calls, url = 0, f"{base}/api/v2/{adm}/sales_invoices.json"
    params: dict[str, Any] | None = {
        "filter": f"state:{'|'.join(UNPAID_STATES)},period:{sync_period(today)}",
        "per_page": 100,
    }
    while url:
        response = requests.get(url, params=params, timeout=60,
                                headers={"Authorization": f"Bearer {token}"})
        calls += 1
        url = response.links.get("next", {}).get("url")
        params = None
    return calls


def connect(services: Services, emulator: MoneybirdEmulator) -> tuple[str, str, str]:
    """One company for the emulator's first administration (the webhook registration fails:
    fine for a bench): the company's id, the administration's and the access token."""
    adm = emulator.administration_ids()[0]
    access, refresh = emulator.issue_token([adm])
    grant = connections.create_grant(services, "moneybird", TokenSet(access, refresh, None))
    [company] = connections.connect_tenants(services, grant,
                                            connections.list_tenants(services, grant))
    return company, adm, access


def run(invoices: int) -> list[dict[str, Any]]:
    emulator = MoneybirdEmulator(seed=11, administrations=1, contacts=max(invoices // 5, 20),
                                 invoices=invoices, rate_limit=None)
    server = emulator.serve()
    services = throwaway_services(moneybird={"MONEYBIRD_BASE_URL": server.url})
    provider = services.providers.get("moneybird")
    provider.budget.limit = 10**9  # rate limits lifted for the bench
    company, adm, access = connect(services, emulator)
    unpaid = [i for i in emulator.invoices(adm) if i["state"] in UNPAID]
    rows: list[dict[str, Any]] = []

    def measure(label: str, changed: int) -> None:
        emulator.reset_calls()
        seconds = timed_sync(services, company)
        calls = emulator.count_calls(administration_id=adm)
        rows.extend(call_rows(label, calls, 1 + math.ceil(changed / 100), seconds))

    rss_before = _rss_mb()
    started = time.perf_counter()
    measure(f"initial sync of {len(unpaid)} unpaid ({invoices} invoices)", len(unpaid))
    elapsed = time.perf_counter() - started
    rate = len(unpaid) / elapsed
    rows.append({"measure": "initial sync: invoices per second", "value": round(rate),
                 "target": ">=2000", "ok": rate >= 2000})
    rows.append({"measure": "peak RSS growth during initial sync (MB, incl. emulator)",
                 "value": round(_rss_mb() - rss_before, 1)})
    unchanged_calls = None
    for share in (0.0, 0.01, 0.10):
        changed = unpaid[: int(len(unpaid) * share)]
        for invoice in changed:
            emulator.add_payment(adm, invoice["id"], Decimal("0.01"))
        measure(f"incremental, {share:.0%} changed", len(changed))
        if share == 0.0:
            unchanged_calls = rows[-2]["value"]
    rows.append({"measure": "unchanged administration: calls", "value": unchanged_calls,
                 "target": "<=2", "ok": unchanged_calls <= 2})
    naive = _naive_calls(server.url, adm, access, provider.today())
    rows.append({"measure": "naive client (list all unpaid, 100/page): calls per sync",
                 "value": naive, "ratio": naive / max(unchanged_calls, 1)})
    server.shutdown()
    services.db.dispose()
    return rows
