"""Run the benchmarks, print a table and write bench/results.json.

Measured so far: Moneybird API efficiency and initial-sync throughput. The Exact Online, engine
and worker-scale benchmarks arrive with their issues.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from bench.moneybird_sync import run as run_moneybird

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--invoices", type=int, default=10_000)
    args = parser.parse_args()
    rows = run_moneybird(args.invoices)
    width = max(len(r["measure"]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  {'minimum':>8}  {'ratio':>6}  {'target':>8}  ok")
    for r in rows:
        minimum = "" if r.get("minimum") is None else str(r["minimum"])
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        target = "" if r.get("target") is None else str(r["target"])
        ok = {True: "yes", False: "NO", None: ""}[r.get("ok")]
        print(f"{r['measure']:<{width}}  {r['value']:>12}  {minimum:>8}  {ratio:>6}  "
              f"{target:>8}  {ok}")
    RESULTS.write_text(json.dumps(rows, indent=2, default=str))
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
