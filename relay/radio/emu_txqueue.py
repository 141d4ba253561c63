"""An emulated radio's transmit queue, as MeshPacketQueue.cpp keeps it.

Bounded (16 packets, ``MAX_TX_QUEUE``); ordered by priority, and among equal priorities packets
already on the mesh (relays) before our own, first in first out otherwise
(``CompareMeshPacketFunc``); when full, a new packet evicts the back of the queue if that has a
lower priority, else it is refused (``replaceLowerPriorityPacket``). A packet without a priority
gets one by ``fixPriority``: ACK for routing, HIGH for text and admin, RESPONSE for a reply,
RELIABLE for want_ack or want_response, DEFAULT otherwise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

Priority = mesh_pb2.MeshPacket.Priority


def fix_priority(packet: Any, decoded: Any | None = None) -> int:
    """``fixPriority``: the packet's priority, or the one the firmware gives an unset one;
    ``decoded`` is its Data when the packet itself travels encrypted."""
    if packet.priority:
        return int(packet.priority)
    data = (
        decoded if decoded is not None else (packet.decoded if packet.HasField("decoded") else None)
    )
    priority = Priority.RELIABLE if packet.want_ack else Priority.DEFAULT
    if data is not None:
        if data.portnum == portnums_pb2.PortNum.ROUTING_APP:
            priority = Priority.ACK
        elif data.portnum in (
            portnums_pb2.PortNum.TEXT_MESSAGE_APP,
            portnums_pb2.PortNum.ADMIN_APP,
        ):
            priority = Priority.HIGH
        elif data.request_id:
            priority = Priority.RESPONSE
        elif data.want_response:
            priority = Priority.RELIABLE
    return int(priority)


@dataclass(order=True)
class _Entry:
    sort_key: tuple[int, int, int]
    packet: Any = field(compare=False)


class TxQueue:
    """The packets waiting for the radio to be free to transmit."""

    def __init__(self, maxlen: int = 16) -> None:
        self.maxlen = maxlen
        self._entries: list[_Entry] = []
        self._seq = itertools.count()
        self.evicted: list[Any] = []  # packets dropped to make room (latest last, bounded)

    def __len__(self) -> int:
        return len(self._entries)

    def enqueue(self, packet: Any, priority: int, from_us: bool) -> bool:
        """Queue ``packet``; False when the queue is full and nothing lower can go."""
        entry = _Entry((-priority, 1 if from_us else 0, next(self._seq)), packet)
        if len(self._entries) >= self.maxlen:
            back = self._entries[-1]
            if -back.sort_key[0] >= priority:
                return False
            self._entries.pop()
            self.evicted = [*self.evicted[-15:], back.packet]
        self._entries.append(entry)
        self._entries.sort()
        return True

    def pop(self) -> Any | None:
        """The next packet to send (the front), or None."""
        return self._entries.pop(0).packet if self._entries else None

    def packets(self) -> list[Any]:
        """The queue in sending order."""
        return [e.packet for e in self._entries]

    def clear(self) -> None:
        """Forget everything (a reboot)."""
        self._entries.clear()
