"""What a scenario expands to, node by node and publication by publication.

Kept apart from :mod:`relay.sim.scenario` so the generators that build them do not import the
scenario loader that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.sim.channel import Waypoint
from relay.sim.firmware import RebroadcastMode, Role


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node after expansion."""

    index: int
    name: str
    num: int
    waypoints: tuple[Waypoint, ...]
    role: Role = Role.CLIENT
    mode: RebroadcastMode = RebroadcastMode.ALL
    jarshy: bool = True
    tx_dbm: float = 20.0
    gain_db: float = 2.0
    off: tuple[tuple[float, float], ...] = ()  # power cuts: [off_at, on_at)

    def awake_at(self, t: float) -> bool:
        """Whether the node has power at time ``t``."""
        return not any(a <= t < b for a, b in self.off)


@dataclass(frozen=True, slots=True)
class Publication:
    """One item of scenario traffic."""

    time: float
    node: int  # index
    size: int
    label: str = "item"
    hop_limit: int | None = None
    kind: str = "news"  # "news" or "safety" (an extreme-severity alert); engines may ignore it
