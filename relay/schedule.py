"""Transmit queue (sans-IO): what goes on air next, inside the airtime budget.

Order: higher ``priority`` first (revocation 100 > safety by severity 90 extreme .. 50 unknown >
corrections and retractions 40 > key bulletins 30 > news 20 > sync frames 0 and below, as
relay.sync.judge.priority_of assigns), then newest first within a priority class.  Expired tickets
never go out: they are dropped on the way in and again when they reach the head.

Bounds, so that no flood can push out what matters:

- each priority class holds at most ``class_limit`` tickets; a newer ticket displaces the oldest of
  its own class, never another class's (a flood of news cannot touch a safety alert);
- each author holds at most ``author_limit`` tickets; beyond that a more important or newer
  ticket displaces the author's least important, oldest one (one key cannot fill a class).

The budget is the region's duty cycle (``duty_cycle``, EU_868: 0.1) over a sliding hour of what
``record_sent`` reported.  While the radio's latest ``channel_utilization`` report (less than
``channel_ttl`` old) is above ``busy_utilization`` (25 %, as firmware modules hold back), only
tickets at or above ``urgent_priority`` (safety alerts, revocations) are released.  ``defer``
holds everything back, e.g. after the radio refused a packet for its own duty-cycle limit.

No clock inside: every call takes ``now`` (seconds); ``next_deadline(now)`` says when to ask again.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

HOUR = 3600.0


@dataclass(frozen=True)
class Ticket(Generic[T]):
    """One unit to transmit (e.g. all packets of one bulletin) and what ordering needs to know."""

    item: T
    priority: int
    created: float  # newest first within a priority class
    airtime: float  # seconds on air for the whole unit
    expires_at: float | None = None
    author: bytes | None = None  # key id, for the per-author bound; None for sync frames

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


# Within a class: sorted ascending by (-created, sequence): index 0 is the newest.
_Slot = tuple[float, int, Ticket[T]]


@dataclass
class TransmitQueue(Generic[T]):
    """Bounded priority queue of tickets, released within an airtime budget."""

    duty_cycle: float = 1.0  # fraction of the hour this node may transmit
    class_limit: int = 256
    author_limit: int = 32
    busy_utilization: float = 25.0  # percent
    urgent_priority: int = 50
    channel_ttl: float = 300.0  # a utilisation report counts this long (firmware sends ~60 s)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> tickets dropped
    _classes: dict[int, list[_Slot[T]]] = field(default_factory=dict)
    _authors: Counter[bytes] = field(default_factory=Counter)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _sent: deque[tuple[float, float]] = field(default_factory=deque)  # (time, airtime)
    _channel: tuple[float, float] | None = None  # (utilisation %, time reported)
    _deferred_until: float = float("-inf")

    def __len__(self) -> int:
        return sum(len(slots) for slots in self._classes.values())

    # -- in ------------------------------------------------------------------------------------

    def enqueue(self, ticket: Ticket[T], now: float) -> bool:
        """Queue ``ticket``; False (and counted in ``dropped``) when a bound refuses it."""
        if ticket.expired(now):
            self.dropped["expired"] += 1
            return False
        slots = self._classes.setdefault(ticket.priority, [])
        if len(slots) >= self.class_limit:
            self._purge_expired(ticket.priority, now)
        if len(slots) >= self.class_limit:
            if slots[-1][2].created >= ticket.created:
                self.dropped["class full"] += 1
                return False
            self._remove(ticket.priority, len(slots) - 1)
            self.dropped["class full"] += 1
        if ticket.author is not None and self._authors[ticket.author] >= self.author_limit:
            victim = self._least_of(ticket.author)
            if (victim[2].priority, victim[2].created) >= (ticket.priority, ticket.created):
                self.dropped["author limit"] += 1
                return False
            self._remove(victim[2].priority, self._classes[victim[2].priority].index(victim))
            self.dropped["author limit"] += 1
        self._insert(ticket)
        return True

    def requeue(self, ticket: Ticket[T]) -> None:
        """Put back a ticket the radio could not take yet (bounds already admitted it)."""
        self._insert(ticket)

    # -- out -----------------------------------------------------------------------------------

    def next_ready(self, now: float) -> Ticket[T] | None:
        """The ticket allowed on air now, removed from the queue; None if nothing may go."""
        head = self._head(now)
        if head is None or self._blocked_until(head, now) > now:
            return None
        self._remove(head.priority, 0)
        return head

    def next_deadline(self, now: float) -> float | None:
        """When ``next_ready`` may next release something (None: the queue is empty).

        A busy channel is re-checked when its report goes stale; drivers should also ask again
        whenever they call ``update_channel`` or ``enqueue``."""
        head = self._head(now)
        return None if head is None else max(now, self._blocked_until(head, now))

    def depth_by_priority(self) -> dict[int, int]:
        return {p: len(slots) for p, slots in sorted(self._classes.items(), reverse=True) if slots}

    # -- what the radio tells us ---------------------------------------------------------------

    def record_sent(self, airtime: float, now: float) -> None:
        """The radio took a packet that will be ``airtime`` seconds on air."""
        self._sent.append((now, airtime))

    def update_channel(self, utilization: float | None, now: float) -> None:
        """The radio's latest channel utilisation report (percent busy over the last minute)."""
        self._channel = None if utilization is None else (utilization, now)

    def defer(self, until: float) -> None:
        """Hold everything back until ``until`` (e.g. the radio hit its own duty-cycle limit)."""
        self._deferred_until = max(self._deferred_until, until)

    def busy(self, now: float) -> bool:
        """True while a fresh utilisation report says the channel is too busy for routine items."""
        if self._channel is None:
            return False
        utilization, at = self._channel
        return now - at < self.channel_ttl and utilization > self.busy_utilization

    def used_airtime(self, now: float) -> float:
        while self._sent and now - self._sent[0][0] >= HOUR:
            self._sent.popleft()
        return sum(airtime for _, airtime in self._sent)

    def budget_left(self, now: float) -> float:
        return self.duty_cycle * HOUR - self.used_airtime(now)

    # -- inside --------------------------------------------------------------------------------

    def _head(self, now: float) -> Ticket[T] | None:
        for priority in sorted((p for p, s in self._classes.items() if s), reverse=True):
            slots = self._classes[priority]
            while slots and slots[0][2].expired(now):
                self._remove(priority, 0)
                self.dropped["expired"] += 1
            if slots:
                return slots[0][2]
        return None

    def _blocked_until(self, head: Ticket[T], now: float) -> float:
        """Earliest time ``head`` may go: deferral, duty cycle and busy channel all allow it."""
        until = max(now, self._deferred_until)
        need = min(head.airtime, self.duty_cycle * HOUR) - self.budget_left(now)
        if need > 0:  # wait for enough of the oldest sends to leave the sliding hour
            freed = 0.0
            for sent_at, airtime in self._sent:
                freed += airtime
                if freed >= need:
                    until = max(until, sent_at + HOUR)
                    break
        if head.priority < self.urgent_priority and self.busy(now):
            assert self._channel is not None
            until = max(until, self._channel[1] + self.channel_ttl)
        return until

    def _purge_expired(self, priority: int, now: float) -> None:
        slots = self._classes[priority]
        for index in range(len(slots) - 1, -1, -1):
            if slots[index][2].expired(now):
                self._remove(priority, index)
                self.dropped["expired"] += 1

    def _least_of(self, author: bytes) -> _Slot[T]:
        """The author's least important ticket: lowest priority, then oldest."""
        mine = (s for slots in self._classes.values() for s in slots if s[2].author == author)
        return min(mine, key=lambda s: (s[2].priority, s[2].created))

    def _insert(self, ticket: Ticket[T]) -> None:
        slots = self._classes.setdefault(ticket.priority, [])
        bisect.insort(slots, (-ticket.created, next(self._seq), ticket), key=lambda s: s[:2])
        if ticket.author is not None:
            self._authors[ticket.author] += 1

    def _remove(self, priority: int, index: int) -> None:
        ticket = self._classes[priority].pop(index)[2]
        if ticket.author is not None:
            self._authors[ticket.author] -= 1
            if not self._authors[ticket.author]:
                del self._authors[ticket.author]
