"""Compare channel plans: the same mesh with Jarshy on a shared, secondary or isolated channel.

``python3 -m relay.sim.plans [scenario] [--seed N] [--engine flood] [--runs 5]`` runs a
scenario (default ``channel-plans``) under each plan and firmware (``--runs`` seeds each) and
prints, for each, the share of (item, Jarshy
node) pairs delivered, the airtime spent, and what the stock nodes did with Jarshy's packets:
relayed them without decrypting (``opaque relays``), dropped them at CORE_PORTNUMS_ONLY
(``core drops``) or could not relay them (``opaque drops``). Delivery is counted against every
other Jarshy node, not the oracle (which does not know frequency slots).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from relay.sim.core import Simulation
from relay.sim.scenario import Scenario, load_scenario

PLANS: tuple[tuple[str, str], ...] = (
    ("shared", "2.8.0"),
    ("secondary", "2.8.0"),
    ("secondary", "2.7.26"),
    ("isolated", "2.8.0"),
)
"""(channel_plan, firmware) pairs compared by default."""


@dataclass(frozen=True, slots=True)
class PlanFigures:
    """One plan's run."""

    plan: str
    firmware: str
    delivered: int  # (item, Jarshy node) pairs delivered
    pairs: int  # (item, Jarshy node other than the origin) pairs
    airtime: float  # seconds on air, every node
    transmissions: int
    opaque_relays: int
    core_drops: int
    opaque_drops: int

    @property
    def delivery(self) -> float:
        """Share of pairs delivered."""
        return self.delivered / self.pairs if self.pairs else 0.0


def run_plan(
    scenario: Scenario, plan: str, firmware: str, engine: str = "flood", seeds: int = 1
) -> PlanFigures:
    """Run ``scenario`` under one channel plan and firmware version, summed over ``seeds``
    runs (seeds ``scenario.seed`` onwards; the network is the same, the random draws differ)."""
    sc = replace(scenario, channel_plan=plan, firmware=firmware)
    jarshy = {n.index for n in sc.nodes if n.jarshy}
    pairs = delivered = tx = opaque = core = dropped = 0
    airtime = 0.0
    for k in range(seeds):
        result = Simulation(sc, engine, seed=scenario.seed + k).run()
        for key, item in result.items.items():
            held = result.deliveries.get(key, {})
            others = jarshy - {item.origin}
            pairs += len(others)
            delivered += sum(1 for i in others if i in held)
        c = result.counters
        airtime += c.airtime
        tx += c.transmissions
        opaque += c.opaque_relays
        core += c.core_only_drops
        dropped += c.opaque_drops
    return PlanFigures(plan, firmware, delivered, pairs, airtime, tx, opaque, core, dropped)


def compare_plans(
    scenario: Scenario,
    plans: Sequence[tuple[str, str]] = PLANS,
    engine: str = "flood",
    seeds: int = 1,
) -> list[PlanFigures]:
    """Run ``scenario`` once per (plan, firmware)."""
    return [run_plan(scenario, plan, fw, engine, seeds) for plan, fw in plans]


def format_table(rows: Sequence[PlanFigures]) -> str:
    """A plain-text table of the runs."""
    head = (
        f"{'plan':<10} {'firmware':<8} {'delivered':>15} {'airtime s':>10} {'tx':>6} "
        f"{'opaque relays':>13} {'core drops':>10} {'opaque drops':>12}"
    )
    lines = [head]
    for r in rows:
        share = f"{100 * r.delivery:5.1f} % ({r.delivered}/{r.pairs})"
        lines.append(
            f"{r.plan:<10} {r.firmware:<8} {share:>15} {r.airtime:>10.1f} {r.transmissions:>6} "
            f"{r.opaque_relays:>13} {r.core_drops:>10} {r.opaque_drops:>12}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison for a scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="channel-plans")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--engine", default="flood")
    parser.add_argument("--runs", type=int, default=5, help="seeds per plan (5)")
    args = parser.parse_args(argv)
    if args.engine == "jarshy":  # the node core registers itself, as `jarshy sim` has it do
        importlib.import_module("relay.node.sim_node")
    scenario = load_scenario(args.scenario, seed=args.seed)
    rows = compare_plans(scenario, engine=args.engine, seeds=max(args.runs, 1))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
