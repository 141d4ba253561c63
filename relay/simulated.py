"""The simulated mesh the daemon runs on when no radio is attached (`jarshy daemon --simulate`).

Real parts all the way: emulated Meshtastic radios on a shared in-process medium, the daemon's own
radio served over TCP on loopback and reached through the real meshtastic library.  Three
simulated neighbours publish a varied demo feed (relay.demo_bulletins, drawn from the project's
corpus): the simulated newsroom (trusted in simulated mode only, since its key is public), a
field reporter and a civil protection office it certifies, in Russian, Kazakh and English, news,
alerts of every severity with their areas and corrections; a stranger's rumours (unknown key).
A visitor's radio sends forgeries (bulletins in the newsroom's name signed by another key), then a
noisy neighbour's radio a flood of untrusted adverts: within the first minute the spam brake has
the daemon's radio ignore both, the visitor first (see `jarshy status`), while another
application's data on Jarshy's port (no Jarshy magic) is dropped by the link and never counted
against its radio.  A
resident's stock radio (:attr:`SimulatedMesh.phone_address`) shows what the phone app would of
a mirroring daemon (`--mirror`).

No duplicates across restarts: every demo bulletin is a pure function of its time slot
(``wall // interval``; keys and certificates of the day, the spam demo of ten minutes), so a restart
re-sends the same bytes, which the store already holds.  Bounded: each text comes back once a
round (:data:`ROUND` slots) and lives :func:`lifetime_for` (at least a round), so at most two live
copies of a text exist; expired ones leave the store with :func:`prune`.  The radios carry Jarshy
on a primary channel named "Jarshy" (the isolated channel plan); every frame goes out as the link
sends it, ``MAGIC + frame`` on Jarshy's port (relay.radio.framing).  State lives in its own
database so that nothing of the simulation leaks into a real node's trust store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from relay.demo_bulletins import (
    BURST,
    DEMO_NEWSROOM,
    FORGERY_SLOT,
    HOUR,
    ROUND,
    STRANGER_SLOT,
    flood,
    forgery,
    key_bulletins,
    slot_bulletin,
)
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT, wrap
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.store import Store
from relay.wire.fragments import split

log = logging.getLogger("jarshy.simulated")

__all__ = ["DEMO_NEWSROOM", "SimulatedMesh", "prune"]

BROADCAST = 0xFFFFFFFF
CHANNEL = "Jarshy"
OTHER_APP = b'{"app":"weather","t":-3}'  # someone else's data on our port: not Jarshy's
KEPT = 256  # packets each emulated radio remembers: the main job runs for days (memory flat)
FIRST_MINUTE = 60.0  # the spam demo's own untrusted traffic only: the untrusted budget holds
FLOOD_GAP = 0.4  # seconds between the noisy neighbour's packets
FORGERY_GAP = 1.0  # seconds between the visitor's first forgeries
EARLY_FORGERIES = 3  # the spam brake's forgery limit
RETENTION = float(HOUR)  # expired demo bulletins kept this long (prune)
NEWSROOM_RADIO, MARKET, ROOFTOP, VISITOR, PHONE, NOISY = (
    0x4A530002, 0x4A530003, 0x4A530004, 0x4A530005, 0x4A530006, 0x4A530007,
)  # fmt: skip


class _SilentSession:
    """The far side of a simulated neighbour's radio: nobody is listening to its phone API."""

    def send_queue_status(self, *args: Any, **kwargs: Any) -> None:
        return None


def _radio(num: int, name: str, medium: InProcessMedium, **kw: Any) -> EmulatedRadio:
    state = RadioState.create(num, long_name=name, region="KZ_863", tx_power=14,
                              channel_name=CHANNEL)  # fmt: skip
    return EmulatedRadio(state, medium=medium, seed=num, kept_packets=KEPT, **kw)


