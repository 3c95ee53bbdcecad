"""How long a big company's first sync takes at the platform's REAL rate limit.

The calls are counted from a real first sync against the emulator (the limit lifted only so the
bench does not wait out real windows: every row says so), and the time at the real limit is
modelled from them: floor = calls ÷ limit × window. Moneybird: 140 of its 150 calls per 5 minutes,
one synchronization list per window (each resumed run lists again) and one POST per 100
invoices. Exact Online: 55 of its 60 calls a minute; the floor until the first case is the open
receivables' pages plus the accounts' pages, and for the whole first sync every page of every
feed it reads.
"""

from __future__ import annotations

import math
from typing import Any

from bench import moneybird_sync
from bench.exact_sync import connect, make_services
from connector.sync import sync_company
from providers.exact_online.emulator import ExactEmulator
from providers.exact_online.provider import MINUTELY_LIMIT
from providers.moneybird.emulator import MoneybirdEmulator
from providers.moneybird.mapping import UNPAID_STATES
from providers.moneybird.provider import RATE_LIMIT, RATE_WINDOW_SECONDS

PAGE = 1000
MB_BATCH = 100
LIFTED = "limit lifted to count calls; time modelled at the real limit"


def moneybird_windows(unpaid: int, limit: int = RATE_LIMIT) -> tuple[int, int]:
    """Windows and calls for a first sync of ``unpaid`` invoices: every window lists once."""
    posts = math.ceil(unpaid / MB_BATCH)
    windows = 1
    while windows * limit < posts + windows:
        windows += 1
    return windows, posts + windows


def _moneybird(invoices: int) -> list[dict[str, Any]]:
    emulator = MoneybirdEmulator(seed=11, administrations=1, contacts=max(invoices // 5, 20),
                                 invoices=invoices, rate_limit=None)
    server = emulator.serve()
    services = make_services(moneybird_url=server.url)
    company, adm, _ = moneybird_sync.connect(services, emulator)
    unpaid = sum(1 for i in emulator.invoices(adm) if i["state"] in UNPAID_STATES)
    emulator.reset_calls()
    result = sync_company(services, company, trigger="bench")
    calls = emulator.count_calls(administration_id=adm)
    server.shutdown()
    services.db.dispose()
    if result.outcome != "ok":
        raise RuntimeError(f"bench sync failed: {result}")
    rows = [_mb_row(f"moneybird first sync, {unpaid} unpaid of {invoices}", unpaid, calls)]
    share = unpaid / invoices
    big = round(100_000 * share)
    rows.append(_mb_row(f"moneybird first sync, ~{big} unpaid of 100000 (modelled)", big,
                        None))
    fourteen = _mb_row("moneybird first sync, 14000 unpaid (the issue's example)", 14_000, None)
    rows.append(fourteen)
    return rows


def _mb_row(label: str, unpaid: int, measured_calls: int | None) -> dict[str, Any]:
    windows, calls = moneybird_windows(unpaid)
    floor = math.ceil(calls / RATE_LIMIT)  # calls ÷ limit, in whole windows
    # Each window's calls go out at its start; the last window's are done in seconds.
    minutes = (windows - 1) * RATE_WINDOW_SECONDS / 60
    note = (f"~{minutes:.0f} min + the last window's calls (floor {calls / RATE_LIMIT * 5:.1f} "
            f"min = calls ÷ limit × window); {calls} calls modelled")
    if measured_calls is not None:
        note += f", {measured_calls} counted in one run ({LIFTED})"
    else:
        note += " (not run: modelled from the call pattern)"
    return {"measure": f"{label}: windows of {RATE_LIMIT} calls / 5 min at the real limit",
            "value": windows, "minimum": floor, "ratio": windows / floor, "note": note}


def _exact(open_items: int = 5_000, rows_total: int = 70_000) -> list[dict[str, Any]]:
    emulator = ExactEmulator(seed=11, divisions=1, accounts=max(open_items // 5, 20),
                             open_items=open_items, minutely_limit=10**9, daily_limit=10**9)
    division = emulator.division_codes()[0]
    emulator.add_settled_history(division, rows_total - len(emulator._div(division)["items"]))
    server = emulator.serve()
    services = make_services(server.url)
    access, refresh = emulator.issue_token()
    company = connect(services, access, refresh, division)
    emulator.reset_calls()
    result = sync_company(services, company, trigger="bench")
    server.shutdown()
    services.db.dispose()
    if result.outcome != "ok":
        raise RuntimeError(f"bench sync failed: {result}")
    calls = [c for c in emulator.calls if c["division"] == division]
    last_open = max(i for i, c in enumerate(calls) if "bulk/Cashflow/Receivables" in c["path"])
    first_case = last_open + 1
    open_pages = math.ceil(len(emulator.open_items(division)) / PAGE)
    account_pages = math.ceil(len(emulator.accounts(division)) / PAGE)
    detail_pages = (math.ceil(len(emulator.addresses(division)) / PAGE)
                    + math.ceil(len(emulator.contacts(division)) / PAGE))
    term_pages = math.ceil(len(emulator._div(division)["items"]) / PAGE)
    first_floor = open_pages + account_pages
    # Every page of every feed once, + accounts since and deletions (one call each).
    whole_floor = open_pages + account_pages + detail_pages + term_pages + 2
    label = f"exact first sync, {open_items} open of {rows_total} term rows"
    return [
        {"measure": f"{label}: calls until the first case", "value": first_case,
         "minimum": first_floor, "ratio": first_case / first_floor,
         "target": f"<={open_pages + 5}", "ok": first_case <= open_pages + 5,
         "note": f"floor = open pages + account pages; addresses and contacts "
                 f"({detail_pages} pages) follow right after the open items ({LIFTED})"},
        {"measure": f"{label}: calls for the whole first sync", "value": len(calls),
         "minimum": whole_floor, "ratio": len(calls) / whole_floor,
         "note": f"{len(calls) / MINUTELY_LIMIT:.1f} min at {MINUTELY_LIMIT}/min; the first "
                 f"cases after {first_case / MINUTELY_LIMIT * 60:.0f} s; accounts are read once "
                 f"more to join addresses and contacts ({LIFTED})"},
    ]


def run(invoices: int = 10_000) -> list[dict[str, Any]]:
    return _moneybird(invoices) + _exact()


if __name__ == "__main__":
    for row in run():
        print(row)
