"""The oracle: time-respecting reachability and the greedy transmission bound."""

from __future__ import annotations

from relay.sim import Simulation, load_scenario
from relay.sim.oracle import Oracle, greedy_cds


def test_far_island_is_reachable_only_after_the_bus_arrives() -> None:
    sc = load_scenario("islands-bridge")
    sim = Simulation(sc)
    oracle = Oracle(sc, sim.channel)
    west0 = sc.node_index("west0")
    east = [n.index for n in sc.nodes if n.name.startswith("east")]
    bus = sc.node_index("bus")

    before = oracle.reach(west0, 60.0, 900.0)  # life ends before the bus leaves the west
    assert bus in before
    assert not set(east) & set(before)

    whole = oracle.reach(west0, 60.0, 3600.0)
    assert set(east) <= set(whole)
    assert whole[bus] == 60.0
    # The bus leaves at 600 s and covers 15 km in 1200 s; with shadowing it first links to an
    # east node some 8 km away, still only after the 900 s cut-off above.
    assert min(whole[i] for i in east) > 900.0

    late = oracle.reach(west0, 2000.0, 3600.0)  # the bus is already in the east: no path back
    assert not set(east) & set(late)


def test_greedy_cds_on_a_path_and_a_star() -> None:
    path = [{1}, {0, 2}, {1, 3}, {2}]
    assert greedy_cds(0, {0, 1, 2, 3}, path) == 3  # 0, 1, 2 transmit
    star = [{1, 2, 3}, {0}, {0}, {0}]
    assert greedy_cds(1, {0, 1, 2, 3}, star) == 2  # the leaf, then the hub


def test_report_compares_flooding_with_the_oracle() -> None:
    from relay.sim import run_scenario

    _, report = run_scenario("islands-bridge")
    d = report.summary["delivery"]
    # Flooding cannot carry the west's bulletins across: well under the oracle.
    assert d["by_label"]["west"]["ratio"] < 0.7
    assert d["by_label"]["east"]["ratio"] == 1.0
    assert report.summary["airtime_s"]["lower_bound"] > 0
