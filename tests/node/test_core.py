"""The node core in process and in virtual time: two nodes, real SQLite stores, no radio, no loop.

Frames a node transmits are handed to the other as received frames (h11's ConnectionPair,
aioquic's ``transfer``); the clock is a number the test moves.
"""

from __future__ import annotations

from pathlib import Path

from relay.node.core import BulletinHeld, ForgeryHeard, NodeCore, Output, VerdictChanged
from relay.store import Store
from relay.sync.engine import SyncConfig
from relay.sync.events import PacketReceived
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import T0, certificate, news, safety

NEWSROOM = make_identity("newsroom")
ALICE = make_identity("alice")
MALLORY = make_identity("mallory")
NOW = float(T0 + 60)
A, B = 0xA, 0xB


def node(tmp_path: Path, name: str, num: int) -> NodeCore:
    tmp_path.mkdir(parents=True, exist_ok=True)
    core = NodeCore(Store(tmp_path / f"{name}.sqlite3"), SyncConfig(), seed=num, node=num)
    core.ingest.add_root(NEWSROOM.public_key, "Newsroom", NOW)
    core.load(NOW)
    core.link_up(num, "CLIENT")
    return core


def heard(payload: bytes, sender: int) -> PacketReceived:
    return PacketReceived(payload, sender, hops=0, snr=5.0, hop_limit=0)


def deliver(out: Output, sender: int, to: NodeCore, now: float) -> list[Output]:
    return [to.receive(heard(send.payload, sender), now) for send in out.sends]


def test_a_published_alert_arrives_trusted_with_its_notice(tmp_path: Path) -> None:
    a, b = node(tmp_path, "a", A), node(tmp_path, "b", B)
    alert = safety(NEWSROOM, severity="extreme")
    ident, out = a.publish(alert.raw, NOW)
    assert ident == alert.id and out.sends and isinstance(out.notices[0], BulletinHeld)
    got = deliver(out, A, b, NOW + 1)
    notices = [n for o in got for n in o.notices]
    assert BulletinHeld(alert.id) in notices
    row = b.store.get(alert.id)
    assert row is not None and row.status is Status.TRUSTED
    assert b.engine.holds(alert.id)  # held to relay and to answer requests


def test_a_forgery_is_a_notice_and_never_stored(tmp_path: Path) -> None:
    b = node(tmp_path, "b", B)
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, NEWSROOM.key_id, T0, "Evacuate now", "en"))
    forged = unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned)
    out = b.receive(heard(forged, 0x5BAD), NOW)
    assert [type(n) for n in out.notices] == [ForgeryHeard]
    assert b.store.get(wire.parse(forged).id) is None


def test_a_certificate_turns_held_bulletins_trusted_in_one_output(tmp_path: Path) -> None:
    b = node(tmp_path, "b", B)
    first = news(ALICE, "Мост закрыт.")
    b.receive(heard(first.raw, 0x77), NOW)
    assert b.store.get(first.id).status is Status.PENDING_KEY  # type: ignore[union-attr]
    out = b.receive(heard(certificate(NEWSROOM, ALICE).raw, 0x77), NOW + 1)
    while b.backlog:
        out.extend(b.rejudge(NOW + 1))
    changed = {n.id: n.verdict for n in out.notices if isinstance(n, VerdictChanged)}
    assert changed[first.id].status is Status.TRUSTED
    assert b.engine.holds(first.id)


def test_the_next_deadline_drives_time(tmp_path: Path) -> None:
    """The host asks when to wake the core; at that time the core has something to send."""
    a = node(tmp_path, "a", A)
    a.publish(news(NEWSROOM, "Свет дали.").raw, NOW)
    now = NOW
    sent = 0
    for _ in range(20):
        deadline = a.next_deadline()
        assert deadline is not None
        now = max(now, deadline)
        sent += len(a.tick(now).sends)
    assert sent > 0  # beacons or summaries went out at the deadlines the core named


def sends_over(core: NodeCore, start: float, seconds: float, wall_jump: float) -> int:
    """Packets the core sends over ``seconds`` of monotonic time, the wall clock jumping by
    ``wall_jump`` halfway; the host wakes it at the deadlines it names."""
    now, count = start, 0
    while now < start + seconds:
        wall = now + (wall_jump if now >= start + seconds / 2 else 0.0)
        count += len(core.tick(now, wall).sends)
        deadline = core.next_deadline()
        now = max(now + 0.001, deadline if deadline is not None else now + 30.0)
    return count


def test_a_wall_clock_jump_neither_stalls_nor_bursts_the_timers(tmp_path: Path) -> None:
    """Issue 11: timers run on the monotonic clock; the wall clock set back or forward by three
    days mid-run changes nothing in what the node sends, and its alert stays relayable."""
    counts = []
    for jump in (0.0, -3 * 86400.0, 3 * 86400.0):
        a = node(tmp_path / f"j{jump}", "a", A)
        alert = safety(NEWSROOM, severity="extreme", created=T0, lifetime=6 * 3600)
        a.publish(alert.raw, 1000.0, NOW)
        counts.append(sends_over(a, 1000.0, 4 * 3600.0, jump))
        assert a.engine.holds(alert.id)  # its lifetime runs on elapsed time, not the wall's jump
    assert counts[0] > 0 and counts[1] == counts[0] == counts[2]


def test_a_relay_reads_no_text_until_its_background_slices_or_a_reader_do(tmp_path: Path) -> None:
    from relay.read_text import read_text
    from relay.store import TEXT_READ, TEXT_UNREAD

    a, b = node(tmp_path, "a", A), node(tmp_path, "b", B)
    items = [news(NEWSROOM, f"Бюллетень {i}", created=T0 + i) for i in range(40)]
    for item in items:
        _, out = a.publish(item.raw, NOW)
        deliver(out, A, b, NOW + 1)
    read_text.cache_clear()
    assert all(b.store.get(i.id).text_state == TEXT_UNREAD for i in items)  # type: ignore[union-attr]
    assert b.backlog  # texts wait to be read for search
    slices = 0
    while b.backlog:
        b.rejudge(NOW + 2)
        slices += 1
    assert slices >= 2  # bounded slices, not one long pass
    row = b.store.get(items[7].id)
    assert row is not None and row.text_state == TEXT_READ and row.text == "Бюллетень 7"
