"""Sync benchmark: every shipped simulator scenario, Jarshy vs managed flooding alone, same seeds.

For each scenario it prints delivery against the oracle's reachable set, airtime per delivered
bulletin as a ratio to the oracle's lower bound (greedy connected dominating set x packet airtime),
latency percentiles and Jarshy's airtime as a ratio to flooding's.  Baselines (flooding, the bound)
are measured in the same run.  ``python bench/sync.py [--json] [--scenarios a,b]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.sim import run_scenario, shipped_scenarios  # noqa: E402

ENGINES = ("jarshy", "flood")


def figures(names: list[str] | None = None) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name in names or sorted(shipped_scenarios()):
        row: dict[str, Any] = {}
        for engine in ENGINES:
            start = time.perf_counter()
            _, report = run_scenario(name, engine=engine)
            s = report.summary
            label_ratios = {k: v["ratio"] for k, v in s["delivery"]["by_label"].items()}
            row[engine] = {
                "delivery": s["delivery"]["ratio"],
                "delivery_by_label": label_ratios,
                "airtime_s": s["airtime_s"]["total"],
                "airtime_per_delivery_s": s["airtime_s"]["per_delivery"],
                "airtime_vs_bound": s["airtime_s"]["ratio_to_bound"],
                "latency_p50_s": s["latency_s"]["p50"],
                "latency_p90_s": s["latency_s"]["p90"],
                "channel_util_peak_pct": s["channel"].get("peak_60s_pct"),
                "wall_s": round(time.perf_counter() - start, 2),
            }
        jarshy, flood = row["jarshy"], row["flood"]
        row["airtime_vs_flooding"] = (
            round(jarshy["airtime_s"] / flood["airtime_s"], 3) if flood["airtime_s"] else None
        )
        rows[name] = row
    return {"scenarios": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scenarios", help="comma-separated names (default: all shipped)")
    args = parser.parse_args()
    names = args.scenarios.split(",") if args.scenarios else None
    result = figures(names)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{'scenario':<15} {'delivery J':>10} {'flood':>7} {'air/bound J':>11} {'flood':>7} "
        f"{'J/flood':>8} {'p90 J s':>8}"
    )
    for name, row in result["scenarios"].items():
        j, f = row["jarshy"], row["flood"]
        print(
            f"{name:<15} {j['delivery']:>10.3f} {f['delivery']:>7.3f} "
            f"{j['airtime_vs_bound']:>11.2f} {f['airtime_vs_bound']:>7.2f} "
            f"{row['airtime_vs_flooding']:>8.2f} {j['latency_p90_s'] or 0:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
