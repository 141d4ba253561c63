"""The simulated mesh the daemon runs on when no radio is attached (`jarshy daemon --simulate`).

Real parts all the way: emulated Meshtastic radios on a shared in-process medium, the daemon's own
radio served over TCP on loopback and reached through the real meshtastic library.  Three
simulated neighbours publish demo bulletins from a newsroom (trusted in simulated mode only, since
its key is public) and a stranger (unknown key); a fourth radio, a visitor's, sends a forgery (a
bulletin in the newsroom's name signed by another key), so the feed shows every verdict; a
resident's stock radio (:attr:`SimulatedMesh.phone_address`) shows what the phone app would of a
mirroring daemon (`--mirror`).  After its
third forgery the spam brake has the daemon's radio ignore the visitor's (see `jarshy status`),
while another application's data on Jarshy's port (no Jarshy magic) is dropped by the link and
never counted against its radio.  The radios carry Jarshy on a primary channel named "Jarshy"
(the isolated channel plan); every frame goes out as the link sends it, ``MAGIC + frame`` on
Jarshy's port (relay.radio.framing).  State lives in its own database so that nothing of the
simulation leaks into a real node's trust store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from relay.crypto.keys import Identity
from relay.demo_bulletins import DEMO, FORGED_TEXTS, STRANGER_TEXTS
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT, wrap
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind, SafetyInfo
from relay.wire.fragments import split

log = logging.getLogger("jarshy.simulated")

DEMO_NEWSROOM = Identity("Simulated newsroom", hashlib.sha256(b"jarshy-demo:newsroom").digest())
DEMO_STRANGER = Identity("Stranger", hashlib.sha256(b"jarshy-demo:stranger").digest())
DEMO_FORGER = Identity("Forger", hashlib.sha256(b"jarshy-demo:forger").digest())
BROADCAST = 0xFFFFFFFF
CHANNEL = "Jarshy"
OTHER_APP = b'{"app":"weather","t":-3}'  # someone else's data on our port: not Jarshy's
KEPT = 256  # packets each emulated radio remembers: the main job runs for days (memory flat)


class _SilentSession:
    """The far side of a simulated neighbour's radio: nobody is listening to its phone API."""

    def send_queue_status(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class SimulatedMesh:
    """Emulated radios and demo publishers; ``address`` is where the daemon's radio listens."""

    port_num: int = JARSHY_PORT
    interval: float = 12.0  # seconds between demo bulletins
    medium: InProcessMedium = field(init=False)
    home: EmulatedRadio = field(init=False)
    neighbours: list[EmulatedRadio] = field(init=False, default_factory=list)
    forger: EmulatedRadio = field(init=False)
    phone: EmulatedRadio = field(init=False)  # a resident's stock radio with the phone app
    transport: TcpTransport | None = field(init=False, default=None)
    phone_transport: TcpTransport | None = field(init=False, default=None)
    _task: asyncio.Task[None] | None = field(init=False, default=None)

    def start(self) -> str:
        self.interval = float(os.environ.get("JARSHY_SIM_INTERVAL", self.interval))
        self.medium = InProcessMedium(time_scale=50.0, seed=1)
        self.home = EmulatedRadio(
            RadioState.create(0x4A530001, long_name="Jarshy (simulated)", region="KZ_863",
                              tx_power=14, channel_name=CHANNEL), medium=self.medium,
            telemetry_interval=30.0, seed=1, kept_packets=KEPT,
        )  # fmt: skip
        for num, name in ((0x4A530002, "Newsroom relay"), (0x4A530003, "Market"),
                          (0x4A530004, "Rooftop")):  # fmt: skip
            state = RadioState.create(num, long_name=name, region="KZ_863", tx_power=14,
                                      channel_name=CHANNEL)  # fmt: skip
            self.neighbours.append(
                EmulatedRadio(state, medium=self.medium, seed=num, kept_packets=KEPT)
            )
        state = RadioState.create(0x4A530005, long_name="Visitor", region="KZ_863", tx_power=14,
                                  channel_name=CHANNEL)  # fmt: skip
        self.forger = EmulatedRadio(state, medium=self.medium, seed=5, kept_packets=KEPT)
        state = RadioState.create(0x4A530006, long_name="Resident phone", region="KZ_863",
                                  tx_power=14, channel_name=CHANNEL)  # fmt: skip
        self.phone = EmulatedRadio(
            state, medium=self.medium, seed=6, telemetry_interval=None, kept_packets=KEPT
        )
        for radio in (self.home, *self.neighbours, self.forger, self.phone):
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
        self._task = asyncio.get_running_loop().create_task(self._publish_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for transport in (self.transport, self.phone_transport):
            if transport is not None:
                transport.close()
        extra = [getattr(self, name) for name in ("home", "forger", "phone") if hasattr(self, name)]
        for radio in (*extra, *self.neighbours):
            radio.stop()
        if hasattr(self, "medium"):
            self.medium.close()

    async def _publish_loop(self) -> None:
        await asyncio.sleep(min(2.0, self.interval))
        for raw in demo_announcements(int(time.time())):
            self.transmit(self.neighbours[1], raw)
        for _ in range(4):  # more than the spam brake's forgery limit, and never counted
            self.send_payload(self.neighbours[1], OTHER_APP)
        # The stranger and the forger come early, so a fresh feed soon shows every verdict.
        first = [0, len(DEMO), 1, len(DEMO) + 1]
        plan = itertools.cycle(first + [s for s in range(len(DEMO) + 2) if s not in first])
        for step in plan:
            try:
                forgery = step == len(DEMO) + 1
                radio = self.forger if forgery else self.neighbours[step % 3]
                self.transmit(radio, demo_bulletin(step, int(time.time())))
            except Exception:  # the demo must never take the daemon down
                log.exception("simulated publisher failed")
            await asyncio.sleep(self.interval)

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


def demo_bulletin(step: int, now: int) -> bytes:
    """The ``step``-th demo bulletin: newsroom items, with a stranger and a forgery mixed in."""
    if step == len(DEMO):
        text = STRANGER_TEXTS[(now // 60) % len(STRANGER_TEXTS)]
        return wire.sign(
            Content(Kind.NEWS, DEMO_STRANGER.key_id, now, text, "ru"), DEMO_STRANGER
        ).raw
    if step == len(DEMO) + 1:
        info = SafetyInfo("evacuation", "safety", "extreme")
        content = Content(
            Kind.SAFETY, DEMO_NEWSROOM.key_id, now, FORGED_TEXTS[0], "en", 3600, safety=info
        )
        unsigned = wire.encode_unsigned(content)
        return unsigned + DEMO_FORGER.sign(wire.SIGNING_DOMAIN + unsigned)
    kind, lang, text, severity, event, area = DEMO[step % len(DEMO)]
    if kind == "safety":
        info = SafetyInfo(
            event or "other", "safety", severity or "unknown", "immediate", "observed", area
        )
        content = Content(Kind.SAFETY, DEMO_NEWSROOM.key_id, now, text, lang, 6 * 3600, safety=info)
    else:
        content = Content(Kind.NEWS, DEMO_NEWSROOM.key_id, now, text, lang, 24 * 3600)
    return wire.sign(content, DEMO_NEWSROOM).raw


def demo_announcements(now: int) -> list[bytes]:
    """Self-announcements of the demo keys, so the stranger's bulletins can be checked."""
    out = []
    for ident in (DEMO_STRANGER,):
        content = Content(Kind.ANNOUNCEMENT, ident.key_id, now, subject_key=ident.public_key,
                          name=ident.name)  # fmt: skip
        out.append(wire.sign(content, ident).raw)
    return out
