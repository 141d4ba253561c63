"""Shipped scenarios load and run; scenario validation gives clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.sim import (
    ScenarioError,
    load_scenario,
    run_scenario,
    scenario_from_dict,
    shipped_scenarios,
)
from relay.sim.figure import render_png

EXPECTED = {
    "city-50", "city-200", "city-1000", "village-chain", "islands-bridge", "sleepers", "spammer",
    "loss-00", "loss-10", "loss-20", "loss-30", "mixed",
}  # fmt: skip


def test_all_expected_scenarios_ship() -> None:
    assert set(shipped_scenarios()) >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_scenario_runs_briefly(name: str) -> None:
    result, report = run_scenario(name, duration=150)
    s = report.summary
    assert s["nodes"] == len(result.nodes) > 1
    assert s["transmissions"]["total"] >= 0
    ratio = s["delivery"]["ratio"]
    assert ratio is None or 0.0 <= ratio <= 1.0


def test_village_chain_is_longer_than_seven_hops() -> None:
    from relay.sim import Simulation
    from relay.sim.oracle import Oracle

    sc = load_scenario("village-chain")
    ch = Simulation(sc).channel
    # Hop distance from the first village to the last over decodable links.
    dist = {0: 0}
    frontier = [0]
    while frontier:
        nxt = []
        for i in frontier:
            for j in ch.decodable_neighbours(i, 0.0):
                if j not in dist:
                    dist[j] = dist[i] + 1
                    nxt.append(j)
        frontier = nxt
    assert max(dist.values()) > 7
    assert len(Oracle(sc, ch).reach(0, 0.0, 10.0)) == len(sc.nodes)


def test_png_figure_is_a_valid_png(tmp_path: Path) -> None:
    import struct
    import zlib

    result, report = run_scenario("city-50", duration=300)
    data = render_png(result, report)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(raw) == height * (1 + 3 * width)


BASE = {"nodes": [{"name": "a", "x": 0, "y": 0}, {"name": "b", "x": 100, "y": 0}]}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"durration": 5}, "durration: unknown field"),
        ({"preset": "FAST"}, "preset: unknown modem preset"),
        ({"loss": 2}, "loss: 2 is above the maximum 1"),
        ({"nodes": [{"name": "a", "x": 0}]}, "nodes[0].y: required"),
        ({"nodes": [{"name": "a", "x": 0, "y": 0, "role": "KING"}]}, "unknown role 'KING'"),
        ({"nodes": [{"generator": "hex", "count": 3}]}, "nodes[0].generator: expected one of"),
        ({"traffic": [{"from": "zed", "at": 1}]}, "traffic[0].from: unknown node 'zed'"),
        ({"traffic": [{"from": "a", "at": 1, "size": 5}]}, "traffic[0].size"),
        ({"traffic": [{"from": "a", "at": 1, "kind": "rumour"}]}, "traffic[0].kind"),
        (
            {"nodes": [{"name": "a", "x": 0, "y": 0, "jarshy": False}], "traffic": [{"from": "a"}]},
            "does not run an engine",
        ),
        ({"nodes": [{"name": "a", "x": 0, "y": 0, "off": [[5, 1]]}]}, "power-on time"),
    ],
)
def test_validation_errors_name_the_field(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({**BASE, **patch}, source="s.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("s.yaml: ")


def test_unknown_scenario_name_lists_shipped() -> None:
    with pytest.raises(ScenarioError, match="city-50"):
        load_scenario("no-such-scenario")


def test_scenario_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nduration: 60\nnodes:\n  - {name: a, x: 0, y: 0}\n")
    assert load_scenario(path).name == "mine"
    path.write_text("nodes: [\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_safety_traffic_is_published_as_a_signed_safety_alert() -> None:
    from relay.sim import Simulation
    from relay.wire import bulletin as wire
    from relay.wire.fields import Kind

    data = {
        **BASE,
        "duration": 60,
        "drain": 60,
        "traffic": [
            {"from": "a", "at": 1, "size": 150, "kind": "safety", "label": "alert"},
            {"from": "a", "at": 2, "size": 150, "label": "news"},
        ],
    }
    scenario = scenario_from_dict(data, source="s.yaml")
    assert [p.kind for p in scenario.traffic] == ["safety", "news"]
    sim = Simulation(scenario, "jarshy")
    result = sim.run()
    engine = sim.nodes[1].engine
    kinds = {
        result.items[key].label: wire.decode(engine.sync.items[key].raw).content.kind
        for key in result.deliveries
    }
    assert kinds == {"alert": Kind.SAFETY, "news": Kind.NEWS}
