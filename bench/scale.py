"""Worker scale: how many companies one worker keeps in sync, from measured cost per sync.

Measured (emulators in this process, limits lifted): API calls and connector CPU time (the
calling thread's ``time.thread_time``, so the emulator's threads do not count) of one
steady-state worker cycle per company: ``sync_company`` on an unchanged ledger followed by
``run_company`` (what ``connector.worker.sync_one`` does), averaged over several rounds.

Model (simulated clock, no sleeping): a worker syncs its due companies one after another
(``Worker._work``), each every ``sync_interval_minutes`` (15). A sync costs
``calls x LATENCY + CPU`` of wall time, where LATENCY is an assumed round trip to the real API.
Rate limits are per tenant (Moneybird 150 / 5 min per administration, Exact 60 / min and
5,000 / day per division), so they bound calls per company, not the number of companies; the
bound per worker is its wall time per sync.
"""

from __future__ import annotations

import time
from typing import Any

from connector.collection.engine import run_company
from connector.sync import sync_company
from providers.exact_online.emulator import ExactEmulator
from providers.moneybird.emulator import MoneybirdEmulator

COMPANIES = 1000
LATENCY = 0.25  # seconds per API round trip to the real platforms (assumption)
SYNCS_PER_HOUR = 4  # every 15 minutes (Settings.sync_interval_minutes)
EXACT_DETAILS_CALLS_PER_HOUR = 2  # addresses + contacts, checked hourly
MONEYBIRD_LIMIT = (150, 300)
EXACT_LIMIT = (60, 60)
EXACT_DAILY = 5000


def _moneybird(invoices: int) -> tuple[Any, Any, str]:
    from bench.exact_sync import make_services
    from bench.moneybird_sync import connect

    emulator = MoneybirdEmulator(seed=5, administrations=1, contacts=max(invoices // 5, 20),
                                 invoices=invoices, rate_limit=None)
    server = emulator.serve()
    services = make_services(moneybird_url=server.url)
    company, _, _ = connect(services, emulator)
    return emulator, services, company


def _exact(invoices: int) -> tuple[Any, Any, str]:
    from bench.exact_sync import connect, make_services

    emulator = ExactEmulator(seed=5, divisions=1, accounts=max(invoices // 5, 20),
                             open_items=invoices, minutely_limit=10**9, daily_limit=10**9)
    server = emulator.serve()
    services = make_services(server.url)
    access, refresh = emulator.issue_token()
    company = connect(services, access, refresh, emulator.division_codes()[0])
    return emulator, services, company


def _cycle_cost(services: Any, company: str, emulator: Any, rounds: int
                ) -> tuple[float, float, float]:
    """Mean (calls, connector CPU seconds, local wall seconds) of one sync + engine cycle."""
    sync_company(services, company, trigger="bench")  # initial sync
    run_company(services, company)  # opens and plans the cases once
    emulator.reset_calls()
    cpu = wall = 0.0
    for _ in range(rounds):
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        result = sync_company(services, company, trigger="bench")
        run_company(services, company)
        cpu += time.thread_time() - cpu_start
        wall += time.perf_counter() - wall_start
        if result.outcome != "ok" or result.invoices_changed:
            raise RuntimeError(f"scale bench: unexpected sync {result}")
    return len(emulator.calls) / rounds, cpu / rounds, wall / rounds


def run(invoices: int = 1000, rounds: int = 20) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, setup in (("moneybird", _moneybird), ("exact", _exact)):
        emulator, services, company = setup(invoices)
        try:
            calls, cpu, wall = _cycle_cost(services, company, emulator, rounds)
        finally:
            emulator.server.shutdown()
            services.db.dispose()
        calls_per_hour = calls * SYNCS_PER_HOUR + (
            EXACT_DETAILS_CALLS_PER_HOUR if name == "exact" else 0)
        if name == "moneybird":
            limit, window = MONEYBIRD_LIMIT
            budget_note = f"{calls * SYNCS_PER_HOUR:.0f} of {limit * 3600 // window} calls/h"
            target = "1-2"
            ok = calls <= 2
        else:
            limit, window = EXACT_LIMIT
            budget_note = (f"{calls_per_hour:.0f} of {limit * 3600 // window} calls/h, "
                           f"{calls_per_hour * 24:.0f} of {EXACT_DAILY}/day")
            target = "<=3"
            ok = calls <= 3
        per_sync = calls * LATENCY + cpu
        syncs_per_hour = 3600 / per_sync
        companies = syncs_per_hour / SYNCS_PER_HOUR
        cpu_bound = 3600 / cpu / SYNCS_PER_HOUR
        rows += [
            {"measure": f"scale {name}: calls per unchanged sync", "value": round(calls, 2),
             "target": target, "ok": ok, "note": f"per tenant budget: {budget_note}"},
            {"measure": f"scale {name}: connector CPU per sync + engine (ms)",
             "value": round(cpu * 1000, 1),
             "note": f"{invoices} invoices/company; local wall {wall * 1000:.0f} ms "
                     "incl. emulator"},
            {"measure": f"scale {name}: companies per worker (15-min syncs)",
             "value": round(companies),
             "target": f">={COMPANIES}", "ok": companies >= COMPANIES,
             "note": f"sequential: {calls:.0f} x {LATENCY} s latency + CPU = {per_sync:.2f} s "
                     f"per sync, {syncs_per_hour:.0f} syncs/h; CPU alone would allow "
                     f"{cpu_bound:.0f}"},
        ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
