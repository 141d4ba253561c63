"""Frontier relay (docs/protocol.md §9, behaviour 2): whether and when a node rebroadcasts a new
bulletin whose firmware flood ends at it, once, with hop limit 0."""

from __future__ import annotations

import random
from collections import deque

from relay.sync.events import PacketReceived
from relay.sync.types import Judgement, SyncConfig

AUTHOR_WINDOW = 3600.0  # seconds over which ``author_rate`` relays per author are allowed
NEIGHBOUR_FOR = 3600.0  # a radio heard directly counts as a neighbour this long
MAX_NEIGHBOURS = 512
# Relay windows widen with the neighbours a node hears: among n contenders, random delays over a
# window W leave each a chance to overhear an earlier copy when W spans about n packet times.
# ``push_delay`` (20 s, ~10 LongFast packets) suits DENSITY_REF neighbours; at most MAX_SPREAD x.
DENSITY_REF = 16
MAX_SPREAD = 3.0


class Frontier:
    """The relay decision and its delay; owns the per-author relay counts."""

    def __init__(self, config: SyncConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.relays_by_author: dict[bytes, deque[float]] = {}
        self.neighbours: dict[int, float] = {}  # radios heard directly -> last heard

    def heard(self, event: PacketReceived, now: float) -> None:
        """Count the radio of a frame heard directly (hop distance 0) as a neighbour."""
        if event.hops == 0:
            self.neighbours.pop(event.sender, None)
            self.neighbours[event.sender] = now
            if len(self.neighbours) > MAX_NEIGHBOURS:
                del self.neighbours[next(iter(self.neighbours))]

    def spread(self, now: float) -> float:
        """How much wider than ``push_delay`` the relay window is here (1 to MAX_SPREAD)."""
        while self.neighbours:
            first = next(iter(self.neighbours))
            if now - self.neighbours[first] <= NEIGHBOUR_FOR:
                break
            del self.neighbours[first]
        return max(1.0, min(MAX_SPREAD, len(self.neighbours) / DENSITY_REF))

    def delay(
        self, event: PacketReceived, judgement: Judgement, firmware_relays: bool, now: float
    ) -> float | None:
        """Seconds until our relay of a bulletin just held, or None for no relay: the firmware
        carries it on, a close sender covered our neighbours, or its author used its share."""
        cfg = self.config
        flood_ends_here = event.hop_limit is None or event.hop_limit <= 0
        urgent = judgement.priority >= cfg.urgent_priority  # more redundancy for these
        if firmware_relays and not flood_ends_here:
            return None
        if not urgent and self.near(event):
            return None
        if not self._author_allows(judgement, now):
            return None
        return self._delay(event) * (1.0 if urgent else self.spread(now))

    def near(self, event: PacketReceived) -> bool:
        """A copy from a close sender: our relay would cover little it did not."""
        near = self.config.near_snr
        return near is not None and event.snr is not None and event.snr >= near

    def _delay(self, event: PacketReceived) -> float:
        """Far (weak) receivers relay first, as the firmware's contention window does."""
        snr = -5.0 if event.snr is None else max(-20.0, min(10.0, event.snr))
        weight = (snr + 20.0) / 30.0
        jitter = self.config.relay_jitter
        share = (1.0 - jitter) * weight + jitter * self.rng.random()
        return self.config.push_delay * (0.1 + 0.9 * share)

    def _author_allows(self, judgement: Judgement, now: float) -> bool:
        times = self.relays_by_author.setdefault(judgement.author, deque())
        while times and now - times[0] > AUTHOR_WINDOW:
            times.popleft()
        if len(times) >= self.config.author_rate:
            return False
        times.append(now)
        return True
