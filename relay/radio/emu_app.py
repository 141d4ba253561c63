"""A stand-in for the official Meshtastic phone app on an emulated (or real) radio: it records the
texts and alerts the app would show.

The phone app shows a radio's TEXT_MESSAGE_APP packets as messages and its ALERT_APP packets as
critical notifications (meshtastic Android: ``PortNum.ALERT_APP`` raises the alert channel); it
ignores every private port. :class:`AppClient` is such a client: the real meshtastic library
connected to the radio's client API (TCP, or a pty path), listening as the apps do and keeping what
they would display, so tests and benchmarks see a mirrored bulletin exactly as a resident would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from meshtastic.protobuf import portnums_pb2
from pubsub import pub

SHOWN_PORTS = {
    portnums_pb2.PortNum.Name(portnums_pb2.PortNum.TEXT_MESSAGE_APP): "text",
    portnums_pb2.PortNum.Name(portnums_pb2.PortNum.ALERT_APP): "alert",
}  # the library names a known port in ``decoded.portnum``


@dataclass(frozen=True, slots=True)
class AppMessage:
    """One message as the app lists it."""

    kind: str  # "text" or "alert"
    text: str
    sender: int
    channel: int


class AppClient:
    """The meshtastic library on one radio, keeping what the phone app would show."""

    def __init__(self, address: str, timeout: int = 10) -> None:
        self.messages: list[AppMessage] = []
        self._changed = threading.Condition()
        kind, _, where = address.partition(":")
        if kind == "tcp":
            from meshtastic.tcp_interface import TCPInterface

            host, _, port = where.rpartition(":")
            self.iface: Any = TCPInterface(host, portNumber=int(port), timeout=timeout)
        else:
            from meshtastic.serial_interface import SerialInterface

            self.iface = SerialInterface(devPath=where, timeout=timeout)
        pub.subscribe(self._on_receive, "meshtastic.receive")  # a bound method: kept alive

    def _on_receive(self, packet: Any, interface: Any) -> None:
        if interface is not self.iface:
            return
        decoded = packet.get("decoded") or {}
        kind = SHOWN_PORTS.get(str(decoded.get("portnum")))
        if kind is None:
            return
        text = bytes(decoded.get("payload", b"")).decode("utf-8", errors="replace")
        message = AppMessage(kind, text, int(packet.get("from", 0)), int(packet.get("channel", 0)))
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[AppMessage]:
        """The messages once at least ``count`` arrived (or whatever came within ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        pub.unsubscribe(self._on_receive, "meshtastic.receive")
        self.iface.close()

    def __enter__(self) -> AppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