@dataclass
class SimulatedMesh:
    """Emulated radios and demo publishers; ``address`` is where the daemon's radio listens."""

    port_num: int = JARSHY_PORT
    interval: float = 12.0  # seconds between demo bulletins
    medium: InProcessMedium = field(init=False)
    home: EmulatedRadio = field(init=False)
    neighbours: list[EmulatedRadio] = field(init=False, default_factory=list)
    forger: EmulatedRadio = field(init=False)
    flooder: EmulatedRadio = field(init=False)  # the noisy neighbour's radio
    phone: EmulatedRadio = field(init=False)  # a resident's stock radio with the phone app
    transport: TcpTransport | None = field(init=False, default=None)
    phone_transport: TcpTransport | None = field(init=False, default=None)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    def start(self) -> str:
        self.interval = float(os.environ.get("JARSHY_SIM_INTERVAL", self.interval))
        self.medium = InProcessMedium(time_scale=50.0, seed=1)
        self.home = EmulatedRadio(
            RadioState.create(0x4A530001, long_name="Jarshy (simulated)", region="KZ_863",
                              tx_power=14, channel_name=CHANNEL), medium=self.medium,
            telemetry_interval=30.0, seed=1, kept_packets=KEPT,
        )  # fmt: skip
        for num, name in ((NEWSROOM_RADIO, "Newsroom relay"), (MARKET, "Market"),
                          (ROOFTOP, "Rooftop")):  # fmt: skip
            self.neighbours.append(_radio(num, name, self.medium))
        self.forger = _radio(VISITOR, "Visitor", self.medium)
        self.flooder = _radio(NOISY, "Noisy neighbour", self.medium)
        self.phone = _radio(PHONE, "Resident phone", self.medium, telemetry_interval=None)
        for radio in (self.home, *self.neighbours, self.forger, self.flooder, self.phone):
            radio.start()
        self.transport = TcpTransport(self.home, port=0).start()
        self.phone_transport = TcpTransport(self.phone, port=0).start()
        return f"tcp:127.0.0.1:{self.transport.port}"

    @property
    def phone_address(self) -> str:
        """Where the resident's radio serves its phone app (relay.radio.emu_app.AppClient):
        what a plain Meshtastic user in range sees of the mirror."""
        assert self.phone_transport is not None
        return f"tcp:127.0.0.1:{self.phone_transport.port}"

    def send_text(self, radio: EmulatedRadio, text: str, alert: bool = False) -> None:
        """A plain text (or alert) on channel 0 from a neighbour, as its app or mirror sends it."""
        packet = mesh_pb2.MeshPacket()
        packet.to = BROADCAST
        packet.hop_limit = 3
        port = portnums_pb2.PortNum.ALERT_APP if alert else portnums_pb2.PortNum.TEXT_MESSAGE_APP
        packet.decoded.portnum = port
        packet.decoded.payload = text.encode()
        radio.handle_phone_packet(_SilentSession(), packet)  # type: ignore[arg-type]

    def run_publishers(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._publish_loop())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for transport in (self.transport, self.phone_transport):
            if transport is not None:
                transport.close()
        names = ("home", "forger", "flooder", "phone")
        extra = [getattr(self, name) for name in names if hasattr(self, name)]
        for radio in (*extra, *self.neighbours):
            radio.stop()
        if hasattr(self, "medium"):
            self.medium.close()

    async def _publish_loop(self) -> None:
        started = time.time()
        await asyncio.sleep(min(2.0, self.interval))
        for raw in key_bulletins(time.time()):
            self.transmit(self.neighbours[0], raw)
        for _ in range(4):  # more than the spam brake's forgery limit, and never counted
            self.send_payload(self.neighbours[1], OTHER_APP)
        self._tasks.append(asyncio.get_running_loop().create_task(self._spam_demo()))
        last: int | None = None
        while True:
            slot = int(time.time() // self.interval)
            if slot != last:
                last = slot
                untrusted = slot % ROUND in (STRANGER_SLOT, FORGERY_SLOT)
                if not (untrusted and time.time() - started < FIRST_MINUTE):
                    self._publish(slot)
            await asyncio.sleep(self.interval - time.time() % self.interval + 0.01)

    def _publish(self, slot: int) -> None:
        try:
            position = slot % ROUND
            radio = self.forger if position == FORGERY_SLOT else self.neighbours[slot % 3]
            self.transmit(radio, slot_bulletin(slot, self.interval))
        except Exception:  # the demo must never take the daemon down
            log.exception("simulated publisher failed")

    async def _spam_demo(self) -> None:
        """The spam brake's demo, in the first minute: the visitor's forgeries, then the noisy
        neighbour's flood of untrusted adverts; the daemon's radio comes to ignore both."""
        try:
            now = time.time()
            burst = int(now // BURST * BURST)
            for which in range(EARLY_FORGERIES):
                self.transmit(self.forger, forgery(burst + which, which))
                await asyncio.sleep(FORGERY_GAP)
            for raw in flood(now):
                self.transmit(self.flooder, raw)
                await asyncio.sleep(FLOOD_GAP)
        except Exception:  # the demo must never take the daemon down
            log.exception("simulated spam demo failed")

    def transmit(self, radio: EmulatedRadio, raw: bytes) -> None:
        """Broadcast a bulletin from a simulated neighbour, as its Jarshy daemon would."""
        for frame in split(raw):
            self.send_payload(radio, wrap(frame))

    def send_payload(self, radio: EmulatedRadio, payload: bytes) -> None:
        """Broadcast one payload on Jarshy's port and channel from a simulated neighbour."""
        packet = mesh_pb2.MeshPacket()
        packet.to = BROADCAST
        packet.hop_limit = 3
        packet.decoded.portnum = portnums_pb2.PortNum.ValueType(self.port_num)
        packet.decoded.payload = payload
        radio.handle_phone_packet(_SilentSession(), packet)  # type: ignore[arg-type]


def prune(store: Store, wall: float) -> int:
    """Drop demo bulletins expired more than :data:`RETENTION` ago from the simulated store, so
    that it stays bounded however long the simulation runs; how many went."""
    return store.purge_expired(wall, RETENTION)
