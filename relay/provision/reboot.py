"""After a commit the radio reboots: wait for it, reconnect, so the read-back sees what was saved.

Firmware 2.7 (``src/modules/AdminModule.cpp``: ``commit_edit_settings`` -> ``saveChanges`` ->
``reboot(DEFAULT_REBOOT_SECONDS)``, 7 s in ``src/configuration.h``) restarts after every committed
edit transaction. What a client sees depends on the board: a USB-serial bridge keeps its port and
the new boot sends ``FromRadio.rebooted`` (``src/SerialConsole.cpp``; the library then clears
``isConnected`` and handshakes again, replacing ``myInfo``); a native-USB board (ESP32-S3, nRF52)
drops its port and re-enumerates it; over TCP the socket closes. :func:`wait_for_reboot` watches
for any of these on the interface that wrote; :func:`reconnect` then opens a fresh connection,
retrying while the port is missing or the radio still boots. Both also work with a radio that
does not reboot (an emulator): the wait ends at its bound and the read-back follows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from relay.errors import UserError
from relay.provision.apply import close, connect
from relay.provision.firmware import REBOOT_AFTER_COMMIT_SECS
from relay.radio.linktypes import parse_address

REBOOT_GRACE_SECS = 8.0
"""Beyond the firmware's 7 s: flash writes and a slow shutdown delay the restart."""

RECONNECT_SECS = 60.0
"""How long a rebooting radio may take to come back (boot, USB re-enumeration)."""

ATTEMPT_TIMEOUT = 15
"""Handshake timeout of one reconnect attempt."""

POLL_SECS = 0.05


@dataclass(frozen=True)
class Marker:
    """What identifies the connection before the reboot."""

    my_info: Any
    reboot_count: int | None

    @classmethod
    def of(cls, iface: Any) -> Marker:
        info = getattr(iface, "myInfo", None)
        count = getattr(info, "reboot_count", None)
        return cls(info, int(count) if count is not None else None)


def rebooted(iface: Any, marker: Marker) -> bool:
    """True once the radio has gone away or restarted (each sign stays true once seen)."""
    if getattr(iface, "myInfo", None) is not marker.my_info:
        return True  # the library handshakes again after FromRadio.rebooted or a TCP reconnect
    connected = getattr(iface, "isConnected", None)
    if connected is not None and not connected.is_set():
        return True  # the port is gone (native USB) or the reboot is under way
    reader = getattr(iface, "_rxThread", None)
    return reader is not None and not reader.is_alive()


def wait_for_reboot(iface: Any, marker: Marker, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the radio to restart; False if it did not."""
    deadline = time.monotonic() + timeout
    while not rebooted(iface, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECS)
    return True


@contextlib.contextmanager
def reconnect(address: str, timeout: float = RECONNECT_SECS) -> Iterator[Any]:
    """A fresh connection to the radio, retried until ``timeout`` (it may still be booting)."""
    parse_address_or_fail(address)
    deadline = time.monotonic() + timeout
    while True:
        attempt = max(1, min(ATTEMPT_TIMEOUT, round(deadline - time.monotonic())))
        try:
            iface = connect(address, timeout=attempt)
            break
        except UserError as exc:  # the port is missing or the radio does not answer yet
            if time.monotonic() >= deadline:
                raise UserError(
                    f"the radio did not come back within {timeout:g} s after its reboot ({exc}). "
                    "Check it is plugged in and powered, then run the same command again: it "
                    "shows what is left to change",
                    exit_code=1,
                ) from None
            time.sleep(0.5)
    try:
        yield iface
    finally:
        close(iface)


def parse_address_or_fail(address: str) -> None:
    """Refuse a malformed address at once (retrying would not help)."""
    try:
        parse_address(address)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def default_reboot_wait() -> float:
    """How long to watch for the reboot after a commit: the firmware's 7 s plus a grace."""
    return REBOOT_AFTER_COMMIT_SECS + REBOOT_GRACE_SECS
