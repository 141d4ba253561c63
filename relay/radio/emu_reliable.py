"""Reliable delivery of an emulated radio's own ``want_ack`` packets.

As ReliableRouter.cpp and NextHopRouter.cpp (``doRetransmissions``) do: NUM_RELIABLE_RETX is 3,
so a packet is sent once and retransmitted at most twice, ``getRetransmissionMsec`` apart (twice
its airtime, the widest contention windows, PROCESSING_TIME_MSEC of 4.5 s; RadioInterface.cpp);
an implicit ACK (hearing a neighbour relay it) or the destination's ACK stops the retries and
tells the phone ``Routing.NONE``; after the last try the phone gets a NAK ``MAX_RETRANSMIT``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from meshtastic.protobuf import mesh_pb2

from relay.lora import DEFAULT_PRESET, PRESETS, time_on_air
from relay.radio.emu_air import air_bytes
from relay.radio.emu_phone import routing_reply
from relay.sim.firmware import CW_MAX, CW_MIN, arduino_map

RETRANSMISSIONS = 2  # NUM_RELIABLE_RETX (3) tries: the first send and two more
PROCESSING_TIME = 4.5  # PROCESSING_TIME_MSEC in RadioInterface.h
REAL_FLOOR = 0.5  # seconds of real time between tries, whatever the medium's time scale
Routing = mesh_pb2.Routing


class ReliableRadio(Protocol):
    """What reliable delivery needs from :class:`relay.radio.emulator.EmulatedRadio`."""

    medium: Any

    @property
    def node_num(self) -> int: ...

    @property
    def modem_preset(self) -> str: ...

    def next_id(self) -> int: ...

    def channel_utilization(self) -> float: ...

    def to_phone(self, packet: Any, session: Any = None) -> None: ...

    def retransmit(self, air: Any) -> None: ...


@dataclass
class _Pending:
    air: Any
    channel: int
    tries_left: int
    cancel: Callable[[], None] | None = None


class ReliableSender:
    """The want_ack packets of one radio awaiting an (implicit) ACK."""

    def __init__(self, radio: ReliableRadio) -> None:
        self.radio = radio
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}

    def retransmission_delay(self, air: Any) -> float:
        """``getRetransmissionMsec`` in seconds."""
        preset = PRESETS.get(self.radio.modem_preset, DEFAULT_PRESET)
        cw = arduino_map(self.radio.channel_utilization(), 0, 100, CW_MIN, CW_MAX)
        slots = (1 << cw) + 2 * CW_MAX + (1 << ((CW_MAX + CW_MIN) // 2))
        airtime = time_on_air(min(air_bytes(air), 255), preset)
        return 2 * airtime + slots * preset.slot_time + PROCESSING_TIME

    def start(self, air: Any, channel: int) -> None:
        """``air`` (our packet as sent) was just transmitted for the first time."""
        pending = _Pending(air, channel, RETRANSMISSIONS)
        with self._lock:
            self._pending[air.id] = pending
        self._arm(pending)

    def _arm(self, pending: _Pending) -> None:
        def fire() -> None:
            with self._lock:
                if self._pending.get(pending.air.id) is not pending:
                    return
                nak = pending.tries_left == 0
                if nak:
                    del self._pending[pending.air.id]
                else:
                    pending.tries_left -= 1
            if nak:  # "Reliable send failed, returning a nak"
                error = Routing.Error.MAX_RETRANSMIT
                reply = routing_reply(self.radio, error, pending.air.id, pending.channel)
                self.radio.to_phone(reply)
                return
            self.radio.retransmit(pending.air)
            self._arm(pending)

        # On the medium's clock, but never sooner than REAL_FLOOR seconds of real time: on a
        # zero-airtime medium the NAK still comes well after the queue status, as on a radio.
        scale = getattr(self.radio.medium, "time_scale", 1.0)
        delay = self.retransmission_delay(pending.air)
        real = delay / scale if math.isfinite(scale) else 0.0
        timer = threading.Timer(max(real, REAL_FLOOR), fire)
        timer.daemon = True
        pending.cancel = timer.cancel
        timer.start()

    def acknowledged(self, packet_id: int) -> bool:
        """An ACK for ``packet_id`` arrived: stop retrying, tell the phone; False if unknown."""
        with self._lock:
            pending = self._pending.pop(packet_id, None)
        if pending is None:
            return False
        if pending.cancel is not None:
            pending.cancel()
        ack = routing_reply(self.radio, Routing.Error.NONE, packet_id, pending.channel)
        self.radio.to_phone(ack)
        return True

    def forget(self, packet_id: int) -> None:
        """Stop tracking ``packet_id`` without telling the phone (it was never sent)."""
        with self._lock:
            pending = self._pending.pop(packet_id, None)
        if pending is not None and pending.cancel is not None:
            pending.cancel()

    def clear(self) -> None:
        """Forget everything (a reboot, a stop)."""
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for p in pending:
            if p.cancel is not None:
                p.cancel()
