"""Trickle timer (RFC 6206): beacons that fall silent while neighbours agree."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Trickle:
    """One Trickle timer; times in seconds, driven by the caller's clock."""

    imin: float
    imax: float
    k: int
    rng: random.Random
    interval: float = field(init=False)
    start: float = field(init=False, default=0.0)
    fire_at: float = field(init=False, default=0.0)
    counter: int = field(init=False, default=0)
    fired: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.interval = self.imin

    def begin(self, now: float) -> None:
        """Start a new interval at ``now``."""
        self.start = now
        self.counter = 0
        self.fired = False
        self.fire_at = now + self.rng.uniform(self.interval / 2, self.interval)

    def reset(self, now: float) -> None:
        """Inconsistency heard: go back to the shortest interval (if not already there)."""
        if self.interval > self.imin:
            self.interval = self.imin
            self.begin(now)

    def consistent(self) -> None:
        self.counter += 1

    def deadline(self) -> float:
        return self.fire_at if not self.fired else self.start + self.interval

    def due(self, now: float) -> bool:
        """Advance the timer; True when a beacon should be sent now."""
        if not self.fired and now >= self.fire_at:
            self.fired = True
            return self.counter < self.k
        if self.fired and now >= self.start + self.interval:
            self.interval = min(self.interval * 2, self.imax)
            self.begin(now)
        return False
