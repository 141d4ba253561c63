"""The meshtastic interface classes with the few hooks RadioLink needs (private to relay.radio).

The library publishes neither handshakes, queue statuses nor the difference between a reboot and
a lost port, and it leaks a heartbeat timer on every reboot. Thin subclasses add those hooks; each
hook only hands a value to ``notify`` (which RadioLink routes to its event loop with
``call_soon_threadsafe``) or repairs library state on the library's own reader thread.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from meshtastic.serial_interface import SerialInterface
from meshtastic.tcp_interface import TCPInterface

log = logging.getLogger(__name__)

Notify = Callable[[Any, str, Any], None]  # (interface, event, value)


class _Hooks:
    """Mixin placed before a StreamInterface subclass in the MRO."""

    _jarshy_notify: Notify | None = None
    _jarshy_snapshot: dict[str, Any] | None = None

    def _emit(self, event: str, value: Any = None) -> None:
        notify = self._jarshy_notify
        if notify is not None:
            notify(self, event, value)

    def _startConfig(self) -> None:
        self._emit("handshake")
        super()._startConfig()  # type: ignore[misc]

    def _handleConfigComplete(self) -> None:
        super()._handleConfigComplete()  # type: ignore[misc]
        snapshot = snapshot_interface(self)
        self._jarshy_snapshot = snapshot
        self._emit("config_complete", snapshot)

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
        self._emit("lost")


class HookedSerial(_Hooks, SerialInterface):  # type: ignore[misc]
    """SerialInterface that reports handshakes, queue status and port loss."""

    def __init__(self, notify: Notify, dev_path: str, timeout: int) -> None:
        self._jarshy_notify = notify
        super().__init__(devPath=dev_path, timeout=timeout)


class HookedTCP(_Hooks, TCPInterface):  # type: ignore[misc]
    """TCPInterface that reports handshakes (also its silent reconnects) and port loss."""

    def __init__(self, notify: Notify, host: str, port: int, timeout: int) -> None:
        self._jarshy_notify = notify
        super().__init__(host, portNumber=port, timeout=timeout)


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
    return out
