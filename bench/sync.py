"""Sync benchmark: every shipped simulator scenario, Jarshy vs managed flooding alone, same seeds.

For each scenario it prints delivery against the oracle's reachable set, airtime per delivered
bulletin as a ratio to the oracle's lower bound (greedy connected dominating set x packet airtime),
latency percentiles and Jarshy's airtime as a ratio to flooding's.  Baselines (flooding, the bound)
are measured in the same run.  With several seeds a scenario's row shows the worst delivery and the
mean of the other figures.  Two more figures, each from its worst seed: idle sync traffic (city-200
whose 30 bulletins all appear in the first 10 minutes: channel time taken by Jarshy's frames in the
busiest node's hearing range over the last 30 minutes, against the 1 % target), and a trusted
extreme safety alert published in the middle of the spammer scenario's flood against the same run
with the spammer silent (time until the last reachable node held it; target <= 2x).
``python bench/sync.py [--json] [--scenarios a,b] [--seeds 1,2,3] [--no-idle]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import relay.node.sim_node  # noqa: E402,F401  (registers the "jarshy" engine: whole node cores)
from relay.sim import (  # noqa: E402
    Publication,
    Simulation,
    build_report,
    load_scenario,
    run_scenario,
    shipped_scenarios,
)
from relay.sim.firmware import UTIL_PERIOD  # noqa: E402

ENGINES = ("jarshy", "flood")
IDLE_TARGET_PCT = 1.0


def one_run(name: str, engine: str, seed: int | None) -> dict[str, Any]:
    start = time.perf_counter()
    _, report = run_scenario(name, engine=engine, seed=seed)
    s = report.summary
    return {
        "delivery": s["delivery"]["ratio"],
        "delivery_by_label": {k: v["ratio"] for k, v in s["delivery"]["by_label"].items()},
        "airtime_s": s["airtime_s"]["total"],
        "airtime_per_delivery_s": s["airtime_s"]["per_delivery"],
        "airtime_vs_bound": s["airtime_s"]["ratio_to_bound"],
        "latency_p50_s": s["latency_s"]["p50"],
        "latency_p90_s": s["latency_s"]["p90"],
        "channel_util_peak_pct": s["channel"].get("utilization_peak_pct"),
        "wall_s": round(time.perf_counter() - start, 2),
    }


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Worst delivery (overall and per label), mean of everything else."""
    if len(runs) == 1:
        return runs[0]
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs]
        if key == "delivery":
            out[key] = min(values)
        elif key == "delivery_by_label":
            out[key] = {k: min(v.get(k, 0.0) for v in values) for k in first}
        elif all(isinstance(v, int | float) for v in values):
            out[key] = round(statistics.fmean(values), 3)
        else:
            out[key] = None
    out["seeds"] = len(runs)
    return out


def idle_traffic(seed: int | None = None) -> dict[str, float]:
    """Busiest node's channel time spent on Jarshy frames once nothing is new (see module doc)."""
    sc = load_scenario("city-200", seed=seed)
    early = tuple(replace(p, time=p.time * 600.0 / sc.duration) for p in sc.traffic)
    sc = replace(sc, traffic=early, drain=0.0)
    result = Simulation(sc, "jarshy", seed=seed).run()
    first, last = int(1800 / UTIL_PERIOD), int(sc.duration / UTIL_PERIOD)
    busiest = max(
        sum(node.busy.get(b, 0.0) for b in range(first, last)) for node in result.nodes
    ) / (sc.duration - 1800)
    return {
        "busiest_node_pct": round(100 * busiest, 3),
        "vs_target": round(100 * busiest / IDLE_TARGET_PCT, 3),
    }


def alert_under_spam(seed: int | None = None) -> dict[str, Any]:
    """A trusted extreme safety alert published mid-flood in ``spammer``, and the same scenario with
    the spammer silent: delivery of the alert and the time until the last reachable node held it."""
    base = load_scenario("spammer", seed=seed)
    corner = next(s.index for s in base.nodes if s.jarshy and not s.name.startswith("spam"))
    alert = Publication(1800.0, corner, 180, "alert", None, "safety")
    quiet = tuple(p for p in base.traffic if p.label != "spam")
    out: dict[str, Any] = {}
    for name, traffic in (("spam", base.traffic), ("no_spam", quiet)):
        sc = replace(base, traffic=tuple(sorted((*traffic, alert), key=lambda p: p.time)))
        result = Simulation(sc, "jarshy", seed=seed).run()
        report = build_report(result)
        key = next(k for k, item in result.items.items() if item.label == "alert")
        held = result.deliveries.get(key, {})
        out[name] = {
            "alert_delivery": report.summary["delivery"]["by_label"]["alert"]["ratio"],
            "alert_last_node_s": round(max(held.values(), default=1800.0) - 1800.0, 1),
        }
    slow, fast = out["spam"]["alert_last_node_s"], out["no_spam"]["alert_last_node_s"]
    out["latency_vs_no_spam"] = round(slow / fast, 3) if fast else None
    return out


def figures(
    names: list[str] | None = None, seeds: list[int | None] | None = None, idle: bool = True
) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name in names or sorted(shipped_scenarios()):
        row: dict[str, Any] = {}
        for engine in ENGINES:
            row[engine] = combine([one_run(name, engine, seed) for seed in seeds or [None]])
        jarshy, flood = row["jarshy"], row["flood"]
        row["airtime_vs_flooding"] = (
            round(jarshy["airtime_s"] / flood["airtime_s"], 3) if flood["airtime_s"] else None
        )
        rows[name] = row
    result: dict[str, Any] = {"scenarios": rows}
    if idle:
        runs = seeds or [None]
        idles = [idle_traffic(seed) for seed in runs]
        result["idle_city_200"] = max(idles, key=lambda r: r["busiest_node_pct"])  # the worst
        alerts = [alert_under_spam(seed) for seed in runs]
        result["alert_under_spam"] = max(alerts, key=lambda r: r["latency_vs_no_spam"] or 0.0)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scenarios", help="comma-separated names (default: all shipped)")
    parser.add_argument("--seeds", help="comma-separated seeds (default: each scenario's own)")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle and alert runs")
    args = parser.parse_args()
    names = args.scenarios.split(",") if args.scenarios else None
    seeds: list[int | None] | None = [int(x) for x in args.seeds.split(",")] if args.seeds else None
    result = figures(names, seeds, idle=not args.no_idle)
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
    if "idle_city_200" in result:
        idle = result["idle_city_200"]
        print(
            f"idle sync traffic, city-200: busiest node hears {idle['busiest_node_pct']:.3f} % "
            f"of channel time = {idle['vs_target']:.2f}x the 1 % target"
        )
        alert = result["alert_under_spam"]
        print(
            f"safety alert during the spam flood: delivery {alert['spam']['alert_delivery']:.3f}, "
            f"last node after {alert['spam']['alert_last_node_s']:.0f} s = "
            f"{alert['latency_vs_no_spam']}x the no-spam run "
            f"({alert['no_spam']['alert_last_node_s']:.0f} s, delivery "
            f"{alert['no_spam']['alert_delivery']:.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
