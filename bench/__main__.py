"""Run the benchmarks, print a table and write bench/results.json.

Measured: Moneybird, Exact Online, SnelStart and Xero API efficiency, initial-sync throughput
and memory, the collection engine, the channels and worker scale. ``--quick`` (the default)
keeps the run to a few minutes on 2 cores (with one 100,000-invoice Moneybird sync, for the
memory row); ``--full`` adds the other 100,000-invoice syncs and a bigger engine run.
Everything talks to emulators on loopback only.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
SECTIONS = ("moneybird", "exact", "first_sync", "throughput", "engine", "channels", "scale",
            "payments", "payments_exact", "snelstart", "xero")
EXTRAPOLATE_TO = 100_000
# Sections whose runs lift a platform's rate limit (to count calls without waiting out real
# windows): their rows say so in the label, so no number passes for one taken at the limit.
LIFTS_LIMITS = {"moneybird", "exact", "first_sync", "throughput", "scale", "snelstart", "xero"}
LIFTED_TAG = " [rate limit lifted]"


def _engine(cases: int) -> list[dict[str, Any]]:
    """The engine at ``cases``, plus a linear extrapolation when that is below 100,000."""
    from bench.engine import TARGET_PLAN_SECONDS
    from bench.engine import run as run_engine

    rows = run_engine(cases)
    if cases < EXTRAPOLATE_TO:
        both = next(r for r in rows if r["measure"].startswith("engine: open + plan"))
        estimate = both["value"] * EXTRAPOLATE_TO / cases
        rows.append({"measure": f"engine: open + plan {EXTRAPOLATE_TO} cases, extrapolated (s)",
                     "value": round(estimate, 1), "target": f"<{TARGET_PLAN_SECONDS:g}",
                     "ok": estimate < TARGET_PLAN_SECONDS,
                     "note": f"linear from {cases}; run --engine-cases {EXTRAPOLATE_TO} "
                             "to measure (minutes)"})
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["measure"]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  {'minimum':>7}  {'ratio':>6}  {'target':>7}  "
          f"{'ok':<3}  note")
    for r in rows:
        minimum = "" if r.get("minimum") is None else str(r["minimum"])
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        target = "" if r.get("target") is None else str(r["target"])
        ok = {True: "yes", False: "NO", None: ""}[r.get("ok")]
        print(f"{r['measure']:<{width}}  {r['value']!s:>10}  {minimum:>7}  {ratio:>6}  "
              f"{target:>7}  {ok:<3}  {r.get('note', '')}".rstrip())


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("connector").setLevel(logging.ERROR)  # failed demo webhooks: expected
    parser = argparse.ArgumentParser(prog="python -m bench")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="10,000-invoice tenants only (default)")
    size.add_argument("--full", action="store_true",
                      help="also 100,000-invoice syncs and a bigger engine run")
    parser.add_argument("--invoices", type=int, default=10_000,
                        help="tenant size for the API-efficiency benchmarks")
    parser.add_argument("--engine-cases", type=int, default=None,
                        help="cases for the engine benchmark (10,000 quick, 30,000 full)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None)
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=())
    args = parser.parse_args()

    from bench.channels import run as run_channels
    from bench.exact_sync import run as run_exact
    from bench.first_sync import run as run_first_sync
    from bench.moneybird_sync import run as run_moneybird
    from bench.payments_first import run as run_payments
    from bench.payments_first_exact import run as run_payments_exact
    from bench.scale import run as run_scale
    from bench.snelstart_sync import run as run_snelstart
    from bench.throughput import run as run_throughput
    from bench.xero_sync import run as run_xero

    sizes = [10_000, 100_000] if args.full else [10_000]
    cases = args.engine_cases or (30_000 if args.full else 10_000)
    sections: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "moneybird": lambda: run_moneybird(args.invoices),
        "exact": lambda: run_exact(args.invoices),
        "first_sync": lambda: run_first_sync(args.invoices),
        # The memory row (peak RSS growth 10k -> 100k) is in every run: Moneybird at both
        # sizes; --full measures Exact at both too.
        "throughput": lambda: (run_throughput(sizes) if args.full else
                               run_throughput([10_000, 100_000], ("moneybird",))
                               + run_throughput([10_000], ("exact",))),
        "engine": lambda: _engine(cases),
        "channels": run_channels,
        "scale": run_scale,
        "payments": run_payments,
        "payments_exact": run_payments_exact,
        "snelstart": lambda: run_snelstart(args.invoices),
        "xero": lambda: run_xero(args.invoices),
    }
    rows: list[dict[str, Any]] = []
    for name in args.only or SECTIONS:
        if name in args.skip:
            continue
        started = time.perf_counter()
        section = sections[name]()
        for row in section:
            row.setdefault("section", name)
            if name in LIFTS_LIMITS and "lifted" not in row["measure"]:
                row["measure"] += LIFTED_TAG
        rows += section
        print(f"[{name}: {time.perf_counter() - started:.0f} s]", flush=True)
    _print(rows)
    RESULTS.write_text(json.dumps(rows, indent=2, default=str))
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
