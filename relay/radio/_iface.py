"""The meshtastic interface classes with the few hooks RadioLink needs (private to relay.radio).

The library publishes neither handshakes, queue statuses nor the difference between a reboot and
a lost port, and it leaks a heartbeat timer on every reboot. Thin subclasses add those hooks; each
hook only hands a value to ``notify`` (which RadioLink routes to its event loop with
``call_soon_threadsafe``) or repairs library state on the library's own reader thread.

They also change three library behaviours: a TCP connection the radio closes is not silently
reopened (the firmware closes it for another client; RadioLink decides when to come back), a
connection attempt and the handshake are bounded, and closing never writes to a closed socket
(the library sent its first heartbeat after ``close`` had begun: a ``BrokenPipeError`` traceback
on every quick CLI command). ``open_interface`` / ``close_interface`` give CLI commands the same.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from meshtastic.serial_interface import SerialInterface
from meshtastic.tcp_interface import TCPInterface

from relay.radio.linktypes import RadioAddress, parse_address

log = logging.getLogger(__name__)

Notify = Callable[[Any, str, Any], None]  # (interface, event, value)
CONNECT_TIMEOUT = 10.0  # seconds for a TCP connection attempt (the OS default is minutes)
READY_WAIT = 2.0  # seconds close() waits for the library to finish its own handshake steps
CLOSED_BY_RADIO = "closed by the radio"  # the "lost" reason when the radio ended a TCP connection


class RadioClosed(OSError):
    """The radio closed the connection during the handshake (another TCP client came in)."""


class _Hooks:
    """Mixin placed before a StreamInterface subclass in the MRO."""

    _jarshy_notify: Notify | None = None
    _jarshy_snapshot: dict[str, Any] | None = None
    _jarshy_handshake_timeout: float = 30.0
    _jarshy_gone: str | None = None  # why the port went away, when the hooks know
    _jarshy_last_packet: float = 0.0  # monotonic time of the last packet from the radio
    _wantExit: bool
    isConnected: threading.Event

    def _jarshy_init(self, notify: Notify | None, handshake_timeout: float) -> None:
        self._jarshy_notify = notify
        self._jarshy_handshake_timeout = handshake_timeout
        self._jarshy_ready = threading.Event()  # the library finished _connected()

    def _emit(self, event: str, value: Any = None) -> None:
        notify = self._jarshy_notify
        if notify is not None:
            notify(self, event, value)

    def _waitConnected(self, timeout: float = 30.0) -> None:
        # The library waits its full timeout even when the radio has already closed the port.
        deadline = time.monotonic() + self._jarshy_handshake_timeout
        while not self.isConnected.wait(0.05):
            if self._jarshy_gone is not None:
                raise RadioClosed(f"{self._jarshy_gone} during the handshake")
            if time.monotonic() > deadline:
                break
        super()._waitConnected(0.0)  # type: ignore[misc]  # raises its own errors, if any

    def _connected(self) -> None:
        # Before isConnected wakes the constructor's caller, which reads the snapshot at once.
        self._jarshy_snapshot = snapshot_interface(self)
        try:
            super()._connected()  # type: ignore[misc]
        finally:
            self._jarshy_ready.set()

    def _handlePacketFromRadio(self, *args: Any, **kwargs: Any) -> Any:
        self._jarshy_last_packet = time.monotonic()  # proof of a live, configured session
        return super()._handlePacketFromRadio(*args, **kwargs)  # type: ignore[misc]

    def sendHeartbeat(self) -> None:
        if self._wantExit:
            return  # closing: the port may already be shut
        try:
            super().sendHeartbeat()  # type: ignore[misc]
        except OSError as exc:
            if not self._wantExit:
                raise
            log.debug("heartbeat while closing: %s", exc)

    def close(self) -> None:
        # The library sets isConnected before it sends its first heartbeat: a caller that closes
        # at once (a quick CLI command) raced that write. Let the reader finish it first.
        if self.isConnected.is_set() and threading.current_thread() is not getattr(
            self, "_rxThread", None
        ):
            self._jarshy_ready.wait(READY_WAIT)
        super().close()  # type: ignore[misc]

    def _startConfig(self) -> None:
        self._emit("handshake")
        super()._startConfig()  # type: ignore[misc]

    def _handleConfigComplete(self) -> None:
        super()._handleConfigComplete()  # type: ignore[misc]  # calls _connected()
        self._emit("config_complete", self._jarshy_snapshot)

    def _handleQueueStatusFromRadio(self, queue_status: Any) -> None:
        super()._handleQueueStatusFromRadio(queue_status)  # type: ignore[misc]
        queue = getattr(self, "queue", None)
        if queue_status.res and queue is not None:
            # The firmware refused this packet; the library would resend it before every later
            # packet forever. Forget it here, on the reader thread that owns this queue.
            queue.pop(queue_status.mesh_packet_id, None)
        self._emit(
            "queue_status",
            (queue_status.res, queue_status.free, queue_status.maxlen, queue_status.mesh_packet_id),
        )

    def _startHeartbeat(self) -> None:
        old = getattr(self, "heartbeatTimer", None)
        if old is not None:
            old.cancel()  # the library starts a second chain after each reboot; stop the first
        super()._startHeartbeat()  # type: ignore[misc]

    def _disconnected(self) -> None:
        # Only the reader thread's exit calls the subclass version: the port is really gone.
        # (A reboot calls MeshInterface._disconnected directly and keeps the port.)
        super()._disconnected()  # type: ignore[misc]
        self._emit("lost", self._jarshy_gone or "lost")


class HookedSerial(_Hooks, SerialInterface):  # type: ignore[misc]
    """SerialInterface that reports handshakes, queue status and port loss."""

    def __init__(self, notify: Notify | None, dev_path: str, timeout: int) -> None:
        self._jarshy_init(notify, timeout)
        super().__init__(devPath=dev_path, timeout=timeout)


class HookedTCP(_Hooks, TCPInterface):  # type: ignore[misc]
    """TCPInterface that reports handshakes and port loss, and never reconnects on its own."""

    socket: socket.socket | None

    def __init__(self, notify: Notify | None, host: str, port: int, timeout: int) -> None:
        self._jarshy_init(notify, timeout)
        super().__init__(host, portNumber=port, timeout=timeout)

    def myConnect(self) -> None:
        sock = socket.create_connection((self.hostname, self.portNumber), CONNECT_TIMEOUT)
        sock.settimeout(None)  # the reader thread blocks in recv
        self.socket = sock

    def _reconnect(self) -> None:
        # The library calls this when the radio closed the connection (recv returned nothing)
        # or a write failed, and would reconnect silently a second later, in a fight with the
        # client that took our place. End the reader instead: the "lost" hook tells RadioLink.
        if self._wantExit:
            return
        self._jarshy_gone = CLOSED_BY_RADIO
        self._wantExit = True
        sock = self.socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked in recv

    def _readBytes(self, length: int) -> bytes | None:
        try:
            data: bytes | None = super()._readBytes(length)
        except ConnectionResetError:  # the radio dropped us with unread data: a reset, not EOF
            if not self._wantExit:
                self._jarshy_gone = CLOSED_BY_RADIO
                self._wantExit = True
            return None
        return data

    def _writeBytes(self, b: bytes) -> None:
        sock = self.socket
        if sock is None or self._wantExit:
            return  # closing or gone: nothing may be written any more
        try:
            sock.sendall(b)
        except OSError as exc:
            if self._wantExit:
                return
            self._jarshy_gone = f"write failed: {exc}"
            self._reconnect()
            raise


def open_interface(address: str | RadioAddress, timeout: int = 30) -> Any:
    """A connected meshtastic interface for a one-shot command (``jarshy radio info``).

    Blocking. Raises ValueError for a bad address, OSError or the library's errors when the radio
    does not answer. Close it with :func:`close_interface`: no traceback, whatever state it is in.
    """
    parsed = parse_address(address) if isinstance(address, str) else address
    if parsed.kind == "tcp":
        assert parsed.host is not None
        return HookedTCP(None, parsed.host, parsed.port, timeout)
    path = parsed.path
    if path is None:
        from meshtastic.util import findPorts

        ports = findPorts(True)
        if len(ports) != 1:
            found = ", ".join(ports) if ports else "none"
            raise OSError(f"serial:auto needs exactly one Meshtastic serial port (found: {found})")
        path = str(ports[0])
    return HookedSerial(None, path, timeout)


def close_interface(iface: Any) -> None:
    """Close an interface whatever state its port is in (blocking; never raises)."""
    iface._jarshy_notify = None
    iface._wantExit = True  # no heartbeat, no reconnect from here on
    # close() sends a disconnect through the library's queue loop, which sleeps until the radio
    # reports room for the packets still queued: forget them, we are leaving anyway.
    with contextlib.suppress(Exception):
        iface.queue.clear()
        iface.queueStatus = None
    try:
        iface.close()
    except Exception as exc:  # writing the disconnect to a dead port fails; clean up by hand
        log.debug("close after failure: %s", exc)
        stream = getattr(iface, "stream", None)
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
    timer = getattr(iface, "heartbeatTimer", None)
    if timer is not None:
        timer.cancel()


def snapshot_interface(iface: Any) -> dict[str, Any]:
    """Copy what the status API shows out of the library's structures (on the reader thread)."""
    out: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        out["node_num"] = int(iface.myInfo.my_node_num)
    with contextlib.suppress(Exception):
        out["firmware_version"] = iface.metadata.firmware_version or None
    with contextlib.suppress(Exception):
        user = iface.getMyUser() or {}
        out["long_name"] = user.get("longName")
        out["short_name"] = user.get("shortName")
        out["hw_model"] = user.get("hwModel")
    with contextlib.suppress(Exception):
        cfg = iface.localNode.localConfig
        lora = cfg.lora
        lora_fields = lora.DESCRIPTOR.fields_by_name
        out["region"] = lora_fields["region"].enum_type.values_by_number[lora.region].name
        preset_enum = lora_fields["modem_preset"].enum_type
        out["modem_preset"] = preset_enum.values_by_number[lora.modem_preset].name
        out["hop_limit"] = int(lora.hop_limit)
        device = cfg.device
        role_enum = device.DESCRIPTOR.fields_by_name["role"].enum_type
        out["role"] = role_enum.values_by_number[device.role].name
    nodes = []
    with contextlib.suppress(Exception):
        for num, node in list((iface.nodesByNum or {}).items()):
            if num == out.get("node_num"):
                continue
            nodes.append(
                {
                    "num": int(num),
                    "snr": node.get("snr"),
                    "hops": node.get("hopsAway"),
                    "last_heard": node.get("lastHeard"),
                    "long_name": (node.get("user") or {}).get("longName"),
                }
            )
    out["nodes"] = nodes
    channels = []
    with contextlib.suppress(Exception):
        for ch in list(iface.localNode.channels or []):
            role = ch.DESCRIPTOR.fields_by_name["role"].enum_type.values_by_number[ch.role].name
            if role != "DISABLED":
                name = "".join(c for c in str(ch.settings.name)[:32] if c.isprintable())
                channels.append((int(ch.index), role, name))
    out["channels"] = channels
    return out
