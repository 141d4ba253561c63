"""`jarshy sim`: run a mesh scenario in the discrete-event simulator and report its figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relay.errors import UserError


def register(subparsers: Any) -> None:
    """Add the ``sim`` command."""
    import relay.node.sim_node  # noqa: F401  (registers the "jarshy" engine)
    from relay.sim import ENGINES, shipped_scenarios

    engines = sorted(ENGINES)
    parser = subparsers.add_parser(
        "sim",
        help="simulate a LoRa mesh scenario and report delivery, latency and airtime",
        description=(
            "Run a scenario (a YAML file or a shipped name) in the discrete-event simulator. "
            f"Shipped: {', '.join(shipped_scenarios())}."
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file or shipped name")
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    parser.add_argument(
        "--engine",
        default=None,
        help=f"engine on Jarshy nodes (default: the scenario's; known: {', '.join(engines)})",
    )
    parser.add_argument("--duration", type=float, default=None, help="virtual seconds to run")
    parser.add_argument(
        "--png",
        type=Path,
        default=None,
        metavar="FILE",
        help="write a figure: map, delivery against time, airtime per node (needs matplotlib)",
    )
    parser.add_argument(
        "--compare",
        default="auto",
        metavar="ENGINE",
        help="engine drawn beside this one in the figure (default: flood, or jarshy when "
        "running flood; 'none' for no second run)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == self.last:
            return
        self.last = percent
        bar = "#" * (percent // 4)
        sys.stderr.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
        if percent >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _compared(choice: str, engine: str) -> str | None:
    """The engine drawn beside ``engine``: 'auto' is flooding, or Jarshy beside flooding."""
    if choice == "none":
        return None
    if choice == "auto":
        return "jarshy" if engine == "flood" else "flood"
    return None if choice == engine else choice


def run(args: argparse.Namespace) -> int:
    """Handler of ``jarshy sim``."""
    import relay.node.sim_node  # noqa: F401  (registers the "jarshy" engine)
    from relay.sim import Simulation, SimulationError, build_report, format_text, load_scenario
    from relay.sim.engines import get_engine_factory
    from relay.sim.figure import PlotsUnavailable, plots_available, render_png

    if args.png is not None and not plots_available():
        raise UserError(str(PlotsUnavailable()), exit_code=1)
    if args.duration is not None and args.duration <= 0:
        raise UserError("--duration must be positive")
    scenario = load_scenario(args.scenario, seed=args.seed, duration=args.duration)
    engine = args.engine or scenario.engine
    compare = _compared(args.compare, engine) if args.png is not None else None
    for name in (engine, compare):
        try:
            if name is not None:
                get_engine_factory(name)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None
    show = not args.quiet and sys.stderr.isatty()
    progress = _Progress(f"{scenario.name} ({len(scenario.nodes)} nodes)") if show else None
    try:
        result = Simulation(scenario, engine, seed=args.seed).run(progress)
    except SimulationError as exc:
        raise UserError(f"simulation failed: {exc}", exit_code=1) from None
    report = build_report(result)
    print(report.to_json() if args.json else format_text(report))
    if args.png is not None:
        others = []
        if compare is not None:
            try:
                other = Simulation(scenario, compare, seed=args.seed).run()
            except SimulationError as exc:
                raise UserError(f"simulation failed: {exc}", exit_code=1) from None
            others.append((other, build_report(other)))
        try:
            args.png.write_bytes(render_png(result, report, others))
        except OSError as exc:
            raise UserError(f"cannot write {args.png}: {exc.strerror}", exit_code=1) from None
        if not args.json:
            beside = f" ({engine} beside {compare})" if compare else ""
            print(f"figure written to {args.png}{beside}")
    return 0
