"""Transmit queue (sans-IO): priority order inside an airtime budget.

Order: higher priority first (revocations > safety by severity > corrections > keys > news, as the
sync engine assigns), then newest first; expired items are dropped when they reach the head.  Each
priority class has its own bound, so a flood of one class never pushes out another.  The budget is
the region's duty cycle over a sliding hour, and transmissions hold back while the radio reports a
channel utilisation above ``busy_utilization`` (25 %, as firmware modules do) — except items at or
above ``urgent_priority`` (safety alerts), which only the duty cycle stops.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

HOUR = 3600.0


@dataclass(order=True)
class _Entry(Generic[T]):
    sort_key: tuple[int, float, int]
    item: T = field(compare=False)
    expires_at: float | None = field(compare=False, default=None)
    airtime: float = field(compare=False, default=0.0)


@dataclass
class TransmitQueue(Generic[T]):
    """Bounded priority queue of things to transmit, released within an airtime budget."""

    duty_cycle: float = 1.0  # fraction of the hour this node may transmit (EU_868: 0.1)
    per_class_limit: int = 256
    busy_utilization: float = 25.0  # percent
    urgent_priority: int = 50
    _heap: list[_Entry[T]] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _sent: deque[tuple[float, float]] = field(default_factory=deque)  # (time, airtime)
    channel_utilization: float = 0.0
    dropped: int = 0

    def __len__(self) -> int:
        return len(self._heap)

    def enqueue(
        self,
        item: T,
        priority: int,
        created: float,
        airtime: float,
        expires_at: float | None = None,
    ) -> bool:
        """Queue ``item``; False (and counted) if its class is full."""
        same_class = sum(1 for e in self._heap if -e.sort_key[0] == priority)
        if same_class >= self.per_class_limit:
            self.dropped += 1
            return False
        entry = _Entry((-priority, -created, next(self._counter)), item, expires_at, airtime)
        heapq.heappush(self._heap, entry)
        return True

    def used_airtime(self, now: float) -> float:
        while self._sent and now - self._sent[0][0] >= HOUR:
            self._sent.popleft()
        return sum(airtime for _, airtime in self._sent)

    def budget_left(self, now: float) -> float:
        return self.duty_cycle * HOUR - self.used_airtime(now)

    def next_ready(self, now: float) -> T | None:
        """The next item allowed on air now, removed from the queue; None if nothing may go."""
        while self._heap:
            head = self._heap[0]
            if head.expires_at is not None and now >= head.expires_at:
                heapq.heappop(self._heap)
                continue
            if head.airtime > self.budget_left(now):
                return None
            urgent = -head.sort_key[0] >= self.urgent_priority
            if self.channel_utilization > self.busy_utilization and not urgent:
                return None
            heapq.heappop(self._heap)
            return head.item
        return None

    def record_sent(self, airtime: float, now: float) -> None:
        self._sent.append((now, airtime))

    def next_deadline(self, now: float) -> float | None:
        """When ``next_ready`` may next release something (None: queue empty)."""
        if not self._heap:
            return None
        head = self._heap[0]
        if head.airtime <= self.budget_left(now):
            return now + (5.0 if self.channel_utilization > self.busy_utilization else 0.0)
        # Wait until enough of the oldest sends leave the sliding hour.
        need = head.airtime - self.budget_left(now)
        freed = 0.0
        for sent_at, airtime in self._sent:
            freed += airtime
            if freed >= need:
                return sent_at + HOUR
        return now + HOUR

    def depth_by_priority(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for entry in self._heap:
            counts[-entry.sort_key[0]] = counts.get(-entry.sort_key[0], 0) + 1
        return counts
