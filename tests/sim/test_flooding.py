"""Managed flooding: hop limit, duplicate cache, cancel on overhear, roles."""

from __future__ import annotations

import pytest
from simkit import line

from relay.sim import OneShotPublisher, Simulation
from relay.sim.firmware import CW_MAX, CW_MIN, arduino_map, cw_size_for_snr


def chain_run(hop_limit: int, n: int = 6, **kw: object) -> tuple[dict[str, OneShotPublisher], int]:
    sc = line([4000.0 * i for i in range(n)], **kw)  # type: ignore[arg-type]
    eng = {f"n{i}": OneShotPublisher() for i in range(n)}
    eng["n0"] = OneShotPublisher([(10.0, b"flood me", hop_limit)])
    result = Simulation(sc, engines=eng).run()
    return eng, result.counters.transmissions


def test_flooding_respects_hop_limit() -> None:
    eng, tx = chain_run(2)
    got = {name: [e.hops for _, e in e_.received] for name, e_ in eng.items()}
    assert got == {"n0": [], "n1": [0], "n2": [1], "n3": [2], "n4": [], "n5": []}
    assert tx == 3  # origin plus relays at n1 and n2; n3 heard hop_limit 0


def test_each_node_relays_a_packet_once() -> None:
    eng, tx = chain_run(7)
    for name in ("n1", "n2", "n3", "n4", "n5"):
        assert len(eng[name].received) == 1, name  # duplicates never reach the host
    assert tx == 6  # n5 relays too (hop limit left), nobody twice


def triangle(role: str) -> tuple[int, int]:
    # n0 publishes; n1 and n2 hear n0 and each other.
    sc = line([0, 1500, 3000], roles={"n1": role, "n2": role})
    eng = {"n0": OneShotPublisher([(5.0, b"x" * 50, 3)])}
    result = Simulation(sc, engines=eng).run()
    return result.counters.transmissions, result.counters.relay_cancelled


def test_client_cancels_queued_relay_on_overhearing_it() -> None:
    tx, cancelled = triangle("CLIENT")
    assert (tx, cancelled) == (2, 1)


@pytest.mark.parametrize("role", ["ROUTER", "ROUTER_LATE"])
def test_routers_never_cancel(role: str) -> None:
    tx, cancelled = triangle(role)
    assert (tx, cancelled) == (3, 0)


def test_client_mute_never_relays() -> None:
    tx, _ = triangle("CLIENT_MUTE")
    assert tx == 1
    eng, tx = chain_run(5, roles={"n1": "CLIENT_MUTE"})
    assert tx == 1 and eng["n2"].received == []


def test_router_late_goes_after_clients() -> None:
    # n1 is ROUTER_LATE, n2 a client, both hear n0; the late router relays last.
    sc = line([0, 1500, 3000], roles={"n1": "ROUTER_LATE"})
    sim = Simulation(sc, engines={"n0": OneShotPublisher([(5.0, b"late", 3)])})
    order: list[str] = []
    original = sim._transmit

    def spy(node, pkt):  # type: ignore[no-untyped-def]
        order.append(node.name)
        original(node, pkt)

    sim._transmit = spy  # type: ignore[method-assign]
    sim.run()
    assert order == ["n0", "n2", "n1"]


def test_core_portnums_only_router_drops_jarshy_packets() -> None:
    eng, tx = chain_run(
        5, extra={"n1": {"role": "ROUTER", "rebroadcast_mode": "CORE_PORTNUMS_ONLY"}}
    )
    assert tx == 1 and eng["n1"].received == [] and eng["n2"].received == []


def test_contention_window_follows_the_firmware_map() -> None:
    assert cw_size_for_snr(-20) == CW_MIN
    assert cw_size_for_snr(10) == CW_MAX
    assert cw_size_for_snr(-5.7) == 5  # truncation as in Arduino's map on longs
    assert arduino_map(-25, -20, 10, 3, 8) == 3  # C division truncates toward zero
