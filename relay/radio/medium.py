"""The shared air between emulated radios.

A :class:`Medium` carries MeshPackets from one radio to the radios in range and owns the clock
that airtime, relay delays and duty cycles are measured on. Radios implement :class:`AirPort`.
Flooding is node behaviour (each radio decides whether to rebroadcast, as the firmware does); the
medium decides who hears what, when, and with what SNR/RSSI.

:class:`InProcessMedium` is the simple implementation: LoRa time on air per packet (Semtech formula,
the preset of the sending radio), one transmission at a time per sender, optional seeded random
loss, links either all-to-all or listed explicitly, and a time-scale factor so tests run 100×
faster or with zero airtime. Only radios on the same preset and frequency slot hear each other
(``air_channel``). It does not model collisions, capture, distance or half-duplex receive. A
discrete-event simulator can implement the same interface with virtual time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from relay.lora import (
    DEFAULT_PRESET,
    MAX_FRAME_BYTES,
    MESHTASTIC_HEADER_BYTES,
    PRESETS,
    frame_bytes_for_data,
    time_on_air,
)

BROADCAST = 0xFFFFFFFF

log = logging.getLogger(__name__)


class AirPort(Protocol):
    """What a medium needs from a radio attached to it."""

    @property
    def node_num(self) -> int:
        """The radio's node number."""
        ...

    @property
    def modem_preset(self) -> str:
        """Name of the radio's LoRa preset (decides airtime)."""
        ...

    @property
    def air_channel(self) -> tuple[str, float]:
        """(preset, centre frequency MHz): only radios on the same one hear each other."""
        ...

    def receive_from_air(self, packet: Any, snr: float, rssi: int) -> None:
        """A MeshPacket (mesh_pb2) was heard; called on the medium's thread."""
        ...

    def transmit_done(self, packet: Any, airtime: float) -> None:
        """Our own transmission of ``packet`` finished after ``airtime`` seconds on air."""
        ...

    def channel_busy(self, airtime: float) -> None:
        """Someone in range occupied the channel for ``airtime`` seconds (utilisation figures)."""
        ...


class Medium(Protocol):
    """The air: who hears whom, when, and the clock relay timers run on."""

    def attach(self, radio: AirPort) -> None:
        """Put a radio on the air."""
        ...

    def detach(self, radio: AirPort) -> None:
        """Take a radio off the air."""
        ...

    def transmit(self, sender: AirPort, packet: Any) -> None:
        """Queue ``packet`` (a mesh_pb2.MeshPacket with from/id/hop_limit set) for the air."""
        ...

    def now(self) -> float:
        """Current time of the medium in (emulated) seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` after ``delay`` emulated seconds; returns a cancel function."""
        ...


def on_air_bytes(origin: AirPort, packet: Any) -> int:
    """Frame length as the firmware sends it: header, Data with its bitfield, 2.8's signature.

    An encrypted packet is the header plus its ciphertext (the emulator's radios put the
    signature in it already). For a plain ``decoded`` one the originating radio's firmware
    version decides whether a broadcast carries the XEdDSA signature (``perhapsEncode`` in
    src/mesh/Router.cpp); a relay sends the original bytes, so pass the origin for a relayed copy.
    """
    if packet.HasField("encrypted"):
        return MESHTASTIC_HEADER_BYTES + len(packet.encrypted)
    data = type(packet.decoded)()
    data.CopyFrom(packet.decoded)
    data.bitfield = data.bitfield  # the firmware always encodes its bitfield
    encoded = len(data.SerializeToString())
    firmware = getattr(origin, "firmware_version", None)
    return frame_bytes_for_data(encoded, broadcast=packet.to == BROADCAST, firmware=firmware)


@dataclass
class LinkQuality:
    """How well one radio hears another."""

    snr: float = 6.0
    rssi: int = -90
    loss: float | None = None  # None: the medium's default loss


