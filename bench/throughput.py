"""Initial-sync throughput and the connector's peak memory, 10,000 vs 100,000 invoices.

Each measurement runs in a fresh connector process (``python -m bench.throughput WORKER``), so
``ru_maxrss`` is that sync's peak and nothing earlier in the bench run inflates it; the emulator
runs in a further child process (multiprocessing, spawn), so its in-memory ledger and its
request handling neither count towards the connector's RSS nor compete for the connector's GIL.
Reported RSS is the connector process's peak RSS (``VmHWM``; ``ru_maxrss`` would include the
parent's peak, which Linux carries across exec) for the whole process (interpreter,
SQLAlchemy and the sync) and its growth over the baseline taken just before the sync.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 2000
TARGET_RSS_GROWTH_MB = 50
WORKER_TIMEOUT = 600


def _rss_mb() -> float:
    """Peak RSS of this process: VmHWM, since Linux carries ``ru_maxrss`` across exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve_emulator(provider: str, invoices: int, conn: Connection) -> None:
    """Child process: seed and serve one emulator, report how to reach it, wait for "stop"."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if provider == "moneybird":
        from providers.moneybird.emulator import MoneybirdEmulator
        from providers.moneybird.mapping import UNPAID_STATES

        mb = MoneybirdEmulator(seed=11, administrations=1, contacts=max(invoices // 5, 20),
                               invoices=invoices, rate_limit=None)
        server = mb.serve()
        tenant = mb.administration_ids()[0]
        access, refresh = mb.issue_token([tenant])
        expected = sum(1 for i in mb.invoices(tenant) if i["state"] in UNPAID_STATES)
    else:
        from providers.exact_online.emulator import ExactEmulator

        ex = ExactEmulator(seed=11, divisions=1, accounts=max(invoices // 5, 20),
                           open_items=invoices, minutely_limit=10**9, daily_limit=10**9)
        server = ex.serve()
        tenant = str(ex.division_codes()[0])
        access, refresh = ex.issue_token()
        expected = len(ex.open_items(int(tenant)))
    conn.send({"url": server.url, "tenant": tenant, "access": access, "refresh": refresh,
               "expected": expected, "rss_mb": _rss_mb()})
    conn.recv()  # "stop"
    server.shutdown()


def worker(provider: str, invoices: int) -> dict[str, Any]:
    """Connector process: connect one tenant, run the initial sync, report time and RSS."""
    import logging

    from cryptography.fernet import Fernet

    from connector import connections
    from connector.config import Settings
    from connector.services import Services
    from connector.sync import sync_company
    from providers.base import TokenSet
    from providers.http import Budgets, RateBudget

    logging.disable(logging.WARNING)  # the webhook registration to a dead URL fails: fine
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_emulator, args=(provider, invoices, child), daemon=True)
    process.start()
    try:
        emu = parent.recv()
        tmp = Path(tempfile.mkdtemp())
        settings = Settings(database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
                            token_encryption_keys=(Fernet.generate_key().decode(),),
                            public_url="http://127.0.0.1:9").with_ledger(
            "moneybird", MONEYBIRD_RATE_LIMIT=10**9, MONEYBIRD_BASE_URL=emu["url"]).with_ledger(
            "exact_online", EXACT_ONLINE_BASE_URL=emu["url"])
        services = Services.from_settings(settings)
        services.db.upgrade()
        if provider == "moneybird":
            services.providers.get("moneybird").budget.limit = 10**9
            grant = connections.create_grant(
                services, "moneybird", TokenSet(emu["access"], emu["refresh"], None))
        else:
            services.providers.get("exact_online").budgets = Budgets(RateBudget(10**9, 60))
            grant = connections.create_grant(
                services, "exact_online", TokenSet(emu["access"], emu["refresh"], 600),
                region="nl")
        tenants = [t for t in connections.list_tenants(services, grant) if t.id == emu["tenant"]]
        [company] = connections.connect_tenants(services, grant, tenants)
        baseline = _rss_mb()
        cpu_before = time.process_time()
        started = time.perf_counter()
        result = sync_company(services, company, trigger="bench")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        if result.outcome != "ok" or result.open_invoices != emu["expected"]:
            raise RuntimeError(f"bench sync failed: {result} (expected {emu['expected']})")
        return {"provider": provider, "invoices": invoices, "open": result.open_invoices,
                "seconds": seconds, "cpu": cpu, "calls": result.api_calls,
                "baseline_mb": baseline, "peak_mb": _rss_mb(),
                "emulator_mb": emu["rss_mb"]}
    finally:
        parent.send("stop")
        process.join(timeout=30)


def _measure(provider: str, invoices: int) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.throughput", provider, str(invoices)],
        cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"throughput worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: list[int], providers: tuple[str, ...] = ("moneybird", "exact")
        ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for provider in providers:
        peaks: dict[int, float] = {}
        for size in sizes:
            m = _measure(provider, size)
            rate = m["open"] / m["seconds"]
            label = f"{provider} initial sync, {m['open']} open of {size}"
            rows.append({"measure": f"{label}: invoices per second", "value": round(rate),
                         "target": f">={TARGET_RATE}", "ok": rate >= TARGET_RATE,
                         "note": f"{m['seconds']:.1f} s wall, {m['cpu']:.1f} s connector CPU, "
                                 f"{m['calls']} calls; emulator in its own process"})
            rows.append({"measure": f"{label}: ms per 1,000 invoices",
                         "value": round(1000 * 1000 * m["seconds"] / m["open"]),
                         "note": f"connector CPU {1000 * 1000 * m['cpu'] / m['open']:.0f} ms"})
            rows.append({"measure": f"{label}: connector peak RSS (MB)",
                         "value": round(m["peak_mb"], 1),
                         "note": f"{m['peak_mb'] - m['baseline_mb']:.1f} MB above the pre-sync "
                                 f"baseline; emulator process {m['emulator_mb']:.0f} MB apart"})
            peaks[size] = m["peak_mb"]
        if len(sizes) > 1:
            small, large = min(sizes), max(sizes)
            growth = peaks[large] - peaks[small]
            rows.append({"measure": f"{provider} peak RSS growth {small} -> {large} (MB)",
                         "value": round(growth, 1), "target": f"<{TARGET_RSS_GROWTH_MB}",
                         "ok": growth < TARGET_RSS_GROWTH_MB,
                         "note": "connector process only (VmHWM)"})
    return rows


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], int(sys.argv[2]))), flush=True)
