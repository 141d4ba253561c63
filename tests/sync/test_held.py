"""The held bulletins' beacon: kept between changes, never stale (relay.sync.held)."""

from __future__ import annotations

from relay.sync import frames
from relay.sync.held import Held
from relay.sync.types import Judgement, SyncConfig


def judgement(n: int, priority: int = 10, expires_at: float | None = None) -> Judgement:
    return Judgement(bytes([n]) * 8, True, priority, 1000 + n, expires_at, b"author00")


def fresh(held: Held, now: float) -> frames.Beacon:
    """The beacon computed from scratch."""
    ids = [item.judgement.id for item in held.sync_set(now)]
    return frames.Beacon(frames.digest(ids), len(ids))


def test_the_kept_beacon_follows_every_add_settle_expiry_and_forget() -> None:
    cfg = SyncConfig(settle=90.0, urgent_settle=30.0, max_items=3)
    held = Held(cfg)
    held.add(b"a", judgement(1), 0.0)
    held.add(b"b", judgement(2, expires_at=500.0), 50.0)
    held.add(b"c", judgement(3, priority=90), 100.0)  # urgent: settles after 30 s
    times = [0.0, 89.9, 90.0, 129.9, 130.0, 139.9, 140.0, 499.9, 500.0, 600.0]
    counts = []
    for now in times:
        assert held.beacon(now) == fresh(held, now), now
        assert held.beacon(now) == fresh(held, now), now  # asked again: the kept one
        counts.append(held.beacon(now).count)
    assert counts == [0, 0, 1, 1, 2, 2, 3, 3, 2, 2]  # settles at 90, 130, 140; expires at 500
    held.add(b"d", judgement(4), 0.0)  # held long ago: settled, and a fourth over max_items
    assert held.beacon(600.0) == fresh(held, 600.0)
    assert len(held) == 3
    assert held.beacon(599.0) == fresh(held, 599.0)  # an earlier clock is computed again
