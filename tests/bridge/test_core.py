"""The bridge's sans-IO core and its fair inbound queue, fed events and times directly."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from relay.bridge.core import (
    MAX_EXPIRY,
    MAX_PAYLOAD,
    BridgeCore,
    BridgeLimits,
    Budget,
    Refuse,
    Skip,
    Take,
)
from relay.bridge.fair_queue import FairQueue
from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from tests.helpers import news

AUTHOR = Identity("Newsroom", bytes(range(32)))
NOW = float(int(time.time()))


def bulletin(n: int) -> wire.Bulletin:
    return news(AUTHOR, f"item {n}", created=int(NOW))


def test_offered_bulletins_go_out_by_priority_once_and_wait_again_after_a_drop() -> None:
    core = BridgeCore("kz", "gw-a", BridgeLimits(outbox=3))
    items = [bulletin(n) for n in range(4)]
    for priority, item in zip((20, 90, 20, 50), items, strict=True):
        assert core.offer(item.raw, item.id, priority, NOW + 600)
    assert core.stats.dropped == 1 and core.queued == 3  # the oldest lowest-priority let go
    assert not core.offer(items[1].raw, items[1].id, 90, NOW + 600)  # already on its way
    due = core.due(NOW, limit=2)
    assert [p.ident for p in due] == [items[1].id, items[3].id]
    assert due[0].topic == f"jarshy/kz/g/gw-a/b/{items[1].id.hex()}" and due[0].expiry == 600
    core.acked(items[1].id)
    core.disconnected()  # items[3] was in flight: it waits again
    assert core.queued == 2 and core.stats.sent == 1
    core.connected(session_present=True, wall=NOW)
    assert core.queued == 2  # the broker kept our session: nothing again
    core.connected(session_present=False, wall=NOW)
    assert core.queued == 3  # a broker that lost us gets what it acknowledged again
    assert [p.expiry for p in core.due(NOW + 700, limit=10)] == []  # all expired meanwhile


def test_expired_publications_are_forgotten_and_named_for_clearing() -> None:
    core = BridgeCore("kz", "gw-a")
    short, long = bulletin(1), bulletin(2)
    core.offer(short.raw, short.id, 20, NOW + 60)
    core.offer(long.raw, long.id, 20, NOW + 6000)
    for item in core.due(NOW, 10):
        core.acked(item.ident)
    assert core.expired(NOW + 30) == []
    assert core.expired(NOW + 61) == [f"jarshy/kz/g/gw-a/b/{short.id.hex()}"]
    assert core.expired(NOW + 61) == [] and core.tracked[1] == 1


def test_a_bulletin_without_lifetime_is_retained_at_most_max_expiry() -> None:
    core = BridgeCore("kz", "gw-a")
    item = bulletin(1)
    core.offer(item.raw, item.id, 20, None)
    assert core.due(NOW, 1)[0].expiry == MAX_EXPIRY


def test_incoming_checks_cheapest_first() -> None:
    core = BridgeCore("kz", "gw-a")
    item = bulletin(7)
    topic = f"jarshy/kz/g/gw-b/b/{item.id.hex()}"
    assert isinstance(core.received("jarshy/other/g/gw-b/b/" + item.id.hex(), item.raw, 0), Refuse)
    assert isinstance(core.received(f"jarshy/kz/g/gw-a/b/{item.id.hex()}", item.raw, 0), Skip)
    assert core.received(topic, b"", 0) == Skip("cleared")
    assert core.received(topic, b"\0" * (MAX_PAYLOAD + 1), 0) == Refuse("oversized", "gw-b")
    assert core.received(topic, os.urandom(40), 0) == Refuse("junk", "gw-b")
    other = bulletin(8)
    assert core.received(topic, other.raw, 0) == Refuse("id differs from topic", "gw-b")
    take = core.received(topic, item.raw, 0)
    assert take == Take(item.id, item.raw, "gw-b")
    core.judged(take, "accepted", True, 0)
    assert core.received(topic, item.raw, 0) == Skip("duplicate")
    assert core.stats.received == 1 and core.stats.rejected == 4
    assert not core.offer(item.raw, item.id, 20, None)  # it came over the bridge: never back


def test_budgets_per_publisher_and_the_spam_brake() -> None:
    limits = BridgeLimits(stranger=Budget(1.0, 3.0), strangers=Budget(100.0, 100.0),
                          trusted=Budget(100.0, 100.0), brake_after=5, brake_for=60.0)  # fmt: skip
    core = BridgeCore("kz", "gw-a", limits)
    items = [bulletin(n) for n in range(10)]

    def send(who: str, n: int, at: float) -> object:
        return core.received(f"jarshy/kz/g/{who}/b/{items[n].id.hex()}", items[n].raw, at)

    assert [type(send("stranger", n, 0)) for n in range(4)] == [Take, Take, Take, Refuse]
    assert isinstance(send("stranger", 4, 1.0), Take)  # one a second refills
    # a publisher whose bulletins turn out trusted gets the larger budget
    first = send("gw-b", 5, 0)
    assert isinstance(first, Take)
    core.judged(first, "accepted", True, 0)
    assert all(isinstance(send("gw-b", n, 0), Take) for n in range(6, 10))
    # junk from one prefix brakes it; others go on
    for n in range(5):  # within its budget (a refusal over budget costs nothing to judge)
        assert core.received(f"jarshy/kz/g/evil/b/{'00' * 8}", b"junk", 10.0 + n).reason == "junk"  # type: ignore[union-attr]
    evil = f"jarshy/kz/g/evil/b/{items[0].id.hex()}"
    assert core.received(evil, items[0].raw, 15.0) == Refuse("braked", "evil")
    assert isinstance(send("stranger", 0, 15.0), Take)
    assert isinstance(core.received(evil, items[0].raw, 75.0), Take)  # the brake lets go


def test_tracked_publishers_are_bounded() -> None:
    core = BridgeCore("kz", "gw-a", BridgeLimits(publishers=10))
    for n in range(100):
        core.received(f"jarshy/kz/g/p{n}/b/{'00' * 8}", b"x", float(n))
    assert core.tracked[3] == 10


@dataclass
class Message:
    topic: str


async def test_the_inbound_queue_is_fair_and_a_flood_costs_only_its_sender() -> None:
    queue = FairQueue(maxsize=10)
    queue.put_nowait(Message("jarshy/kz/g/gw-b/b/1"))
    for n in range(50):
        queue.put_nowait(Message(f"jarshy/kz/g/evil/b/{n}"))
    queue.put_nowait(Message("jarshy/kz/g/gw-c/b/2"))
    assert queue.qsize() == 10 and queue.evicted == 42
    got = [(await asyncio.wait_for(queue.get(), 1)).topic for _ in range(3)]
    assert got[0] == "jarshy/kz/g/gw-b/b/1" and got[1].startswith("jarshy/kz/g/evil/")
    assert got[2] == "jarshy/kz/g/gw-c/b/2"  # served in turn, not behind the flood
