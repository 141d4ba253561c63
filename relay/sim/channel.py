"""The simulated radio channel: path loss, per-link shadowing, movement and neighbour lists.

Link budgets between static nodes are computed once, with a spatial grid so that only nearby
pairs are examined; links that involve a moving node are computed when needed. A link is kept
when its received power reaches the sensitivity minus the 6 dB capture margin: a weaker signal can
neither be decoded nor spoil a decodable one.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from relay.lora import Preset

CAPTURE_DB = 6.0
"""A packet survives an overlapping one that is at least this much weaker."""

_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Propagation:
    """Path-loss model: ``log_distance`` (open terrain) or ``urban`` (Okumura-Hata, small city)."""

    model: str = "log_distance"
    exponent: float = 2.7  # log_distance: path-loss exponent
    ref_loss_db: float | None = None  # log_distance: loss at 1 m; default free space
    shadowing_db: float = 6.0  # standard deviation of the per-link static shadowing
    height_m: float = 1.5  # urban: antenna height of both ends
    freq_mhz: float = 869.5

    def path_loss(self, distance_m: float) -> float:
        """Median path loss in dB at ``distance_m`` (no shadowing)."""
        (a, b), floor = self.loss_lines()
        lg = math.log10(max(distance_m, 1.0))
        return max(a + b * lg, floor[0] + floor[1] * lg)

    def loss_lines(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The path loss as ``max(a + b·log10 d, a' + b'·log10 d)`` (d ≥ 1 m): the model's
        line and the free-space floor it never goes below (none for ``log_distance``)."""
        f = self.freq_mhz
        if self.model == "urban":
            h = self.height_m
            a_hm = (1.1 * math.log10(f) - 0.7) * h - (1.56 * math.log10(f) - 0.8)
            a = 69.55 + 26.16 * math.log10(f) - 13.82 * math.log10(h) - a_hm
            b = 44.9 - 6.55 * math.log10(h)
            fspl = 20.0 * math.log10(f) - 27.55  # never below free space
            return (a - 3.0 * b, b), (fspl, 20.0)  # log10(d / 1000) = log10(d) - 3
        ref = self.ref_loss_db if self.ref_loss_db is not None else 20.0 * math.log10(f) - 27.55
        return (ref, 10.0 * self.exponent), (-math.inf, 0.0)

    def max_range(self, budget_db: float) -> float:
        """Largest distance at which the median loss minus 3 sigma of shadowing fits the budget."""
        budget = budget_db + 3.0 * self.shadowing_db
        lo, hi = 1.0, 1.0
        while self.path_loss(hi) <= budget and hi < 1e7:
            hi *= 2.0
        for _ in range(60):
            mid = (lo + hi) / 2.0
            if self.path_loss(mid) <= budget:
                lo = mid
            else:
                hi = mid
        return hi


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def link_shadowing(seed: int, a: int, b: int, sigma: float) -> float:
    """Static log-normal shadowing of the link a–b (symmetric, seeded, clipped to ±3 sigma)."""
    if sigma <= 0.0:
        return 0.0
    lo, hi = (a, b) if a < b else (b, a)
    h1 = _mix((seed & _MASK) ^ _mix(lo * 1_000_003 + hi))
    h2 = _mix(h1)
    u1 = ((h1 >> 11) + 1) / float(1 << 53)
    u2 = (h2 >> 11) / float(1 << 53)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return sigma * max(-3.0, min(3.0, z))


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A node is at (x, y) metres at time t seconds; it moves in straight lines in between."""

    t: float
    x: float
    y: float


class Track:
    """Where a node is over time: one fixed point or piecewise-linear waypoints."""

    __slots__ = ("_points", "_times")

    def __init__(self, points: Sequence[Waypoint]) -> None:
        if not points:
            raise ValueError("a track needs at least one point")
        self._points = sorted(points, key=lambda w: w.t)
        self._times = [w.t for w in self._points]

    @property
    def mobile(self) -> bool:
        """True when the node ever moves."""
        first = self._points[0]
        return any((w.x, w.y) != (first.x, first.y) for w in self._points)

    def at(self, t: float) -> tuple[float, float]:
        """Position at time ``t`` (clamped to the first and last waypoint)."""
        i = bisect_right(self._times, t)
        if i == 0:
            return self._points[0].x, self._points[0].y
        if i == len(self._points):
            return self._points[-1].x, self._points[-1].y
        a, b = self._points[i - 1], self._points[i]
        f = (t - a.t) / (b.t - a.t) if b.t > a.t else 1.0
        return a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)

    def moving_between(self) -> tuple[float, float]:
        """First and last waypoint times (the node is still outside this span)."""
        return self._times[0], self._times[-1]


Link = tuple[int, float]  # (receiver index, received power dBm)


class Channel:
    """Link budgets between nodes; static pairs precomputed on a spatial grid."""

    def __init__(
        self,
        tracks: Sequence[Track],
        tx_dbm: Sequence[float],
        gain_db: Sequence[float],
        preset: Preset,
        propagation: Propagation,
        seed: int,
    ) -> None:
        self.tracks = list(tracks)
        self.tx_dbm = list(tx_dbm)
        self.gain_db = list(gain_db)
        self.preset = preset
        self.propagation = propagation
        self.seed = seed
        self.sensitivity = preset.sensitivity_dbm
        self.floor = self.sensitivity - CAPTURE_DB
        self.n = len(self.tracks)
        self.mobile = [i for i, tr in enumerate(self.tracks) if tr.mobile]
        mobile_set = set(self.mobile)
        self.static = [i for i in range(self.n) if i not in mobile_set]
        self.is_mobile = [i in mobile_set for i in range(self.n)]
        best_budget = max(self.tx_dbm, default=0.0) + 2.0 * max(self.gain_db, default=0.0)
        self.max_range = propagation.max_range(best_budget - self.floor)
        self._static_links: list[list[Link]] = [[] for _ in range(self.n)]
        self._build_static()

    def rssi(self, tx: int, rx: int, distance_m: float) -> float:
        """Received power (dBm) at ``rx`` of a transmission by ``tx`` over ``distance_m``."""
        return (
            self.tx_dbm[tx]
            + self.gain_db[tx]
            + self.gain_db[rx]
            - self.propagation.path_loss(distance_m)
            - link_shadowing(self.seed, tx, rx, self.propagation.shadowing_db)
        )

    def _build_static(self) -> None:
        """Links between static nodes, each pair once, with a spatial grid: the path loss and
        the shadowing hash are inlined here (millions of pairs in city-5000); they compute
        exactly what :meth:`rssi` does."""
        cell = max(self.max_range, 1.0)
        grid: dict[tuple[int, int], list[int]] = {}
        pos = {i: self.tracks[i].at(0.0) for i in self.static}
        for i in self.static:
            x, y = pos[i]
            grid.setdefault((int(x // cell), int(y // cell)), []).append(i)
        (a1, b1), (a2, b2) = self.propagation.loss_lines()
        sigma, seed = self.propagation.shadowing_db, self.seed & _MASK
        log10, sqrt, log, cos, tau = math.log10, math.sqrt, math.log, math.cos, 2.0 * math.pi
        eirp = [t + g for t, g in zip(self.tx_dbm, self.gain_db, strict=True)]
        gain, floor, links = self.gain_db, self.floor, self._static_links
        cell2 = cell * cell
        for i in self.static:
            x, y = pos[i]
            cx, cy = int(x // cell), int(y // cell)
            ei, gi, out_i = eirp[i], gain[i], links[i]
            base = i * 1_000_003  # i < j below: link_shadowing's (lo, hi) order
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for j in grid.get((cx + dx, cy + dy), ()):
                        if j <= i:
                            continue  # each pair once; both directions below
                        xj, yj = pos[j]
                        d2 = (x - xj) ** 2 + (y - yj) ** 2
                        if d2 > cell2:
                            continue
                        lg = 0.5 * log10(d2) if d2 > 1.0 else 0.0
                        loss = max(a1 + b1 * lg, a2 + b2 * lg)
                        if sigma > 0.0:  # link_shadowing(seed, i, j, sigma), _mix inlined
                            h = (base + j + 0x9E3779B97F4A7C15) & _MASK
                            h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
                            h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
                            h = ((seed ^ h ^ (h >> 31)) + 0x9E3779B97F4A7C15) & _MASK
                            h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
                            h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
                            h1 = h ^ (h >> 31)
                            h = (h1 + 0x9E3779B97F4A7C15) & _MASK
                            h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
                            h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
                            h2 = h ^ (h >> 31)
                            z = sqrt(-2.0 * log(((h1 >> 11) + 1) / 9007199254740992.0)) * cos(
                                tau * (h2 >> 11) / 9007199254740992.0
                            )
                            loss += sigma * (-3.0 if z < -3.0 else 3.0 if z > 3.0 else z)
                        p_ij = ei + gain[j] - loss
                        p_ji = eirp[j] + gi - loss
                        if p_ij >= floor:
                            out_i.append((j, p_ij))
                        if p_ji >= floor:
                            links[j].append((i, p_ji))
        for out in links:
            out.sort()

    def links_from(self, tx: int, t: float) -> list[Link]:
        """Receivers that hear ``tx`` at time ``t`` at or above the interference floor."""
        if not self.is_mobile[tx]:
            if not self.mobile:
                return self._static_links[tx]
            out = list(self._static_links[tx])
            x, y = self.tracks[tx].at(t)
            for j in self.mobile:
                self._maybe_add(out, tx, j, x, y, t)
            return out
        out = []
        x, y = self.tracks[tx].at(t)
        for j in range(self.n):
            if j != tx:
                self._maybe_add(out, tx, j, x, y, t)
        return out

    def _maybe_add(self, out: list[Link], tx: int, rx: int, x: float, y: float, t: float) -> None:
        xj, yj = self.tracks[rx].at(t)
        d = math.hypot(x - xj, y - yj)
        if d <= self.max_range:
            p = self.rssi(tx, rx, d)
            if p >= self.floor:
                out.append((rx, p))

    def decodable_neighbours(self, i: int, t: float) -> list[int]:
        """Nodes that decode ``i``'s transmissions at time ``t`` (no interference, no loss)."""
        sens = self.sensitivity
        return [j for j, p in self.links_from(i, t) if p >= sens]

    def position(self, i: int, t: float) -> tuple[float, float]:
        """Where node ``i`` is at time ``t``."""
        return self.tracks[i].at(t)
