"""Discrete-event simulator of a Meshtastic LoRa mesh that drives any Jarshy MeshEngine.

Pure: a virtual clock and seeded randomness only. Typical use::

    from relay.sim import load_scenario, run_scenario
    result, report = run_scenario("city-200", engine="flood", seed=3)
    print(format_text(report)); report.summary["delivery"]["ratio"]

See docs/simulator.md for the model, the scenario schema and the report fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from relay.sim.core import ItemRecord, SimResult, Simulation, SimulationError
from relay.sim.engines import (
    ENGINES,
    DeliveryProbe,
    EngineContext,
    EngineFactory,
    FloodOnlyEngine,
    ItemTagger,
    OneShotPublisher,
    Publisher,
    get_engine_factory,
    register_engine,
)
from relay.sim.mac import Counters
from relay.sim.report import Report, build_report, format_text
from relay.sim.scenario import (
    NodeSpec,
    Publication,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
    shipped_scenarios,
)
from relay.sync.events import MeshEngine

__all__ = [
    "ENGINES",
    "Counters",
    "DeliveryProbe",
    "EngineContext",
    "EngineFactory",
    "FloodOnlyEngine",
    "ItemRecord",
    "ItemTagger",
    "NodeSpec",
    "OneShotPublisher",
    "Publication",
    "Publisher",
    "Report",
    "Scenario",
    "ScenarioError",
    "SimResult",
    "Simulation",
    "SimulationError",
    "build_report",
    "format_text",
    "get_engine_factory",
    "load_scenario",
    "register_engine",
    "run_scenario",
    "scenario_from_dict",
    "shipped_scenarios",
]


def run_scenario(
    scenario: Scenario | str | Path,
    engine: str | EngineFactory | None = None,
    *,
    seed: int | None = None,
    duration: float | None = None,
    engines: Mapping[str, MeshEngine] | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[SimResult, Report]:
    """Load (if needed), run and report a scenario in one call."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, seed=seed, duration=duration)
    result = Simulation(scenario, engine, engines=engines, seed=seed).run(progress)
    return result, build_report(result)
