"""The sans-IO vocabulary between a Jarshy protocol engine and whatever drives it.

The daemon (real radio), the discrete-event simulator and unit tests all feed an engine the same
events and carry out the same actions; the engine never touches a clock, socket or file.
Engines implement :class:`MeshEngine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

BROADCAST = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class PacketReceived:
    """One application payload heard on the Jarshy port."""

    payload: bytes
    sender: int  # Meshtastic node number of the originating radio
    hops: int | None = None  # hop_start - hop_limit when known
    snr: float | None = None
    rssi: int | None = None
    hop_limit: int | None = None  # hops the firmware may still relay it (0: flooding ends here)


@dataclass(frozen=True, slots=True)
class SendPacket:
    """Ask the radio to broadcast one payload (<= 231 bytes) with this hop limit."""

    payload: bytes
    hop_limit: int
    priority: int = 0  # higher goes first
    destination: int = BROADCAST


class MeshEngine(Protocol):
    """A protocol engine driven by packets and time; returns what to transmit."""

    def receive(self, event: PacketReceived, now: float) -> list[SendPacket]:
        """Handle one received packet at time ``now`` (seconds)."""
        ...

    def tick(self, now: float) -> list[SendPacket]:
        """Handle timers that are due at ``now``."""
        ...

    def next_deadline(self) -> float | None:
        """When ``tick`` should next be called, or None if nothing is scheduled."""
        ...
