"""Why originals use hop limit 3 and application relays hop limit 0: the simulator's answer.

Runs the sync engine with several (origin, relay) hop-limit pairs on the same scenarios and seeds,
and prints delivery and airtime as ratios against the shipped choice (3, 0) measured in the same
run.  ``python bench/hop_limits.py [--json] [--scenarios a,b]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.node.sim_node import JarshySimNode  # noqa: E402
from relay.sim import Simulation, build_report, load_scenario  # noqa: E402
from relay.sim.engines import EngineContext  # noqa: E402
from relay.sync.engine import SyncConfig  # noqa: E402

PAIRS = ((3, 0), (3, 3), (7, 0), (1, 0), (0, 0))
DEFAULT_SCENARIOS = ("city-50", "city-200", "village-chain", "mixed", "loss-20")


def run(name: str, origin: int, relay: int) -> dict[str, float]:
    def factory(ctx: EngineContext) -> JarshySimNode:
        return JarshySimNode(ctx, SyncConfig(origin_hop_limit=origin, relay_hop_limit=relay))

    scenario = load_scenario(name)
    result = Simulation(scenario, factory).run(None)
    summary = build_report(result).summary
    return {"delivery": summary["delivery"]["ratio"], "airtime_s": summary["airtime_s"]["total"]}


def figures(names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        rows = {f"{o}/{r}": run(name, o, r) for o, r in PAIRS}
        base = rows["3/0"]
        out[name] = {
            pair: {**row, "airtime_vs_3_0": round(row["airtime_s"] / base["airtime_s"], 3)}
            for pair, row in rows.items()
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scenarios")
    args = parser.parse_args()
    names = tuple(args.scenarios.split(",")) if args.scenarios else DEFAULT_SCENARIOS
    result = figures(names)
    if args.json:
        print(json.dumps(result))
        return 0
    pairs = [f"o/r {o}/{r}" for o, r in PAIRS]
    print(f"{'scenario':<15}" + "".join(f"{p:>22}" for p in pairs))
    for name, rows in result.items():
        cells = "".join(
            f"{row['delivery']:>10.3f} {row['airtime_vs_3_0']:>10.2f}x" for row in rows.values()
        )
        print(f"{name:<15}{cells}")
    print(
        "cells: delivery vs oracle, airtime as a ratio to origin 3 / relay 0 (the shipped choice)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
