"""Channels, keys and frequency slots in the simulator (issue 10 item 1's plan, measured).

A chain n0 - n1 - n2 (4 km apart: each hears only its neighbours); n0 and n2 run Jarshy, n1 is a
stock node whose role and rebroadcast mode vary. The rules are relay/sim/meshrules.py's, shared
with the emulator.
"""

from __future__ import annotations

import pytest
from simkit import line

from relay.lora import packet_airtime
from relay.sim import OneShotPublisher, Simulation
from relay.sim.firmware import RebroadcastMode
from relay.sim.plans import compare_plans
from relay.sim.scenario import load_scenario, with_duration


def across_a_stock_node(plan: str, firmware: str = "2.8.0", **stock: str) -> tuple[bool, object]:
    sc = line(
        [0.0, 4000.0, 8000.0],
        extra={"n1": {"jarshy": False, **stock}},
        channel_plan=plan,
        firmware=firmware,
    )
    eng = {"n0": OneShotPublisher([(5.0, b"bulletin", 3)]), "n2": OneShotPublisher()}
    result = Simulation(sc, engines=eng).run()
    return bool(eng["n2"].received), result.counters


@pytest.mark.parametrize(
    ("plan", "firmware", "stock", "crosses"),
    [
        ("shared", "2.8.0", {}, True),
        ("secondary", "2.8.0", {}, True),  # relayed as an opaque packet (rebroadcast ALL)
        ("isolated", "2.8.0", {}, False),  # another frequency slot: never heard
        ("shared", "2.8.0", {"role": "ROUTER"}, False),  # ROUTER -> CORE_PORTNUMS_ONLY
        ("secondary", "2.8.0", {"role": "ROUTER"}, False),  # 2.8: opaque only under ALL
        ("secondary", "2.7.26", {"role": "ROUTER"}, True),  # 2.7: relays what it cannot read
        ("secondary", "2.8.0", {"rebroadcast_mode": "LOCAL_ONLY"}, False),
        ("shared", "2.8.0", {"rebroadcast_mode": "LOCAL_ONLY"}, True),
        ("secondary", "2.8.0", {"rebroadcast_mode": "ALL_SKIP_DECODING"}, True),
    ],
)
def test_what_a_stock_node_does_with_jarshy(
    plan: str, firmware: str, stock: dict[str, str], crosses: bool
) -> None:
    got, _ = across_a_stock_node(plan, firmware, **stock)
    assert got is crosses


def test_counters_say_why() -> None:
    _, shared = across_a_stock_node("shared", role="ROUTER")
    _, secondary = across_a_stock_node("secondary")
    _, blocked = across_a_stock_node("secondary", role="ROUTER")
    assert shared.core_only_drops == 1  # type: ignore[attr-defined]
    assert secondary.opaque_relays == 1  # type: ignore[attr-defined]
    assert blocked.opaque_drops == 1  # type: ignore[attr-defined]


def test_stock_router_defaults_to_core_portnums_only_jarshy_router_does_not() -> None:
    sc = line(
        [0.0, 100.0], extra={"n0": {"role": "ROUTER", "jarshy": False}, "n1": {"role": "ROUTER"}}
    )
    assert sc.nodes[0].mode is RebroadcastMode.CORE_PORTNUMS_ONLY
    assert sc.nodes[1].mode is RebroadcastMode.ALL  # provisioned by Jarshy


def test_firmware_version_sets_the_airtime() -> None:
    _, new = across_a_stock_node("shared", "2.8.0")
    _, old = across_a_stock_node("shared", "2.7.26")
    per_packet = packet_airtime(len(b"bulletin"), firmware="2.8.0")
    assert new.airtime == pytest.approx(3 * per_packet)  # type: ignore[attr-defined]
    assert old.airtime < new.airtime  # type: ignore[attr-defined]


def test_plans_compared_on_the_shipped_scenario() -> None:
    sc = with_duration(load_scenario("channel-plans"), 600)
    rows = {(r.plan, r.firmware): r for r in compare_plans(sc)}
    secondary, isolated = rows["secondary", "2.8.0"], rows["isolated", "2.8.0"]
    assert secondary.pairs == isolated.pairs > 0
    assert secondary.delivery > isolated.delivery  # stock nodes carry Jarshy
    assert secondary.opaque_relays > 0 and isolated.opaque_relays == 0
    assert rows["secondary", "2.7.26"].airtime < secondary.airtime  # no 2.8 signature


def test_router_late_window_is_the_worst_client_delay() -> None:
    # getTxDelayMsecWeightedWorst: 2*CWmax slots plus 2^CW(snr) slots, no random part
    from relay.sim.firmware import CW_MAX, cw_size_for_snr, late_window_delay

    slot = 0.028
    for snr in (-20.0, 0.0, 10.0):
        expected = (2 * CW_MAX + (1 << cw_size_for_snr(snr))) * slot
        assert late_window_delay(snr, slot) == pytest.approx(expected)


def test_a_full_queue_evicts_its_back() -> None:
    # MeshPacketQueue: the back is the lowest priority, our own after relays, the newest
    from relay.sim.firmware import TX_QUEUE_SIZE, Node, Packet, Queued, Role

    node = Node(0, 1, "n", Role.CLIENT, RebroadcastMode.ALL)
    for seq in range(TX_QUEUE_SIZE):
        own = seq % 2 == 0
        pkt = Packet(0, seq, 3, 3, b"", True, 1.0)
        assert node.enqueue(Queued(pkt, 0.0, 64, seq, relay=not own))
    newest_own = max(q.seq for q in node.queue if not q.relay)
    assert not node.enqueue(Queued(Packet(0, 99, 3, 3, b"", True, 1.0), 0.0, 64, 99, False))
    assert node.enqueue(Queued(Packet(0, 100, 3, 3, b"", True, 1.0), 0.0, 100, 100, False))
    assert newest_own not in {q.seq for q in node.queue}
