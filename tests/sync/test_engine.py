"""The sync engine in an in-memory mesh: reach, catch-up, loss, spam and bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.sync import frames
from relay.sync.engine import SyncConfig
from relay.sync.events import PacketReceived
from relay.sync.judge import MemoryJudge, priority_of
from relay.trust import TrustState
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, announcement, news, safety
from tests.sync.harness import Net, chain, grid
from tests.sync.judging import JudgingEngine

ROOT = make_identity("newsroom")
MALLORY = make_identity("mallory")


def publish(net: Net, node: int, bulletin: wire.Bulletin) -> None:
    engine = net.engines[node]
    judgement = engine.judge(bulletin.raw, net.now, None)
    assert judgement is not None and judgement.relayable
    net.transmit(node, engine.publish(bulletin.raw, judgement, net.now))


def test_chain_longer_than_hop_limit_is_reached_with_one_send_per_hop() -> None:
    net = Net(chain(12), ROOT)
    item = news(ROOT, created=T0)
    publish(net, 0, item)
    net.run(until=120.0)
    assert net.holders(item.id) == set(range(12))
    assert net.sent["data"] == 12  # origin + one relay per node (the last relays to no one new)


def test_a_copy_from_a_close_sender_is_not_relayed_but_still_reaches_everyone() -> None:
    close = Net(chain(6), ROOT, snr=0.0)  # strong links: relays would cover little
    far = Net(chain(6), ROOT)
    for net in (close, far):
        item = news(ROOT, created=T0)
        publish(net, 0, item)
        net.run(until=120.0)
    assert far.holders(item.id) == set(range(6))
    assert close.holders(item.id) == {0, 1}  # eager spread stops at the strong link
    close.run(until=3000.0)
    assert close.holders(item.id) == set(range(6))  # anti-entropy still carries it on


def test_dense_grid_suppresses_redundant_relays() -> None:
    net = Net(grid(7), ROOT)
    item = news(ROOT, created=T0)
    publish(net, 24, item)  # the centre
    net.run(until=200.0)
    assert net.holders(item.id) == set(range(49))
    assert net.sent["data"] <= 30  # without suppression every one of the 49 would send


def test_node_that_was_away_catches_up_through_beacons() -> None:
    net = Net(chain(6), ROOT)
    net.awake[5] = False
    items = [news(ROOT, f"bulletin {i}", created=T0 + i) for i in range(40)]
    for item in items:
        publish(net, 0, item)
    net.run(until=300.0)
    assert all(5 not in net.holders(i.id) for i in items)
    net.awake[5] = True
    net.run(until=3000.0)
    assert all(net.holders(i.id) == set(range(6)) for i in items)  # more than one summary page


def test_twenty_percent_loss_still_reaches_everyone() -> None:
    net = Net(grid(5), ROOT, loss=0.2, seed=7)
    items = [news(ROOT, f"loss {i}", created=T0 + i) for i in range(5)]
    for item in items:
        publish(net, 0, item)
    net.run(until=3000.0)
    assert all(net.holders(i.id) == set(range(25)) for i in items)


def test_untrusted_and_forged_bulletins_are_never_relayed() -> None:
    net = Net(chain(5), ROOT)
    spam = [news(MALLORY, f"spam {i}", created=T0 + i) for i in range(10)]
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, ROOT.key_id, T0, "forged official", "en"))
    forged = unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned)
    net.transmit(0, [])
    from relay.sync.events import SendPacket

    net.transmit(
        2,
        [SendPacket(announcement(MALLORY).raw, 0)]
        + [SendPacket(s.raw, 0) for s in spam]
        + [SendPacket(forged, 0)],
    )
    before = net.sent["data"]
    net.run(until=600.0)
    assert net.sent["data"] == before  # nobody re-sent any of it
    assert all(not e.items for e in net.engines.values())


def test_expired_bulletins_are_not_sent() -> None:
    net = Net(chain(3), ROOT)
    alert = safety(ROOT, lifetime=60, created=T0)
    engine = net.engines[0]
    judgement = engine.judge(alert.raw, float(T0), None)
    assert judgement is not None
    engine.add(alert.raw, judgement)
    net.now = float(T0 + 10_000)
    net.run(until=T0 + 12_000.0)
    assert net.sent["data"] == 0 and not engine.holds(alert.id)


def test_priorities() -> None:
    assert priority_of(safety(ROOT, severity="extreme").content) > priority_of(
        safety(ROOT, severity="minor").content
    )
    assert priority_of(safety(ROOT, severity="minor").content) > priority_of(news(ROOT).content)


def test_frames_round_trip() -> None:
    summary = frames.Summary(b"abcd", 3, frames.HEAD, 12345, (b"1234", b"5678"))
    assert frames.parse(summary.encode()) == summary
    request = frames.Request(7, 99, (b"1234",))
    assert frames.parse(request.encode()) == request
    assert (
        len(
            frames.Summary(
                b"abcd", 1, 1, 1, tuple(b"abcd" for _ in range(frames.MAX_LISTED))
            ).encode()
        )
        <= 231
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=240), st.sampled_from([0x19, 0x1A, 0x1B, 0x10, 0x18]))
def test_garbage_never_raises(tail: bytes, frame: int) -> None:
    state = TrustState()
    engine = JudgingEngine(MemoryJudge(state), SyncConfig())
    engine.hear(PacketReceived(bytes([frame]) + tail, 1), 0.0)
    engine.hear(PacketReceived(tail, 2), 1.0)


def test_urgent_alerts_spread_eagerly_even_over_strong_links() -> None:
    net = Net(chain(6), ROOT, snr=0.0)  # strong links: news would stop at the first hop
    alert = safety(ROOT, severity="extreme", created=T0)
    publish(net, 0, alert)
    net.run(until=120.0)
    assert net.holders(alert.id) == set(range(6))


def test_an_urgent_alert_restarts_trickle_when_it_settles() -> None:
    state = TrustState()
    state.add_root(ROOT.key_id, ROOT.public_key, "root")
    engine = JudgingEngine(MemoryJudge(state), SyncConfig(), node=1)
    now = float(T0)
    for step in range(40):  # quiet for 40 minutes: the timer backs off to Imax
        engine.tick(now + 60.0 * step)
    now += 2400.0
    assert engine.anti_entropy.trickle.interval == engine.config.imax
    engine.hear(PacketReceived(news(ROOT, created=T0 + 1).raw, 7, hops=0, snr=-12.0), now)
    engine.tick(now + engine.config.urgent_settle + 1)
    assert engine.anti_entropy.trickle.interval == engine.config.imax  # news does not
    alert = safety(ROOT, severity="severe", created=T0 + 2)
    engine.hear(PacketReceived(alert.raw, 7, hops=0, snr=-12.0), now + 40)
    engine.tick(now + 40 + engine.config.urgent_settle)
    assert engine.anti_entropy.trickle.interval == engine.config.imin


def test_a_client_mute_radio_hands_every_flood_to_the_application() -> None:
    net = Net(chain(2), ROOT)
    engine = net.engines[1]
    engine.set_radio_role("CLIENT_MUTE")  # its firmware will not relay: the flood ends here
    item = news(ROOT, created=T0)
    sends = engine.hear(PacketReceived(item.raw, 9, hops=0, snr=-12.0, hop_limit=2), T0)
    assert sends == [] and ("push", item.id) in engine.outbox
    other = net.engines[0]
    other.hear(PacketReceived(item.raw, 9, hops=0, snr=-12.0, hop_limit=2), T0)
    assert ("push", item.id) not in other.outbox  # a relaying radio: the firmware carries it


def test_summaries_heard_often_do_not_starve_the_request() -> None:
    state = TrustState()
    state.add_root(ROOT.key_id, ROOT.public_key, "root")
    engine = JudgingEngine(MemoryJudge(state), SyncConfig(), node=1)
    missing = news(ROOT, created=T0)
    page = frames.Summary(b"\x01" * 4, 1, frames.HEAD, 0, (missing.id[: frames.PREFIX_LEN],))
    sent: list[bytes] = []
    for step in range(30):  # a different neighbour's summary every 4 s, for two minutes
        event = PacketReceived(page.encode(), 100 + step, hops=0, snr=-12.0)
        sent += [s.payload for s in engine.hear(event, T0 + 4.0 * step)]
        sent += [s.payload for s in engine.tick(T0 + 4.0 * step + 2.0)]
    requests = [frames.parse(p) for p in sent if p[0] == 0x1B]
    assert requests, "the request never went out"
    assert len(requests) <= 120 / SyncConfig().request_interval + 1  # and is still rate-limited


def test_an_unanswered_request_is_sent_again_until_the_bulletin_comes() -> None:
    state = TrustState()
    state.add_root(ROOT.key_id, ROOT.public_key, "root")
    config = SyncConfig()
    engine = JudgingEngine(MemoryJudge(state), config, node=1)
    missing = news(ROOT, created=T0)
    page = frames.Summary(b"\x01" * 4, 1, frames.HEAD, 0, (missing.id[: frames.PREFIX_LEN],))
    engine.hear(PacketReceived(page.encode(), 7, hops=0, snr=-12.0), T0)

    def requests_until(t: float) -> int:
        sent = []
        now = engine.clock
        while now < t:
            now = max(now + 1.0, engine.next_deadline() or now + 1.0)
            sent += [s.payload for s in engine.tick(min(now, t))]
        return sum(1 for p in sent if p[0] == 0x1B)

    assert requests_until(T0 + 10) == 1  # answered soon after the summary
    assert requests_until(T0 + 10 + 2 * config.retry_after + 5) == config.request_retries
    assert requests_until(T0 + 1000) == 0  # and then it waits for the next summary
    engine.hear(PacketReceived(page.encode(), 7, hops=0, snr=-12.0), T0 + 1000)
    assert requests_until(T0 + 1010) == 1
    engine.hear(PacketReceived(missing.raw, 7, hops=0, snr=-12.0), T0 + 1011)
    assert requests_until(T0 + 1100) == 0  # it came: no retry


def _engine(config: SyncConfig | None = None) -> JudgingEngine:
    state = TrustState()
    state.add_root(ROOT.key_id, ROOT.public_key, "root")
    return JudgingEngine(MemoryJudge(state), config or SyncConfig(), seed=3, node=1)


def test_relays_wait_longer_among_many_neighbours() -> None:
    item = news(ROOT, created=T0)
    by_snr_only = SyncConfig(relay_jitter=0.0)  # no random share: delays comparable
    lonely, crowded = _engine(by_snr_only), _engine(by_snr_only)
    beacon = frames.Beacon(b"\x00" * 4, 0).encode()
    for k in range(48):  # 48 radios heard directly: 3x the reference density
        crowded.hear(PacketReceived(beacon, 500 + k, hops=0, snr=-12.0), T0 - 100.0 + k)
    for engine in (lonely, crowded):
        engine.hear(PacketReceived(item.raw, 9, hops=0, snr=-12.0, hop_limit=0), T0)
    due = [e.outbox.jobs[("push", item.id)].due - T0 for e in (lonely, crowded)]
    assert due[1] == pytest.approx(3.0 * due[0])  # a 3x wider window
    alert = safety(ROOT, created=T0 + 5)
    for engine in (lonely, crowded):
        engine.hear(PacketReceived(alert.raw, 9, hops=0, snr=-12.0, hop_limit=0), T0 + 1)
    urgent = [e.outbox.jobs[("push", alert.id)].due for e in (lonely, crowded)]
    assert urgent[0] == pytest.approx(urgent[1])  # alerts are never held back


def test_a_bulletin_asked_for_joins_the_sync_set_at_once() -> None:
    engine = _engine()
    missing, relayed = news(ROOT, "asked", created=T0), news(ROOT, "relayed", created=T0 + 1)
    page = frames.Summary(b"\x01" * 4, 1, frames.HEAD, 0, (missing.id[: frames.PREFIX_LEN],))
    engine.hear(PacketReceived(page.encode(), 7, hops=0, snr=-12.0), T0)
    engine.tick(T0 + engine.config.answer_delay + 1)  # the request goes out
    now = T0 + 10.0
    for item in (missing, relayed):
        engine.hear(PacketReceived(item.raw, 7, hops=0, snr=-12.0, hop_limit=0), now)
    ids = [item.judgement.id for item in engine.held.sync_set(now + 1)]
    assert ids == [missing.id]  # the relayed one settles first (relays are still spreading it)


def test_a_summary_owed_to_a_neighbour_served_by_another_is_not_sent() -> None:
    engine = _engine()
    item = news(ROOT, created=T0)
    judgement = engine.judge(item.raw, T0, None)
    assert judgement is not None
    engine.add(item.raw, judgement, T0 - 1000.0)  # settled
    engine.tick(T0)
    behind = frames.Beacon(b"\x00" * 4, 0).encode()  # neighbour 7 holds nothing
    engine.hear(PacketReceived(behind, 7, hops=0, snr=-12.0), T0 + 1)
    assert engine.anti_entropy.inconsistent
    asks_other = frames.Request(8, 0, (item.id[: frames.PREFIX_LEN],)).encode()
    engine.hear(PacketReceived(asks_other, 7, hops=0, snr=-12.0), T0 + 2)
    assert not engine.anti_entropy.inconsistent  # 8 answers 7, and we hear that
    moving = frames.Beacon(b"\x00\x00\x00\x01", 1).encode()  # 7's digest moves as answers come
    engine.hear(PacketReceived(moving, 7, hops=0, snr=-12.0), T0 + 3)
    assert not engine.anti_entropy.inconsistent  # within imin of its request: not our turn
    sends = []
    now = T0 + 2
    while now < T0 + 60:
        now = max(now + 0.5, engine.next_deadline() or now + 0.5)
        sends += engine.tick(now)
    assert not any(s.payload[0] == frames.SUMMARY for s in sends)


def test_a_node_far_behind_beacons_instead_of_showing_its_page() -> None:
    engine = _engine()
    for step in range(40):  # quiet: the timer backs off to Imax
        engine.tick(T0 + 60.0 * step)
    now = T0 + 2400.0
    ahead = frames.Beacon(b"\x00\x00\x00\x01", 100).encode()  # holds 100, we hold none
    engine.hear(PacketReceived(ahead, 7, hops=0, snr=-12.0), now)
    assert not engine.anti_entropy.inconsistent  # its own page is what it will ask from
    assert engine.anti_entropy.trickle.interval == engine.config.imin  # but it beacons soon
    near = frames.Beacon(b"\x00\x00\x00\x02", 3).encode()  # a small difference: pages both ways
    engine.hear(PacketReceived(near, 8, hops=0, snr=-12.0), now + 1)
    assert engine.anti_entropy.inconsistent
