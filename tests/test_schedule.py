"""The transmit queue: order, bounds, expiry, the airtime budget and back-off, on a virtual clock."""

from __future__ import annotations

from relay.schedule import HOUR, Ticket, TransmitQueue

NEWS, CORRECTION, REVOCATION = 20, 40, 100
EXTREME, SEVERE, MODERATE, MINOR, UNKNOWN = 90, 80, 70, 60, 50
ALICE, BOB = b"alice---", b"bob-----"


def ticket(
    item: str,
    priority: int = NEWS,
    created: float = 0.0,
    airtime: float = 1.0,
    expires_at: float | None = None,
    author: bytes | None = None,
) -> Ticket[str]:
    return Ticket(item, priority, created, airtime, expires_at, author)


def drain(queue: TransmitQueue[str], now: float = 0.0) -> list[str]:
    out = []
    while (t := queue.next_ready(now)) is not None:
        out.append(t.item)
    return out


def test_classes_then_severity_then_newest_first() -> None:
    queue: TransmitQueue[str] = TransmitQueue()
    for t in (
        ticket("old news", NEWS, created=1),
        ticket("new news", NEWS, created=2),
        ticket("correction", CORRECTION, created=9),
        ticket("unknown-severity alert", UNKNOWN),
        ticket("minor alert", MINOR),
        ticket("extreme alert", EXTREME),
        ticket("severe alert", SEVERE),
        ticket("moderate alert", MODERATE),
        ticket("revocation", REVOCATION),
    ):
        assert queue.enqueue(t, now=0.0)
    assert queue.depth_by_priority() == {
        REVOCATION: 1, EXTREME: 1, SEVERE: 1, MODERATE: 1, MINOR: 1, UNKNOWN: 1,
        CORRECTION: 1, NEWS: 2,
    }  # fmt: skip
    assert drain(queue) == [
        "revocation", "extreme alert", "severe alert", "moderate alert", "minor alert",
        "unknown-severity alert", "correction", "new news", "old news",
    ]  # fmt: skip


def test_expired_never_sent() -> None:
    queue: TransmitQueue[str] = TransmitQueue()
    assert not queue.enqueue(ticket("already stale", expires_at=5.0), now=6.0)
    assert queue.enqueue(ticket("stale later", UNKNOWN, expires_at=10.0), now=0.0)
    assert queue.enqueue(ticket("fresh"), now=0.0)
    assert drain(queue, now=11.0) == ["fresh"]
    assert queue.dropped["expired"] == 2 and len(queue) == 0


def test_full_class_keeps_the_newest_and_other_classes_untouched() -> None:
    queue: TransmitQueue[str] = TransmitQueue(class_limit=3)
    assert queue.enqueue(ticket("alert", SEVERE), now=0.0)
    for i in range(10):
        queue.enqueue(ticket(f"news {i}", created=i), now=0.0)
    assert not queue.enqueue(ticket("older than all", created=-1), now=0.0)
    assert drain(queue) == ["alert", "news 9", "news 8", "news 7"]
    assert queue.dropped["class full"] == 8


def test_expired_tickets_make_room_in_a_full_class() -> None:
    queue: TransmitQueue[str] = TransmitQueue(class_limit=2)
    queue.enqueue(ticket("a", created=5, expires_at=10.0), now=0.0)
    queue.enqueue(ticket("b", created=6, expires_at=10.0), now=0.0)
    assert queue.enqueue(ticket("older but live", created=1), now=20.0)
    assert drain(queue, now=20.0) == ["older but live"]


def test_one_author_cannot_fill_a_class() -> None:
    queue: TransmitQueue[str] = TransmitQueue(author_limit=3)
    for i in range(20):
        queue.enqueue(ticket(f"alice {i}", created=i, author=ALICE), now=0.0)
    assert queue.enqueue(ticket("bob", created=0, author=BOB), now=0.0)
    # Alice's alert displaces her own oldest news, not anyone else's.
    assert queue.enqueue(ticket("alice alert", SEVERE, created=0, author=ALICE), now=0.0)
    assert drain(queue) == ["alice alert", "alice 19", "alice 18", "bob"]
    assert queue.dropped["author limit"] == 18


def test_flood_of_ten_times_capacity_cannot_delay_a_trusted_alert() -> None:
    """A 10x flood of news, most of the hour's budget already used: the alert still goes next."""
    queue: TransmitQueue[str] = TransmitQueue(duty_cycle=0.1, class_limit=200)
    for i in range(2000):  # also 11x the hour's budget of 180 packets
        queue.enqueue(ticket(f"spam {i}", created=i, airtime=2.0, author=bytes([i % 50]) * 8), 0.0)
    assert len(queue) == 200 and sum(queue.dropped.values()) == 1800
    now, sent = 0.0, 0
    while sent < 150:  # 300 of the 360 budget seconds spent on news
        t = queue.next_ready(now)
        assert t is not None
        queue.record_sent(t.airtime, now)
        now, sent = now + 2.0, sent + 1
    queue.update_channel(60.0, now)  # and the channel is busy
    assert queue.enqueue(ticket("evacuate", EXTREME, created=0, airtime=2.0, author=ALICE), now)
    first = queue.next_ready(now)
    assert first is not None and first.item == "evacuate"
    assert queue.next_ready(now) is None  # news holds back on the busy channel


def test_duty_cycle_is_a_sliding_hour() -> None:
    queue: TransmitQueue[str] = TransmitQueue(duty_cycle=0.1)  # 360 s per hour
    for i in range(300):
        queue.enqueue(ticket(str(i), created=i, airtime=2.0), now=0.0)
    now, sent = 0.0, 0
    while (t := queue.next_ready(now)) is not None:
        queue.record_sent(t.airtime, now)
        sent, now = sent + 1, now + 2.0
    assert sent == 180 and queue.budget_left(now) == 0.0
    deadline = queue.next_deadline(now)
    assert deadline == HOUR  # the first send (at 0 s) leaves the window
    assert queue.next_ready(deadline - 0.5) is None
    assert queue.next_ready(deadline) is not None


def test_busy_channel_holds_back_routine_items_until_the_report_is_stale() -> None:
    queue: TransmitQueue[str] = TransmitQueue(channel_ttl=300.0)
    queue.update_channel(40.0, now=100.0)
    queue.enqueue(ticket("news"), now=100.0)
    assert queue.next_ready(100.0) is None
    assert queue.next_deadline(100.0) == 400.0
    queue.enqueue(ticket("alert", MODERATE), now=100.0)
    assert drain(queue, now=101.0) == ["alert"]
    assert queue.next_ready(399.0) is None
    assert drain(queue, now=400.0) == ["news"]  # no fresh report: not held forever
    queue.enqueue(ticket("more news"), now=400.0)
    queue.update_channel(40.0, now=400.0)
    queue.update_channel(10.0, now=410.0)
    assert drain(queue, now=410.0) == ["more news"]


def test_defer_and_requeue() -> None:
    queue: TransmitQueue[str] = TransmitQueue(class_limit=1)
    queue.enqueue(ticket("a", created=1), now=0.0)
    taken = queue.next_ready(0.0)
    assert taken is not None
    queue.enqueue(ticket("b", created=2), now=0.0)
    queue.requeue(taken)  # over the class bound: it was admitted once already
    queue.defer(60.0)
    assert queue.next_ready(30.0) is None and queue.next_deadline(30.0) == 60.0
    assert drain(queue, now=60.0) == ["b", "a"]
    assert queue.next_deadline(60.0) is None