class InProcessMedium:
    """All radios in one process; deliveries happen on one scheduler thread."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        loss: float = 0.0,
        seed: int | None = None,
        full_mesh: bool = True,
        default_link: LinkQuality | None = None,
    ) -> None:
        """``time_scale``: emulated seconds per real second (``math.inf`` = zero airtime)."""
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0 (use math.inf for zero airtime)")
        if not 0.0 <= loss <= 1.0:
            raise ValueError("loss must be within 0..1")
        self.time_scale = time_scale
        self.loss = loss
        self.full_mesh = full_mesh
        self.default_link = default_link or LinkQuality()
        self._rng = random.Random(seed)
        self._radios: dict[int, AirPort] = {}
        self._links: dict[tuple[int, int], LinkQuality] = {}
        self._busy_until: dict[int, float] = {}
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cancelled: set[int] = set()
        self._cond = threading.Condition()
        self._t0 = time.monotonic()
        self._virtual = 0.0
        self._closed = False
        self._running = False
        self.transmissions = 0
        self.deliveries = 0
        self.losses = 0
        self._thread = threading.Thread(target=self._run, name="medium", daemon=True)
        self._thread.start()

    # Topology.
    def attach(self, radio: AirPort) -> None:
        """Put a radio on the air."""
        with self._cond:
            self._radios[radio.node_num] = radio

    def detach(self, radio: AirPort) -> None:
        """Take a radio off the air."""
        with self._cond:
            self._radios.pop(radio.node_num, None)

    def link(self, a: int, b: int, quality: LinkQuality | None = None) -> None:
        """Let nodes ``a`` and ``b`` hear each other (both directions)."""
        q = quality or LinkQuality(self.default_link.snr, self.default_link.rssi)
        with self._cond:
            self._links[(a, b)] = q
            self._links[(b, a)] = q

    def unlink(self, a: int, b: int) -> None:
        """Stop ``a`` and ``b`` hearing each other (also in a full mesh)."""
        with self._cond:
            self._links[(a, b)] = LinkQuality(loss=1.0)
            self._links[(b, a)] = LinkQuality(loss=1.0)

    def _quality(self, a: int, b: int) -> LinkQuality | None:
        q = self._links.get((a, b))
        if q is None and self.full_mesh:
            return self.default_link
        return q

    # Clock.
    def now(self) -> float:
        """Emulated seconds since the medium was created."""
        with self._cond:
            return self._now_locked()

    def _now_locked(self) -> float:
        if math.isinf(self.time_scale):
            return self._virtual
        return max(self._virtual, (time.monotonic() - self._t0) * self.time_scale)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on the medium thread after ``delay`` emulated seconds."""
        with self._cond:
            seq = next(self._seq)
            heapq.heappush(self._heap, (self._now_locked() + max(delay, 0.0), seq, callback))
            self._cond.notify()

        def cancel() -> None:
            with self._cond:
                self._cancelled.add(seq)

        return cancel

    # Air.
    def transmit(self, sender: AirPort, packet: Any) -> None:
        """Send ``packet`` after the sender's previous transmission; deliver at its end."""
        frozen = type(packet)()
        frozen.CopyFrom(packet)
        with self._cond:
            origin = self._radios.get(getattr(packet, "from"), sender)
            frame = min(on_air_bytes(origin, packet), MAX_FRAME_BYTES)
            airtime = time_on_air(frame, PRESETS.get(sender.modem_preset, DEFAULT_PRESET))
            now = self._now_locked()
            start = max(now, self._busy_until.get(sender.node_num, 0.0))
            end = start + airtime
            self._busy_until[sender.node_num] = end
            self.transmissions += 1
        self.call_later(end - now, lambda: self._deliver(sender, frozen, airtime))

    def _deliver(self, sender: AirPort, packet: Any, airtime: float) -> None:
        with self._cond:
            receivers = []
            air = sender.air_channel
            for num, radio in self._radios.items():
                if num == sender.node_num or radio.air_channel != air:
                    continue  # another frequency slot or preset: not heard at all
                q = self._quality(sender.node_num, num)
                if q is None:
                    continue
                loss = self.loss if q.loss is None else q.loss
                if loss and self._rng.random() < loss:
                    self.losses += 1
                    continue
                receivers.append((radio, q))
        sender.transmit_done(packet, airtime)
        for radio, q in receivers:
            self.deliveries += 1
            radio.channel_busy(airtime)
            copy = type(packet)()
            copy.CopyFrom(packet)
            try:
                radio.receive_from_air(copy, q.snr, q.rssi)
            except Exception:
                log.exception("radio %08x failed to receive", radio.node_num)

    # Scheduler thread.
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap:
                        due, seq, _ = self._heap[0]
                        if seq in self._cancelled:
                            heapq.heappop(self._heap)
                            self._cancelled.discard(seq)
                            continue
                        wait = (due - self._now_locked()) / self.time_scale
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                due, seq, callback = heapq.heappop(self._heap)
                self._virtual = max(self._virtual, due)
                self._running = True
            try:
                callback()
            except Exception:
                log.exception("medium callback failed")
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is scheduled or running (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running or any(seq not in self._cancelled for _, seq, _ in self._heap):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def close(self) -> None:
        """Stop the scheduler thread; pending deliveries are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
