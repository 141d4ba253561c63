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

from meshtastic.protobuf import admin_pb2, portnums_pb2

from relay.errors import UserError
from relay.provision.channel import ChannelShare, key_fingerprint
from relay.provision.plan import (
    apply_values,
    channel_values,
    jarshy_key,
    plan_channels,
    radio_channels,
)
from relay.provision.profiles import Settings
from relay.radio._iface import close_interface, open_interface
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
    if path.endswith(".psk") and isinstance(value, bytes):
        return key_fingerprint(value)
    if value == "":
        return "''"
    return "(unset)" if value is None else str(value)


def connect(address: str, timeout: int = CONNECT_TIMEOUT) -> Any:
    """A connected meshtastic interface; the address is checked first (bad ones sys.exit)."""
    try:
        parsed = parse_address(address)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        return open_interface(parsed, timeout)
    except Exception as exc:  # OSError, serial errors, the library's handshake timeout
        raise UserError(f"cannot talk to the radio at {address}: {exc}", exit_code=1) from None


def close(iface: Any) -> None:
    """Close an interface; a radio that already went away is no error, and prints nothing."""
    close_interface(iface)


@contextlib.contextmanager
def open_radio(address: str, timeout: int = CONNECT_TIMEOUT) -> Iterator[Any]:
    """:func:`connect`, closed on the way out."""
    iface = connect(address, timeout)
    try:
        yield iface
    finally:
        close(iface)


def _enum_or_value(message: Any, key: str) -> Any:
    value = getattr(message, key)
    fd = message.DESCRIPTOR.fields_by_name[key]
    known = fd.enum_type.values_by_number if fd.enum_type is not None else {}
    return known[value].name if value in known else value


def read_settings(iface: Any, like: Settings) -> Settings:
    """The radio's values for every key in ``like`` (as the library holds them)."""
    node = iface.localNode
    out: Settings = {"config": {}, "module_config": {}, "channels": {}, "owner": {}}
    for top, source in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in like.get(top, {}).items():
            message = getattr(source, section)
            out[top][section] = {key: _enum_or_value(message, key) for key in values}
    channels = radio_channels(iface)
    for index, values in like.get("channels", {}).items():
        out["channels"][index] = channel_values(channels[index], list(values))
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
    for index, values in sorted(desired.get("channels", {}).items()):
        for key, want in values.items():
            have = current.get("channels", {}).get(index, {}).get(key)
            if have != want:
                changes.append(Change(f"channel.{index}.{key}", have, want))
    for key, want in desired.get("owner", {}).items():
        have = current.get("owner", {}).get(key)
        if have != want:
            changes.append(Change(f"owner.{key}", have, want))
    return changes


def resolve_channels(
    desired: Settings, share: ChannelShare | None, iface: Any, *, isolated: bool
) -> None:
    """Fill ``desired["channels"]`` from the plan, the radio's channels and ``--channel-url``."""
    channels = radio_channels(iface)
    jarshy = dict(desired["channel"])
    jarshy["psk"] = jarshy_key(jarshy["name"], jarshy.pop("psk", None), share, channels)
    desired["channels"] = plan_channels(channels, jarshy, isolated=isolated)


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
    channels = radio_channels(iface)
    for index, values in sorted(desired.get("channels", {}).items()):
        if ("channel", str(index)) in touched:
            node.channels[index] = apply_values(channels[index], index, values)
            node.writeChannel(index)
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
