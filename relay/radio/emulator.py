"""A fake Meshtastic radio: the firmware behaviour the client API and the mesh can observe.

:class:`EmulatedRadio` is the device (node database, config, channels and keys, TX queue, duty
cycle, flooding relay, reliable delivery, telemetry, reboots); clients talk to it through
:class:`~relay.radio.session.ClientSession` over a pseudo-terminal or TCP
(:mod:`relay.radio.transports`); it hears other radios through a
:class:`~relay.radio.medium.Medium`. What it does with a client's packets is in
:mod:`relay.radio.emu_phone`, how packets look on air in :mod:`relay.radio.emu_air`, the rules
it shares with the simulator in :mod:`relay.sim.meshrules` and :mod:`relay.sim.firmware`.

Receiving follows src/mesh/Router.cpp (``handleReceived``, ``perhapsDecode``), FloodingRouter.cpp
and NextHopRouter.cpp: an ignored sender is dropped; a duplicate cancels a client's queued relay
(ROUTER/ROUTER_LATE never cancel; ROUTER_LATE moves it, once, behind every client's window); a new
packet is decoded with the radio's channels and judged by the rebroadcast mode
(:func:`relay.sim.meshrules.receive_verdict`); radios on another frequency slot or preset do not
hear each other at all (the medium's business, by :attr:`EmulatedRadio.air_channel`).

Test hooks: :meth:`EmulatedRadio.reboot`, ``queue_full``, ``max_payload``,
``duty_cycle_percent``, ``phone_clock`` (the clock of the client throttle). Everything runs on
plain threads so the emulator works the same under asyncio tests, blocking tests and the
``jarshy radio emulate`` command.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2

from relay.lora import REGIONS
from relay.radio import emu_phone
from relay.radio.admin import ProvisioningAdminHandler
from relay.radio.emu_air import AirChannel, air_channel_of, radio_channels, to_air
from relay.radio.emu_receive import AirReceiver, Relay
from relay.radio.emu_reliable import ReliableSender
from relay.radio.emu_txqueue import TxQueue, fix_priority
from relay.radio.emu_util import AirUtil
from relay.radio.medium import Medium
from relay.radio.session import ClientSession
from relay.radio.state import AdminHandler, RadioState

log = logging.getLogger(__name__)

BROADCAST = 0xFFFFFFFF
TX_QUEUE_LEN = 16
SEEN_RING = 300
KEPT_PACKETS = 4096  # packets the emulator remembers for tests, each way
Routing = mesh_pb2.Routing
Priority = mesh_pb2.MeshPacket.Priority


class EmulatedRadio(AirReceiver):
    """One emulated Meshtastic node."""

    def __init__(
        self,
        state: RadioState,
        *,
        medium: Medium | None = None,
        admin: AdminHandler | None = None,
        telemetry_interval: float | None = 60.0,
        duty_cycle_percent: float | None = None,
        max_payload: int | None = None,
        seed: int | None = None,
        kept_packets: int = KEPT_PACKETS,
    ) -> None:
        self.state = state
        self.medium = medium
        self.admin: AdminHandler = admin or ProvisioningAdminHandler()
        self.telemetry_interval = telemetry_interval
        region = state.enum_name("lora", "region")
        self.duty_cycle_percent = (
            duty_cycle_percent if duty_cycle_percent is not None else _duty_cycle_percent(region)
        )
        self.max_payload = max_payload  # None: the firmware's encoded-size rule (231 B on port 256)
        self.queue_full = False  # test hook: refuse packets with a full TX queue
        self._reported_free = TX_QUEUE_LEN  # lastQueueStatus.free in MeshService
        self.ignored_drops = 0  # packets dropped because their sender is ignored
        self.opaque_relays = 0  # packets relayed that this radio could not decrypt
        self.reboots = 0
        self.reboot_due: float | None = None  # monotonic time of a requested reboot
        self._rng = random.Random(seed)
        self._sessions: list[ClientSession] = []
        self._lock = threading.RLock()
        self._seen: OrderedDict[tuple[int, int], Relay | None] = OrderedDict()
        self.reliable = ReliableSender(self)
        self.util = AirUtil()
        self.txq = TxQueue(TX_QUEUE_LEN)
        self._sending = False  # a packet of ours is on the air (the queue's front left it)
        self._packet_id = self._rng.randint(1, 0x3FF)
        self._stop = threading.Event()
        self._booted = time.monotonic()
        self._telemetry_thread: threading.Thread | None = None
        self._timers: list[threading.Timer] = []
        # the latest packets delivered to the phone / asked for by it (for tests); bounded, so
        # a long-running simulated daemon does not grow with every packet
        self.heard: deque[Any] = deque(maxlen=kept_packets)  # bounded: memory stays flat
        self.from_phone: deque[Any] = deque(maxlen=kept_packets)
        # PhoneAPI's per-client, per-port throttle (emu_phone): its clock is a test hook
        self.phone_clock: Callable[[], float] = time.monotonic
        self.port_times: dict[int, dict[int, float]] = {}
        self.rate_limited = 0  # client packets dropped by that throttle
        self.heard_event = threading.Condition()
        if medium is not None:
            medium.attach(self)

    # Identity, for the medium.
    @property
    def node_num(self) -> int:
        """This radio's node number."""
        return self.state.node_num

    @property
    def firmware_version(self) -> str:
        """The firmware version this radio reports (decides 2.8's signature and opaque relay)."""
        version: str = self.state.metadata.firmware_version
        return version

    @property
    def modem_preset(self) -> str:
        """Name of the configured LoRa preset."""
        return self.state.enum_name("lora", "modem_preset")

    @property
    def air_channel(self) -> tuple[str, float]:
        """(preset, centre MHz): radios hear each other only when both match."""
        with self.state.lock:
            return air_channel_of(self.state)

    def channels(self) -> list[AirChannel]:
        """The enabled channels with their hashes and expanded keys."""
        with self.state.lock:
            return radio_channels(list(self.state.channels), self.modem_preset)

    def __repr__(self) -> str:
        return f"EmulatedRadio(!{self.node_num:08x}, {self.state.owner.long_name!r})"

    # Lifecycle.
    def start(self) -> None:
        """Start the telemetry timer (idempotent)."""
        if self.telemetry_interval and self._telemetry_thread is None:
            self._telemetry_thread = threading.Thread(
                target=self._telemetry_loop, name=f"telemetry-{self.node_num:08x}", daemon=True
            )
            self._telemetry_thread.start()

    def stop(self) -> None:
        """Stop timers and leave the medium."""
        self._stop.set()
        for timer in self._timers:
            timer.cancel()
        self.reliable.clear()
        if self.medium is not None:
            self.medium.detach(self)

    def add_session(self, session: ClientSession) -> None:
        """A client connected (called by transports).

        The firmware serves one TCP client at a time: a new connection force-closes the previous
        one (``APIServerPort::runOnce`` in src/mesh/api/ServerAPI.cpp, "Force close previous TCP
        connection"). Serial clients are not affected.
        """
        with self._lock:
            displaced = [s for s in self._sessions if session.is_network and s.is_network]
            for old in displaced:
                self._sessions.remove(old)
            self._sessions.append(session)
        for old in displaced:
            log.info("force close previous TCP connection %s", old.name)
            old.close()

    def remove_session(self, session: ClientSession) -> None:
        """A client disconnected (called by transports)."""
        with self._lock:
            if session in self._sessions:
                self._sessions.remove(session)
            self.port_times.pop(id(session), None)

    def sessions(self) -> list[ClientSession]:
        """Current client sessions."""
        with self._lock:
            return list(self._sessions)

    def reboot(self) -> None:
        """Reboot now: volatile state is lost; a TCP client loses its connection (when its
        transport can close it), a serial client is told ``rebooted`` and must handshake again."""
        with self._lock:
            for queued in self._seen.values():
                if queued is not None:
                    queued.cancel()
            self._seen.clear()
            self.txq.clear()
            self._sending = False
            self.reboots += 1
            self.reboot_due = None
        self.reliable.clear()
        with self.state.lock:
            self.state.reboot_count += 1
        self._booted = time.monotonic()
        for session in self.sessions():
            if session.is_network and session.can_close:
                self.remove_session(session)
                session.close()
            else:
                session.send_rebooted()

    def reboot_later(self, seconds: float) -> None:
        """Reboot after ``seconds`` (``AdminModule::reboot``). A provisioning handler's own
        ``on_commit`` hook, when set, replaces the reboot after a commit (tests drive it)."""
        if getattr(self.admin, "on_commit", None) is not None:
            return
        self.reboot_due = time.monotonic() + seconds
        timer = threading.Timer(seconds, self._reboot_unless_stopped)
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _reboot_unless_stopped(self) -> None:
        if not self._stop.is_set():
            self.reboot()

    def uptime(self) -> float:
        """Seconds since the last (re)boot."""
        return time.monotonic() - self._booted

    # Clock and utilisation.
    def _now(self) -> float:
        return self.medium.now() if self.medium is not None else time.monotonic()

    def tx_queue_free(self) -> tuple[int, int]:
        """(free, maxlen) of the TX queue as reported in QueueStatus (remembered as reported)."""
        with self._lock:
            free = 0 if self.queue_full else max(TX_QUEUE_LEN - len(self.txq), 0)
            self._reported_free = free
            return free, TX_QUEUE_LEN

    def check_queue_room(self) -> None:
        """``MeshService::loop``: when the phone was last told the queue was full and room has
        returned, tell every client unprompted (a QueueStatus with packet id 0)."""
        with self._lock:
            full_before = self._reported_free == 0
            free_now = 0 if self.queue_full else TX_QUEUE_LEN - len(self.txq)
        if full_before and free_now > 0:
            for session in self.sessions():
                session.send_queue_status(0, 0)

    def air_util_tx(self) -> float:
        """Percent of the last hour this radio spent transmitting."""
        return self.util.air_util_tx(self._now())

    def channel_utilization(self) -> float:
        """Percent of the last minute the channel was busy (heard or sent)."""
        return self.util.channel_utilization(self._now())

    def transmit_done(self, packet: Any, airtime: float) -> None:
        """Medium callback: our transmission ended."""
        with self._lock:
            self._sending = False
        self.util.sent(self._now(), airtime)
        self._pump()
        self.check_queue_room()

    def channel_busy(self, airtime: float) -> None:
        """Medium callback: a transmission in range occupied the channel."""
        self.util.busy(self._now(), airtime)

    # The client side (rules in emu_phone).
    def next_id(self) -> int:
        """A fresh packet id (the firmware's generatePacketId: random high bits, counter)."""
        with self._lock:
            self._packet_id = (self._packet_id + 1) & 0x3FF
            return (self._rng.randint(0, 0x3FFFFF) << 10) | self._packet_id or 1

    def to_phone(self, packet: Any, session: ClientSession | None = None) -> None:
        """Give a packet to one client, or to every client."""
        with self.heard_event:
            self.heard.append(packet)
            self.heard_event.notify_all()
        for s in [session] if session is not None else self.sessions():
            s.send_packet(packet)

    def handle_phone_packet(self, session: ClientSession, packet: Any) -> None:
        """A MeshPacket the client asked us to send (the firmware's handleToRadio)."""
        emu_phone.handle_phone_packet(self, session, packet)

    def send_own(self, packet: Any, session: Any) -> None:
        """Put a packet we originate on the air, on the channel index it names."""
        channel = next((c for c in self.channels() if c.index == packet.channel), None)
        if channel is None:  # Router::send: no such channel
            session.send_queue_status(Routing.Error.NO_CHANNEL, packet.id)
            reply = emu_phone.routing_reply(self, Routing.Error.NO_CHANNEL, packet.id)
            self.to_phone(reply, session)
            return
        priority = fix_priority(packet)
        air = to_air(packet, channel, self.firmware_version)
        with self._lock:
            self._remember((self.node_num, packet.id), None)
        reliable = self.medium is not None and packet.want_ack
        if reliable:  # before it can be heard back: the implicit ACK must find it
            self.reliable.start(air, packet.channel)
        if self.medium is not None and not self.send_air(air, priority, from_us=True):
            self.reliable.forget(packet.id)
            session.send_queue_status(emu_phone.ERRNO_UNKNOWN, packet.id)  # queue full
            return
        session.send_queue_status(emu_phone.ERRNO_OK, packet.id)

    def _originate(self, packet: Any, channel_index: int = 0) -> None:
        """Send a packet of the radio's own (NodeInfo, replies) on ``channel_index``."""
        if self.medium is None:
            return
        channel = next((c for c in self.channels() if c.index == channel_index), None)
        if channel is None:
            return
        priority = fix_priority(packet)
        air = to_air(packet, channel, self.firmware_version)
        with self._lock:
            self._remember((self.node_num, packet.id), None)
        self.send_air(air, priority, from_us=True)

    def retransmit(self, air: Any) -> None:
        """Send our packet ``air`` again (reliable delivery)."""
        self.send_air(air, int(Priority.RELIABLE), from_us=True)

    def send_air(self, air: Any, priority: int, *, from_us: bool) -> bool:
        """Queue a packet for the air (``MeshPacketQueue::enqueue``); False when refused."""
        if self.medium is None:
            return False
        with self._lock:
            if not self.txq.enqueue(air, priority, from_us):
                return False
        self._pump()
        return True

    def _pump(self) -> None:
        """Hand the queue's front to the medium when nothing of ours is on the air."""
        medium = self.medium
        with self._lock:
            if self._sending or medium is None:
                return
            air = self.txq.pop()
            if air is None:
                return
            self._sending = True
        medium.transmit(self, air)

    # Own traffic.
    def announce(self) -> None:
        """Broadcast our NodeInfo on the primary channel, as the firmware does after boot."""
        pkt = mesh_pb2.MeshPacket(to=BROADCAST, id=self.next_id())
        setattr(pkt, "from", self.node_num)
        pkt.hop_limit = pkt.hop_start = self.state.config.lora.hop_limit
        pkt.decoded.portnum = portnums_pb2.PortNum.NODEINFO_APP
        pkt.decoded.payload = self.state.owner.SerializeToString()
        self._originate(pkt, 0)

    def send_telemetry(self) -> None:
        """Give the clients our device metrics now (the firmware does it about every minute)."""
        pkt = mesh_pb2.MeshPacket(to=BROADCAST, id=self.next_id())
        setattr(pkt, "from", self.node_num)
        pkt.rx_time = int(time.time())
        pkt.decoded.portnum = portnums_pb2.PortNum.TELEMETRY_APP
        pkt.decoded.payload = emu_phone.device_metrics(self).SerializeToString()
        self.to_phone(pkt)

    def _telemetry_loop(self) -> None:
        assert self.telemetry_interval
        while not self._stop.wait(self.telemetry_interval):
            try:
                self.send_telemetry()
            except Exception:
                log.exception("telemetry failed")

    # Test helpers.
    def wait_heard(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> Any | None:
        """Block until a packet given to the phone satisfies ``predicate``; None on timeout."""
        deadline = time.monotonic() + timeout
        with self.heard_event:
            while True:
                for pkt in self.heard:
                    if predicate(pkt):
                        return pkt
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.heard_event.wait(left)


def _duty_cycle_percent(region: str) -> float | None:
    """The hourly transmit limit the firmware enforces in ``region`` (None: no limit)."""
    known = REGIONS.get(region)
    return 100.0 * known.duty_cycle if known is not None and known.has_duty_cycle else None
