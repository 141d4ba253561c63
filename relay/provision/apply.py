"""Talk to a radio through the meshtastic library: read its settings, diff, write, read back.

Blocking code for CLI commands (the daemon is not involved). Writes go through the library's
admin API (``writeConfig``, ``writeChannel``, ``setOwner``) inside one begin/commit edit
transaction, role first, because a change of role makes the firmware install that role's
defaults over the other sections.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshtastic.protobuf import admin_pb2, channel_pb2, portnums_pb2

from relay.errors import UserError
from relay.provision.channel import ChannelShare, key_fingerprint
from relay.provision.profiles import Settings
from relay.radio.linktypes import parse_address

CONNECT_TIMEOUT = 30
BARRIER_TIMEOUT = 15.0


@dataclass(frozen=True)
class Change:
    """One setting that differs: where, what the radio has, what is wanted."""

    path: str
    have: Any
    want: Any

    def __str__(self) -> str:
        return f"{self.path}: {_show(self.path, self.have)} -> {_show(self.path, self.want)}"


def _show(path: str, value: Any) -> str:
    if path == "channel.psk" and isinstance(value, bytes):
        return key_fingerprint(value)
    return "(unset)" if value is None else str(value)


def _serial_path(path: str | None) -> str:
    if path is not None:
        return path
    from meshtastic.util import findPorts

    ports = findPorts(True)
    if len(ports) != 1:
        found = ", ".join(ports) if ports else "none"
        raise UserError(f"serial:auto needs exactly one Meshtastic serial port (found: {found})")
    return str(ports[0])


@contextlib.contextmanager
def open_radio(address: str, timeout: int = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A connected meshtastic interface; the address is checked first (bad ones sys.exit)."""
    try:
        parsed = parse_address(address)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        if parsed.kind == "tcp":
            from meshtastic.tcp_interface import TCPInterface

            iface: Any = TCPInterface(str(parsed.host), portNumber=parsed.port, timeout=timeout)
        else:
            from meshtastic.serial_interface import SerialInterface

            iface = SerialInterface(devPath=_serial_path(parsed.path), timeout=timeout)
    except UserError:
        raise
    except Exception as exc:  # OSError, serial errors, the library's handshake timeout
        raise UserError(f"cannot talk to the radio at {address}: {exc}", exit_code=1) from None
    try:
        yield iface
    finally:
        iface.close()


def _enum_or_value(message: Any, key: str) -> Any:
    value = getattr(message, key)
    fd = message.DESCRIPTOR.fields_by_name[key]
    known = fd.enum_type.values_by_number if fd.enum_type is not None else {}
    return known[value].name if value in known else value


def primary_channel(iface: Any) -> Any:
    """The radio's channel 0 as the library holds it."""
    channels = iface.localNode.channels or []
    return channels[0] if channels else channel_pb2.Channel()


def _channel_value(channel: Any, key: str) -> Any:
    if key == "position_precision":
        return channel.settings.module_settings.position_precision
    return getattr(channel.settings, key)


def read_settings(iface: Any, like: Settings) -> Settings:
    """The radio's values for every key in ``like`` (as the library holds them)."""
    node = iface.localNode
    out: Settings = {"config": {}, "module_config": {}, "channel": {}, "owner": {}}
    for top, source in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in like.get(top, {}).items():
            message = getattr(source, section)
            out[top][section] = {key: _enum_or_value(message, key) for key in values}
    primary = primary_channel(iface)
    out["channel"] = {key: _channel_value(primary, key) for key in like.get("channel", {})}
    user = iface.getMyUser() or {}
    names = {"long_name": user.get("longName"), "short_name": user.get("shortName")}
    out["owner"] = {key: names.get(key) for key in like.get("owner", {})}
    return out


def diff(desired: Settings, current: Settings) -> list[Change]:
    """Every desired value the radio does not have, in a stable order."""
    changes: list[Change] = []
    for top in ("config", "module_config"):
        for section, values in desired.get(top, {}).items():
            for key, want in values.items():
                have = current.get(top, {}).get(section, {}).get(key)
                if have != want:
                    changes.append(Change(f"{top}.{section}.{key}", have, want))
    for top in ("channel", "owner"):
        for key, want in desired.get(top, {}).items():
            have = current.get(top, {}).get(key)
            if have != want:
                changes.append(Change(f"{top}.{key}", have, want))
    return changes


def resolve_channel_key(desired: Settings, share: ChannelShare | None, iface: Any) -> None:
    """Take the channel from ``--channel-url``, or keep the key of a radio already on it."""
    channel = desired["channel"]
    if share is not None:
        first = share.channels[0]
        if len(first.psk) not in (16, 32):
            raise UserError("--channel-url: its key is not 16 or 32 random bytes; make one with "
                            "`jarshy channel new` (nothing was written)")  # fmt: skip
        channel["name"], channel["psk"] = first.name, bytes(first.psk)
    if "psk" in channel:
        return
    primary = primary_channel(iface)
    if primary.settings.name == channel["name"] and len(primary.settings.psk) in (16, 32):
        channel["psk"] = bytes(primary.settings.psk)
        return
    raise UserError(
        f"the radio is not on channel {channel['name']!r} yet: pass --channel-url with the URL "
        "from `jarshy channel new` (nothing was written)"
    )


def write(iface: Any, desired: Settings, changes: list[Change]) -> None:
    """Write every section with a change inside one begin/commit transaction; wait for the radio."""
    if not changes:
        return
    node = iface.localNode
    touched = {tuple(c.path.split(".")[:2]) for c in changes}
    for top, source in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in desired.get(top, {}).items():
            message = getattr(source, section)
            for key, want in values.items():
                fd = message.DESCRIPTOR.fields_by_name[key]
                value = fd.enum_type.values_by_name[want].number if fd.enum_type else want
                setattr(message, key, value)
    node.beginSettingsTransaction()
    order = sorted(touched, key=lambda t: (t[0] != "config", t[1] != "device", t))
    for top, section in order:
        if top in ("config", "module_config"):
            node.writeConfig(section)
    if any(top == "channel" for top, _ in touched):
        primary = primary_channel(iface)
        primary.index = 0
        primary.role = channel_pb2.Channel.Role.PRIMARY
        for key, want in desired["channel"].items():
            if key == "position_precision":
                primary.settings.module_settings.position_precision = want
            else:
                setattr(primary.settings, key, want)
        node.channels[0] = primary
        node.writeChannel(0)
    if any(top == "owner" for top, _ in touched):
        owner = desired["owner"]
        node.setOwner(long_name=owner.get("long_name"), short_name=owner.get("short_name"))
    node.commitSettingsTransaction()
    barrier(iface)


def barrier(iface: Any, timeout: float = BARRIER_TIMEOUT) -> None:
    """Ask the radio for its metadata and wait: it has then handled everything sent before."""
    answered = threading.Event()

    def on_response(packet: dict[str, Any]) -> None:
        answered.set()

    request = admin_pb2.AdminMessage(get_device_metadata_request=True)
    iface.sendData(
        request, iface.localNode.nodeNum, portNum=portnums_pb2.PortNum.ADMIN_APP,
        wantAck=True, wantResponse=True, onResponse=on_response, pkiEncrypted=True,
    )  # fmt: skip
    if not answered.wait(timeout):
        raise UserError(f"the radio did not confirm the changes within {timeout:g} s", 1)
