"""One client connection to an emulated radio: the firmware's PhoneAPI state machine.

A session parses ToRadio frames from the client, answers the ``want_config_id`` handshake from the
radio's :class:`~relay.radio.state.RadioState`, replies to heartbeats with a queue status, and
forwards packets for the phone once the handshake is done (holding at most 16 before that, as the
firmware's to-phone queue does). Transport-agnostic: the pty and TCP servers give it a ``write``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from meshtastic.protobuf import mesh_pb2

from relay.radio.framing import FrameParser, encode_frame

log = logging.getLogger(__name__)

SPECIAL_NONCE_ONLY_CONFIG = 69420
SPECIAL_NONCE_ONLY_NODES = 69421
TO_PHONE_QUEUE_LEN = 16
RECENT_IDS = 20


class SessionRadio(Protocol):
    """What a session needs from its radio (:class:`relay.radio.emulator.EmulatedRadio`)."""

    state: Any  # relay.radio.state.RadioState

    def handle_phone_packet(self, session: ClientSession, packet: Any) -> None:
        """A MeshPacket the client asked the radio to send."""
        ...

    def tx_queue_free(self) -> tuple[int, int]:
        """(free, maxlen) of the transmit queue."""
        ...


class ClientSession:
    """The radio side of one serial or TCP client connection."""

    def __init__(
        self,
        radio: SessionRadio,
        write: Callable[[bytes], None],
        name: str,
        *,
        close: Callable[[], None] | None = None,
    ) -> None:
        """``name`` starting with ``tcp:`` marks a network client (one at a time, see
        :meth:`EmulatedRadio.add_session`); ``close`` drops the transport's connection."""
        self.radio = radio
        self.name = name
        self._write = write
        self._close = close
        self.closed = False  # displaced or closed: no input is read and nothing is sent
        self._parser = FrameParser()
        self._lock = threading.Lock()  # serialises writes and state changes
        self.connected = False  # handshake done; packets flow
        self._pending: deque[Any] = deque()  # FromRadio held until the handshake completes
        self._recent_ids: deque[int] = deque(maxlen=RECENT_IDS)
        self.frames_in = 0
        self.frames_out = 0

    # Input from the client.
    @property
    def can_close(self) -> bool:
        """The transport gave a way to drop the connection."""
        return self._close is not None

    @property
    def is_network(self) -> bool:
        """A TCP (Wi-Fi/Ethernet API) client rather than a serial one."""
        return self.name.startswith("tcp:")

    def close(self) -> None:
        """Drop this client, as ``ServerAPI::close`` does (``client.stop()``): idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.connected = False
            self._pending.clear()
        if self._close is not None:
            try:
                self._close()
            except OSError as exc:
                log.debug("%s: close failed: %s", self.name, exc)

    def feed(self, data: bytes) -> None:
        """Bytes read from the client; malformed input is logged and ignored, never raised."""
        if self.closed:
            return
        for frame in self._parser.feed(data):
            self.frames_in += 1
            to_radio = mesh_pb2.ToRadio()
            try:
                to_radio.ParseFromString(frame)
            except Exception:  # a peer's garbage is an event, not a crash
                log.debug("%s: ignoring malformed ToRadio (%d bytes)", self.name, len(frame))
                continue
            try:
                self._handle(to_radio)
            except Exception:
                log.exception(
                    "%s: error handling %s", self.name, to_radio.WhichOneof("payload_variant")
                )

    def _handle(self, to_radio: Any) -> None:
        variant = to_radio.WhichOneof("payload_variant")
        if variant == "want_config_id":
            self._handshake(to_radio.want_config_id)
        elif variant == "packet":
            packet = to_radio.packet
            if packet.id and packet.id in self._recent_ids:
                return  # the firmware ignores a packet id it saw from the phone recently
            if packet.id:
                self._recent_ids.append(packet.id)
            self.radio.handle_phone_packet(self, packet)
        elif variant == "heartbeat":
            self.send_queue_status(0, 0)
        elif variant == "disconnect":
            with self._lock:
                self.connected = False
                self._pending.clear()

    # Output to the client.
    def _send_now(self, from_radio: Any) -> None:
        if self.closed:
            return
        data = encode_frame(from_radio.SerializeToString())
        self.frames_out += 1
        try:
            self._write(data)
        except OSError as exc:  # the client went away; the transport notices on its own
            log.debug("%s: write failed: %s", self.name, exc)

    def send(self, from_radio: Any) -> None:
        """Send a FromRadio now (handshake records, queue status, notifications)."""
        with self._lock:
            self._send_now(from_radio)

    def send_packet(self, packet: Any) -> None:
        """Give the client a MeshPacket, or hold it until the handshake is done."""
        from_radio = mesh_pb2.FromRadio()
        from_radio.packet.CopyFrom(packet)
        with self._lock:
            if self.connected:
                self._send_now(from_radio)
            elif len(self._pending) < TO_PHONE_QUEUE_LEN:
                self._pending.append(from_radio)

    def send_queue_status(self, res: int, mesh_packet_id: int) -> None:
        """A QueueStatus with the radio's current TX queue occupancy."""
        free, maxlen = self.radio.tx_queue_free()
        from_radio = mesh_pb2.FromRadio()
        qs = from_radio.queueStatus
        qs.res = res
        qs.free = free
        qs.maxlen = maxlen
        qs.mesh_packet_id = mesh_packet_id
        self.send(from_radio)

    def send_rebooted(self) -> None:
        """Tell the client the radio rebooted; it must handshake again."""
        from_radio = mesh_pb2.FromRadio(rebooted=True)
        with self._lock:
            self.connected = False
            self._pending.clear()
            self._recent_ids.clear()
            self._send_now(from_radio)

    def _handshake(self, nonce: int) -> None:
        state = self.radio.state
        records: list[Any] = []
        with state.lock:
            records.append(mesh_pb2.FromRadio(my_info=state.my_info()))
            if nonce != SPECIAL_NONCE_ONLY_NODES:
                records.append(mesh_pb2.FromRadio(node_info=state.own_node_info()))
                records.append(mesh_pb2.FromRadio(metadata=state.metadata))
                records.extend(mesh_pb2.FromRadio(channel=ch) for ch in state.channels)
                records.extend(mesh_pb2.FromRadio(config=c) for c in state.config_sections())
                records.extend(
                    mesh_pb2.FromRadio(moduleConfig=m) for m in state.module_config_sections()
                )
            else:
                records.append(mesh_pb2.FromRadio(node_info=state.own_node_info()))
            if nonce != SPECIAL_NONCE_ONLY_CONFIG:
                records.extend(mesh_pb2.FromRadio(node_info=n) for n in state.other_node_infos())
        records.append(mesh_pb2.FromRadio(config_complete_id=nonce))
        for index, record in enumerate(records, start=1):
            record.id = index
        with self._lock:
            self.connected = False
            for record in records:
                self._send_now(record)
            self.connected = True
            while self._pending:
                self._send_now(self._pending.popleft())
        log.debug("%s: handshake done (nonce %d, %d records)", self.name, nonce, len(records))
