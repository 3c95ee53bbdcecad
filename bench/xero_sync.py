"""Xero: API calls per sync next to the floor and a naive client.

Floor of a first sync: every page of contacts and of open sales invoices (100 a page), plus the
online-invoice link the provider fetches for each due open invoice (Xero has no bulk call for
it). Floor of a later sync: one page per feed, plus one page per 100 changed invoices. Naive:
re-listing every ACCREC invoice page and every contact page on each sync. Runs the emulator in
this process with its rate limits lifted (its constructor's limits, and the provider's budgets
replaced in-process, as bench/exact_sync.py does), on a throw-away SQLite database.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import func, select

from bench.syncs import call_rows, throwaway_services, timed_sync
from connector import connections
from connector.models import Invoice
from providers.base import TokenSet
from providers.http import RateBudget
from providers.xero.api import XeroBudgets
from providers.xero.client import LINKS_PER_PAGE, PAGE_SIZE
from providers.xero.emulator import XeroEmulator
from providers.xero.provider import DAY_LIMIT, MINUTE_LIMIT, XeroProvider

REDIRECT_URI = "http://127.0.0.1:9/callback"
HIDDEN = re.compile(r'<input type="hidden" name="([\w-]+)"(?: id="[\w-]+")? value="([^"]*)"')
UNLIMITED = 10**9


def _consent(provider: XeroProvider, tenant: str) -> TokenSet:
    """Xero's consent page as a person answers it (one organisation), without a browser."""
    session = requests.Session()
    page = session.get(provider.authorization_url(REDIRECT_URI, "bench"), timeout=30)
    page.raise_for_status()
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    form["decision"] = "approve"
    answer = session.post(page.url.split("?")[0], data=[*form.items(), ("tenant", tenant)],
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"Xero emulator consent failed: {answer.status_code}")
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return provider.exchange_code(code, REDIRECT_URI)


def run(invoices: int) -> list[dict[str, Any]]:
    contacts = max(invoices // 5, 20)
    emulator = XeroEmulator(seed=11, organisations=1, contacts=contacts, invoices=invoices,
                            minute_limit=UNLIMITED, day_limit=UNLIMITED,
                            concurrent_limit=UNLIMITED, app_minute_limit=UNLIMITED)
    server = emulator.serve()
    [tenant] = emulator.tenant_ids()
    services = throwaway_services(xero={"XERO_BASE_URL": server.url})
    provider = services.providers.get("xero")
    provider.budgets = XeroBudgets(RateBudget(UNLIMITED, 60), RateBudget(UNLIMITED, 86_400),
                                   RateBudget(UNLIMITED, 60))
    grant = connections.create_grant(services, "xero", _consent(provider, tenant))
    [company] = connections.connect_tenants(
        services, grant, [t for t in connections.list_tenants(services, grant) if t.id == tenant])
    today = provider.today()
    open_rows = emulator.open_invoices(tenant)
    due = sum(1 for r in open_rows if r["DueDate"] <= today)
    sales = sum(1 for r in emulator.orgs[tenant]["invoices"].values() if r["Type"] == "ACCREC")
    rows: list[dict[str, Any]] = []

    def sync() -> tuple[int, float]:
        emulator.reset_calls()
        seconds = timed_sync(services, company)
        return emulator.count_calls(path_contains="/api.xro/"), seconds

    def invoices_where(*where: Any) -> int:
        with services.db.session() as session:
            return session.scalar(select(func.count()).select_from(Invoice).where(
                Invoice.company_id == company, *where)) or 0

    # The first sync lists contacts and open invoices, then fetches each due one's link.
    first, seconds = sync()
    linked = invoices_where(Invoice.payment_url.is_not(None))
    if linked != due:  # the calls only count if the sync did the whole job
        raise RuntimeError(f"bench: {linked} invoices got a link, {due} are due")
    links = emulator.count_calls("GET", "/OnlineInvoice")
    floor = math.ceil(contacts / PAGE_SIZE) + math.ceil(len(open_rows) / PAGE_SIZE) + due
    rows.append({"measure": f"xero initial sync of {len(open_rows)} open ({invoices} invoices, "
                            f"{due} due): API calls", "value": first, "minimum": floor,
                 "ratio": first / floor, "target": "1.10x", "ok": first <= 1.10 * floor,
                 "note": f"{links} of them online-invoice links, one call per due invoice; "
                         f"+1 re-read per {LINKS_PER_PAGE} due invoices"})
    rows.append({"measure": "xero initial sync: seconds", "value": round(seconds, 2)})
    rows.append({"measure": "xero initial sync paced at Xero's limits (from the lifted run): "
                            "minutes",
                 "value": math.ceil(first / MINUTE_LIMIT),
                 "note": f"{MINUTE_LIMIT} calls a minute; {math.ceil(first / DAY_LIMIT)} day(s) "
                         f"of the {DAY_LIMIT}-call day budget"})

    def measure(label: str, changed: int) -> int:
        calls, seconds = sync()
        rows.extend(call_rows(f"xero {label}", calls, 1 + max(1, math.ceil(changed / PAGE_SIZE)),
                              seconds))
        return calls

    unchanged = measure("unchanged", 0)
    changed = [r["InvoiceID"] for r in open_rows[: max(1, len(open_rows) // 100)]]
    for invoice_id in changed:
        emulator.pay_invoice(tenant, invoice_id)
    measure("1% changed", len(changed))
    settled = invoices_where(Invoice.external_id.in_(changed), Invoice.open_amount == 0)
    if settled != len(changed):
        raise RuntimeError(f"bench: {settled} of {len(changed)} paid invoices seen as paid")
    naive = math.ceil(sales / PAGE_SIZE) + math.ceil(contacts / PAGE_SIZE)
    rows.append({"measure": "xero naive client (re-list all ACCREC invoices and contacts): "
                            "calls per sync", "value": naive, "ratio": naive / max(unchanged, 1),
                 "note": "without fetching links again"})
    server.shutdown()
    emulator.close()
    services.db.dispose()
    return rows
