"""What an ideal protocol could achieve: reachability over time and a transmission bound.

Reachability: a node is reachable for an item when a time-respecting path of links joins it to the
origin after the item was published. A link i→j exists while both ends have power and j would
decode i (received power at or above sensitivity, shadowing included; no interference, no random
loss). Time is cut into epochs at every power change and, while anyone moves, every
``oracle_step`` seconds; within an epoch propagation is instantaneous and a node that was reached
keeps the item across power cuts (a Jarshy node stores it). Hop limits do not apply.

Transmission bound (a heuristic, not a proven minimum): the size of a greedy connected dominating
set grown from the origin over the union of the links seen during the item's life, covering every
reachable node; multiplied by the frames per item and the airtime per frame. The true minimum is
NP-hard to compute; greedy is within a log factor of it, so the ratio "airtime used ÷ bound" is an
honest measure of waste but may understate what a perfect schedule could save.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from relay.sim.channel import Channel
from relay.sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class _Epoch:
    start: float
    awake: tuple[bool, ...]
    extra: dict[int, list[int]]  # out-links involving moving nodes
    signature: int


@dataclass(frozen=True, slots=True)
class ItemOracle:
    """Reachability and transmission bound for one item."""

    reach_time: dict[int, float]  # node index -> earliest time it could hold the item
    min_transmitters: int


class Oracle:
    """Reachability over time for a scenario's network."""

    def __init__(self, scenario: Scenario, channel: Channel) -> None:
        self.scenario = scenario
        self.channel = channel
        self.n = len(scenario.nodes)
        sens = channel.sensitivity
        self._static: list[list[int]] = [
            [j for j, p in channel.links_from(i, 0.0) if p >= sens and not channel.is_mobile[j]]
            if not channel.is_mobile[i]
            else []
            for i in range(self.n)
        ]
        times = {0.0}
        for spec in scenario.nodes:
            for a, b in spec.off:
                times.update((a, b))
        step = scenario.oracle_step
        for m in channel.mobile:
            t0, t1 = channel.tracks[m].moving_between()
            t = max(t0, 0.0)
            while t <= min(t1, scenario.duration + scenario.drain):
                times.add(t)
                t += step
            times.add(min(t1, scenario.duration + scenario.drain))
        self.times = sorted(t for t in times if 0.0 <= t <= scenario.duration + scenario.drain)
        self._epochs: dict[int, _Epoch] = {}
        self._union_cache: dict[tuple[int, ...], list[set[int]]] = {}

    def _epoch(self, k: int) -> _Epoch:
        ep = self._epochs.get(k)
        if ep is None:
            t = self.times[k]
            awake = tuple(spec.awake_at(t) for spec in self.scenario.nodes)
            extra: dict[int, list[int]] = {}
            ch, sens = self.channel, self.channel.sensitivity
            for m in ch.mobile:
                xm, ym = ch.position(m, t)
                for i in range(self.n):
                    if i == m:
                        continue
                    xi, yi = ch.position(i, t)
                    d = math.hypot(xm - xi, ym - yi)
                    if d > ch.max_range:
                        continue
                    if ch.rssi(m, i, d) >= sens:
                        extra.setdefault(m, []).append(i)
                    if not ch.is_mobile[i] and ch.rssi(i, m, d) >= sens:
                        extra.setdefault(i, []).append(m)
            sig = hash((awake, tuple(sorted((a, tuple(b)) for a, b in extra.items()))))
            ep = self._epochs[k] = _Epoch(t, awake, extra, sig)
        return ep

    def _neighbours(self, ep: _Epoch, i: int) -> list[int]:
        extra = ep.extra.get(i)
        return self._static[i] + extra if extra else self._static[i]

    def _epoch_range(self, t0: float, t1: float) -> range:
        first = max(0, bisect_right(self.times, t0) - 1)
        last = bisect_right(self.times, t1)
        return range(first, max(first + 1, last))

    def reach(self, origin: int, t0: float, t1: float) -> dict[int, float]:
        """Earliest time each node could hold an item published at ``origin`` at ``t0``."""
        reached = {origin: t0}
        last_sig: int | None = None
        for k in self._epoch_range(t0, t1):
            ep = self._epoch(k)
            if ep.signature == last_sig:
                continue  # same graph, same closure
            last_sig = ep.signature
            at = max(t0, ep.start)
            frontier = [i for i in reached if ep.awake[i]]
            while frontier:
                i = frontier.pop()
                for j in self._neighbours(ep, i):
                    if j not in reached and ep.awake[j]:
                        reached[j] = at
                        frontier.append(j)
            if len(reached) == self.n:
                break
        return reached

    def _union(self, t0: float, t1: float) -> list[set[int]]:
        epochs = [self._epoch(k) for k in self._epoch_range(t0, t1)]
        key = tuple(sorted({ep.signature for ep in epochs}))
        adj = self._union_cache.get(key)
        if adj is None:
            adj = [set() for _ in range(self.n)]
            seen: set[int] = set()
            for ep in epochs:
                if ep.signature in seen:
                    continue
                seen.add(ep.signature)
                for i in range(self.n):
                    if ep.awake[i]:
                        adj[i].update(j for j in self._neighbours(ep, i) if ep.awake[j])
            if len(self._union_cache) > 64:
                self._union_cache.clear()
            self._union_cache[key] = adj
        return adj

    def item(self, origin: int, t0: float, t1: float) -> ItemOracle:
        """Reachability and the greedy transmitter count for one item."""
        reach = self.reach(origin, t0, t1)
        adj = self._union(t0, t1)
        return ItemOracle(reach, greedy_cds(origin, set(reach), adj))


def greedy_cds(origin: int, targets: set[int], adj: Sequence[set[int]]) -> int:
    """Transmitters in a greedy connected dominating set from ``origin`` covering ``targets``.

    Grows the transmitter set from the origin, always adding the already-covered node that covers
    the most still-uncovered targets (lazy evaluation: gains only shrink).
    """
    covered = {origin} | (adj[origin] & targets)
    chosen = {origin}
    heap: list[tuple[int, int]] = []

    def gain(c: int) -> int:
        return len((adj[c] & targets) - covered)

    for c in covered - chosen:
        heapq.heappush(heap, (-gain(c), c))
    while len(covered & targets) < len(targets) and heap:
        neg, c = heapq.heappop(heap)
        if c in chosen:
            continue
        g = gain(c)
        if g == 0:
            continue
        if g < -neg:
            heapq.heappush(heap, (-g, c))
            continue
        chosen.add(c)
        new = (adj[c] & targets) - covered
        covered |= new
        for j in new:
            heapq.heappush(heap, (-gain(j), j))
    return len(chosen)
