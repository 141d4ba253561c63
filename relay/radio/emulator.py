"""A fake Meshtastic radio: the firmware behaviour the client API and the mesh can observe.

:class:`EmulatedRadio` is the device (node database, config, TX queue, duty cycle, flooding
relay, telemetry); clients talk to it through :class:`~relay.radio.session.ClientSession` over a
pseudo-terminal or TCP (:mod:`relay.radio.transports`); it hears other radios through a
:class:`~relay.radio.medium.Medium`. Test hooks: :meth:`EmulatedRadio.reboot`,
``queue_full``, ``max_payload``, ``duty_cycle_percent``; unplugging is a transport matter.

Everything runs on plain threads so the emulator works the same under asyncio tests, blocking
tests and the ``jarshy radio emulate`` command.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import admin_pb2, mesh_pb2, portnums_pb2, telemetry_pb2

from relay.lora import DEFAULT_PRESET, PRESETS, REGIONS
from relay.radio.admin import ProvisioningAdminHandler
from relay.radio.medium import Medium
from relay.radio.session import ClientSession
from relay.radio.state import AdminHandler, NodeSeen, RadioState
from relay.sim.firmware import Role, late_window_delay, relay_delay

log = logging.getLogger(__name__)

BROADCAST = 0xFFFFFFFF
MAX_DATA_LEN = 239  # 255-byte LoRa frame minus the 16-byte header: encoded Data must fit
HOP_MAX = 7
TX_QUEUE_LEN = 16
SEEN_RING = 300
ERRNO_OK = 0
KEPT_PACKETS = 4096  # packets the emulator remembers for tests, each way
ERRNO_UNKNOWN = 32  # the firmware's answer when its TX queue is full
Routing = mesh_pb2.Routing
CORE_PORT_LIMIT = 256  # ports at or above are private (not "core")


class EmulatedRadio:
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
        self.ignored_drops = 0  # packets dropped because their sender is ignored
        self._rng = random.Random(seed)
        self._sessions: list[ClientSession] = []
        self._lock = threading.RLock()
        self._seen: OrderedDict[tuple[int, int], Callable[[], None] | None] = OrderedDict()
        self._await_implicit_ack: set[int] = set()
        self._tx_log: deque[tuple[float, float]] = deque()  # (end time, airtime) of our sends
        self._busy_log: deque[tuple[float, float]] = deque()  # everything heard or sent
        self._tx_pending = 0
        self._packet_id = self._rng.randint(1, 0x3FF)
        self._stop = threading.Event()
        self._telemetry_thread: threading.Thread | None = None
        # the latest packets delivered to the phone / asked for by it (for tests); bounded, so
        # a long-running simulated daemon does not grow with every packet
        self.heard: deque[Any] = deque(maxlen=KEPT_PACKETS)
        self.from_phone: deque[Any] = deque(maxlen=KEPT_PACKETS)
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
        """The firmware version this radio reports (decides 2.8's signature on air)."""
        version: str = self.state.metadata.firmware_version
        return version

    @property
    def modem_preset(self) -> str:
        """Name of the configured LoRa preset."""
        return self.state.enum_name("lora", "modem_preset")

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

    def sessions(self) -> list[ClientSession]:
        """Current client sessions."""
        with self._lock:
            return list(self._sessions)

    def reboot(self) -> None:
        """Test hook: tell every client ``rebooted`` and forget volatile state, as a reboot does."""
        with self._lock:
            for cancel in self._seen.values():
                if cancel is not None:
                    cancel()
            self._seen.clear()
            self._await_implicit_ack.clear()
        for session in self.sessions():
            session.send_rebooted()

    # Clock and utilisation.
    def _now(self) -> float:
        return self.medium.now() if self.medium is not None else time.monotonic()

    def tx_queue_free(self) -> tuple[int, int]:
        """(free, maxlen) of the TX queue as reported in QueueStatus."""
        if self.queue_full:
            return 0, TX_QUEUE_LEN
        with self._lock:
            return max(TX_QUEUE_LEN - self._tx_pending, 0), TX_QUEUE_LEN

    def air_util_tx(self) -> float:
        """Percent of the last hour this radio spent transmitting."""
        now = self._now()
        with self._lock:
            while self._tx_log and self._tx_log[0][0] < now - 3600:
                self._tx_log.popleft()
            return 100.0 * sum(a for _, a in self._tx_log) / 3600.0

    def channel_utilization(self) -> float:
        """Percent of the last minute the channel was busy (heard or sent)."""
        now = self._now()
        with self._lock:
            while self._busy_log and self._busy_log[0][0] < now - 60:
                self._busy_log.popleft()
            return min(100.0, 100.0 * sum(a for _, a in self._busy_log) / 60.0)

    def transmit_done(self, packet: Any, airtime: float) -> None:
        """Medium callback: our transmission ended."""
        now = self._now()
        with self._lock:
            self._tx_pending = max(self._tx_pending - 1, 0)
            self._tx_log.append((now, airtime))
            self._busy_log.append((now, airtime))

    def channel_busy(self, airtime: float) -> None:
        """Medium callback: a transmission in range occupied the channel."""
        with self._lock:
            self._busy_log.append((self._now(), airtime))

    # Packets from the phone.
    def _next_id(self) -> int:
        with self._lock:
            self._packet_id = (self._packet_id + 1) & 0x3FF
            return (self._rng.randint(0, 0x3FFFFF) << 10) | self._packet_id or 1

    def _to_phone(self, packet: Any, session: ClientSession | None = None) -> None:
        with self.heard_event:
            self.heard.append(packet)
            self.heard_event.notify_all()
        for s in [session] if session is not None else self.sessions():
            s.send_packet(packet)

    def _routing_to_phone(
        self, session: ClientSession | None, error: int, request_id: int, channel: int = 0
    ) -> None:
        pkt = mesh_pb2.MeshPacket(to=self.node_num, id=self._next_id(), channel=channel)
        setattr(pkt, "from", self.node_num)
        pkt.rx_time = int(time.time())
        pkt.priority = mesh_pb2.MeshPacket.Priority.ACK
        pkt.decoded.portnum = portnums_pb2.PortNum.ROUTING_APP
        pkt.decoded.payload = Routing(error_reason=error).SerializeToString()
        pkt.decoded.request_id = request_id
        self._to_phone(pkt, session)

    def _too_large(self, packet: Any) -> bool:
        if self.max_payload is not None:
            return len(packet.decoded.payload) > self.max_payload
        data = mesh_pb2.Data()
        data.CopyFrom(packet.decoded)
        data.bitfield = data.bitfield  # the firmware always adds its bitfield
        return len(data.SerializeToString()) > MAX_DATA_LEN

    def handle_phone_packet(self, session: ClientSession, packet: Any) -> None:
        """A MeshPacket the client asked us to send (the firmware's handleToRadio)."""
        setattr(packet, "from", self.node_num)
        if packet.id == 0:
            packet.id = self._next_id()
        self.from_phone.append(packet)
        decoded = packet.HasField("decoded")
        if (
            decoded
            and packet.decoded.portnum == portnums_pb2.PortNum.ADMIN_APP
            and (packet.to in (self.node_num, 0))
        ):
            session.send_queue_status(ERRNO_OK, packet.id)
            self._handle_admin(session, packet)
            return
        if decoded and self._too_large(packet):
            session.send_queue_status(Routing.Error.TOO_LARGE, packet.id)
            self._routing_to_phone(session, Routing.Error.TOO_LARGE, packet.id, packet.channel)
            return
        if self.queue_full:
            session.send_queue_status(ERRNO_UNKNOWN, packet.id)
            return
        limit = self.duty_cycle_percent
        if limit is not None and limit < 100 and self.air_util_tx() > limit:
            session.send_queue_status(Routing.Error.DUTY_CYCLE_LIMIT, packet.id)
            self._routing_to_phone(session, Routing.Error.DUTY_CYCLE_LIMIT, packet.id)
            return
        if packet.to == self.node_num:
            session.send_queue_status(ERRNO_OK, packet.id)
            return
        packet.hop_limit = min(packet.hop_limit, HOP_MAX)
        packet.hop_start = packet.hop_limit
        packet.rx_time = int(time.time())
        with self._lock:
            self._remember((self.node_num, packet.id), None)
            if packet.want_ack and packet.to == BROADCAST:
                self._await_implicit_ack.add(packet.id)
            if self.medium is not None:
                self._tx_pending += 1
        session.send_queue_status(ERRNO_OK, packet.id)
        if self.medium is not None:
            self.medium.transmit(self, packet)

    def _handle_admin(self, session: ClientSession, packet: Any) -> None:
        message = admin_pb2.AdminMessage()
        try:
            message.ParseFromString(packet.decoded.payload)
        except Exception:
            log.debug("ignoring malformed admin message")
            return
        with self.state.lock:
            reply = self.admin.handle_admin(self.state, message, packet)
        if packet.want_ack:
            self._routing_to_phone(session, Routing.Error.NONE, packet.id, packet.channel)
        if reply is not None:
            out = mesh_pb2.MeshPacket(to=self.node_num, id=self._next_id(), channel=packet.channel)
            setattr(out, "from", self.node_num)
            out.rx_time = int(time.time())
            out.decoded.portnum = portnums_pb2.PortNum.ADMIN_APP
            out.decoded.payload = reply.SerializeToString()
            out.decoded.request_id = packet.id
            self._to_phone(out, session)

    # Packets from the air.
    def _remember(self, key: tuple[int, int], cancel: Callable[[], None] | None) -> None:
        self._seen[key] = cancel
        while len(self._seen) > SEEN_RING:
            self._seen.popitem(last=False)

    def receive_from_air(self, packet: Any, snr: float, rssi: int) -> None:
        """Medium callback: a packet was heard (the firmware's FloodingRouter)."""
        sender = getattr(packet, "from")
        key = (sender, packet.id)
        role = self.state.enum_name("device", "role")
        if sender in self.state.ignored:
            self.ignored_drops += 1  # Router::perhapsHandleReceived: neither relayed nor delivered
            return
        with self._lock:
            if sender == self.node_num:
                if packet.id in self._await_implicit_ack:
                    self._await_implicit_ack.discard(packet.id)
                    self._routing_to_phone(None, Routing.Error.NONE, packet.id)
                return
            if key in self._seen:
                cancel = self._seen[key]
                if cancel is not None and role not in ("ROUTER", "ROUTER_LATE"):
                    cancel()  # a client hearing the rebroadcast drops its own
                    self._seen[key] = None
                return
            self._remember(key, None)
        self._update_node(packet, snr)
        port = packet.decoded.portnum
        mode = self.state.enum_name("device", "rebroadcast_mode")
        if mode == "CORE_PORTNUMS_ONLY" and port >= CORE_PORT_LIMIT:
            return  # the ROUTER trap: private ports are dropped, not delivered or relayed
        if packet.to in (BROADCAST, self.node_num):
            rx = mesh_pb2.MeshPacket()
            rx.CopyFrom(packet)
            rx.rx_snr = snr
            rx.rx_rssi = rssi
            rx.rx_time = int(time.time())
            rx.channel = 0
            self._to_phone(rx)
        relays = role != "CLIENT_MUTE" and mode != "NONE" and self.medium is not None
        if relays and packet.to != self.node_num and packet.hop_limit > 0:
            self._schedule_relay(packet, snr, role)

    def _schedule_relay(self, packet: Any, snr: float, role: str) -> None:
        assert self.medium is not None
        relay = mesh_pb2.MeshPacket()
        relay.CopyFrom(packet)
        relay.hop_limit -= 1
        relay.relay_node = self.node_num & 0xFF
        slot = PRESETS.get(self.modem_preset, DEFAULT_PRESET).slot_time
        if role == "ROUTER_LATE":  # always behind every client, as if it had heard a relay
            delay = late_window_delay(snr, slot, self._rng)
        else:
            try:
                firmware_role = Role.parse(role)
            except ValueError:
                firmware_role = Role.CLIENT
            delay = relay_delay(firmware_role, snr, slot, self._rng)
        key = (getattr(packet, "from"), packet.id)
        medium = self.medium

        def fire() -> None:
            with self._lock:
                if self._seen.get(key) is None:
                    return  # cancelled meanwhile
                self._seen[key] = None
                self._tx_pending += 1
            medium.transmit(self, relay)

        with self._lock:
            self._seen[key] = medium.call_later(delay, fire)

    def _update_node(self, packet: Any, snr: float) -> None:
        sender = getattr(packet, "from")
        with self.state.lock:
            seen = self.state.nodes.get(sender) or NodeSeen(num=sender)
            seen.snr = snr
            seen.hops_away = max(packet.hop_start - packet.hop_limit, 0)
            seen.last_heard = int(time.time())
            if packet.decoded.portnum == portnums_pb2.PortNum.NODEINFO_APP:
                user = mesh_pb2.User()
                try:
                    user.ParseFromString(packet.decoded.payload)
                    seen.user = user
                except Exception:
                    log.debug("ignoring malformed NodeInfo from %08x", sender)
            self.state.nodes[sender] = seen

    # Own traffic.
    def announce(self) -> None:
        """Broadcast our NodeInfo, as the firmware does after boot."""
        if self.medium is None:
            return
        pkt = mesh_pb2.MeshPacket(to=BROADCAST, id=self._next_id())
        setattr(pkt, "from", self.node_num)
        pkt.hop_limit = pkt.hop_start = self.state.config.lora.hop_limit
        pkt.decoded.portnum = portnums_pb2.PortNum.NODEINFO_APP
        pkt.decoded.payload = self.state.owner.SerializeToString()
        with self._lock:
            self._remember((self.node_num, pkt.id), None)
            self._tx_pending += 1
        self.medium.transmit(self, pkt)

    def send_telemetry(self) -> None:
        """Give the clients our device metrics now (the firmware does it about every minute)."""
        telemetry = telemetry_pb2.Telemetry(time=int(time.time()))
        metrics = telemetry.device_metrics
        metrics.channel_utilization = self.channel_utilization()
        metrics.air_util_tx = self.air_util_tx()
        metrics.battery_level = 101  # powered
        metrics.uptime_seconds = int(self._now())
        pkt = mesh_pb2.MeshPacket(to=BROADCAST, id=self._next_id())
        setattr(pkt, "from", self.node_num)
        pkt.rx_time = int(time.time())
        pkt.decoded.portnum = portnums_pb2.PortNum.TELEMETRY_APP
        pkt.decoded.payload = telemetry.SerializeToString()
        self._to_phone(pkt)

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
