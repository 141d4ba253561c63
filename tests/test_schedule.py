"""The transmit queue: order, bounds, expiry and the airtime budget, on a virtual clock."""

from __future__ import annotations

from relay.schedule import TransmitQueue


def test_priority_then_newest_first() -> None:
    queue: TransmitQueue[str] = TransmitQueue()
    queue.enqueue("old news", 20, created=1, airtime=1)
    queue.enqueue("new news", 20, created=2, airtime=1)
    queue.enqueue("extreme alert", 90, created=0, airtime=1)
    queue.enqueue("revocation", 100, created=0, airtime=1)
    order = [queue.next_ready(0.0) for _ in range(4)]
    assert order == ["revocation", "extreme alert", "new news", "old news"]


def test_expired_never_sent() -> None:
    queue: TransmitQueue[str] = TransmitQueue()
    queue.enqueue("stale", 50, created=0, airtime=1, expires_at=10.0)
    assert queue.next_ready(11.0) is None and len(queue) == 0


def test_news_flood_cannot_push_out_safety() -> None:
    queue: TransmitQueue[str] = TransmitQueue(per_class_limit=100)
    accepted = sum(queue.enqueue(f"spam {i}", 20, created=i, airtime=2) for i in range(1000))
    assert accepted == 100 and queue.dropped == 900  # 10x what the class may hold
    assert queue.enqueue("alert", 80, created=0, airtime=2)
    assert queue.next_ready(0.0) == "alert"


def test_duty_cycle_budget() -> None:
    queue: TransmitQueue[int] = TransmitQueue(duty_cycle=0.1)  # 360 s per hour
    sent = 0
    for i in range(300):
        queue.enqueue(i, 20, created=i, airtime=2.0)
    now = 0.0
    while queue.next_ready(now) is not None:
        queue.record_sent(2.0, now)
        sent += 1
        now += 2.0
    assert sent == 180  # 360 s of airtime
    deadline = queue.next_deadline(now)
    assert deadline is not None and deadline >= 3600.0
    assert queue.next_ready(deadline) is not None


def test_busy_channel_holds_back_news_not_alerts() -> None:
    queue: TransmitQueue[str] = TransmitQueue()
    queue.channel_utilization = 40.0
    queue.enqueue("news", 20, created=0, airtime=1)
    assert queue.next_ready(0.0) is None
    queue.enqueue("alert", 70, created=0, airtime=1)
    assert queue.next_ready(0.0) == "alert"
    queue.channel_utilization = 10.0
    assert queue.next_ready(0.0) == "news"
