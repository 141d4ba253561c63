"""The schema of role profiles and region overlays, and the checks that refuse bad ones.

A profile is YAML in the shape of meshtastic's ``--export-config``; field names and enum names are
checked against the meshtastic protobuf descriptors, numbers against :data:`RANGES` (limits that
save airtime or that the firmware would silently change). Every :class:`ProfileError` names the
file, the key and what is allowed, and is raised before anything is written to a radio.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from relay.errors import UserError
from relay.provision.firmware import DEPRECATED_ROLES, MIN_NODE_INFO_BROADCAST_SECS

MAX_INTERVAL = 2**31 - 1  # the firmware's MAX_INTERVAL (INT32_MAX)

CHANNEL_KEYS = ("name", "psk", "uplink_enabled", "downlink_enabled", "position_precision")
PROFILE_KEYS = {
    "description": "text shown by `jarshy radio provision --help`",
    "relays": "true if nodes with this profile must relay Jarshy packets",
    "mirror": "true if this node's daemon should mirror trusted bulletins for the phone app",
    "owner": "long name of the node (optional)",
    "owner_short": "short name, up to 4 characters (optional)",
    "channel": "the Jarshy channel: " + ", ".join(CHANNEL_KEYS),
    "config": "config sections as in --export-config: device, lora, position, power, display, ...",
    "module_config": "module config sections: telemetry, neighbor_info, ...",
    "trust_files": "newsroom trust files to trust (paths relative to the profile), optional",
}
MAX_TRUST_FILES = 8
REQUIRED = (
    "config.device.role",
    "config.device.rebroadcast_mode",
    "config.lora.hop_limit",
    "config.lora.modem_preset",
    "channel.name",
)
SET_BY_REGION = {"config.lora.region", "config.lora.override_duty_cycle"}
SET_BY_PLAN = {"config.lora.channel_num", "config.lora.override_frequency"}
RANGES: dict[str, tuple[int, int]] = {
    "config.lora.hop_limit": (1, 7),
    "config.lora.tx_power": (1, 30),
    "config.device.node_info_broadcast_secs": (MIN_NODE_INFO_BROADCAST_SECS, MAX_INTERVAL),
    "config.position.position_broadcast_secs": (3600, MAX_INTERVAL),
    "module_config.telemetry.device_update_interval": (1800, MAX_INTERVAL),
    "module_config.telemetry.environment_update_interval": (1800, MAX_INTERVAL),
    "module_config.neighbor_info.update_interval": (14400, MAX_INTERVAL),
    "channel.position_precision": (0, 32),
}
"""Allowed ranges; other integers get their protobuf type's range."""

PROFILE_ROLES = ("CLIENT", "CLIENT_BASE", "CLIENT_MUTE", "ROUTER_LATE")
RELAY_ROLES = ("CLIENT", "CLIENT_BASE", "ROUTER_LATE")
RELAY_MODES = ("ALL", "LOCAL_ONLY")
REGION_KEYS = {
    "region": "the firmware's region code (the file name), or null for the generic overlay",
    "legal_limit_dbm": "the legal transmit power limit in dBm, or null: the firmware's cap",
    "limit_reference": "EIRP or ERP (ERP = EIRP - 2.15 dB)",
    "duty_cycle_percent": "the legal hourly duty cycle, or null",
    "min_firmware": "the oldest firmware version that works in this region, or null",
    "note": "text for the operator",
}


class ProfileError(UserError):
    """A profile or overlay that must not be applied; nothing has been written."""


def fail(source: Path | str, key: str, problem: str, allowed: str) -> ProfileError:
    """The error for ``key`` in ``source``: what is wrong and what is allowed."""
    return ProfileError(f"{source}: {key}: {problem}; allowed: {allowed}")


def check_top(source: Path, data: dict[str, Any], allowed: dict[str, str]) -> None:
    """Refuse unknown top-level keys."""
    for key in data:
        if key not in allowed:
            raise fail(source, str(key), "unknown key", ", ".join(allowed))


def check_sections(
    source: Path, top: str, data: Any, descriptor: Descriptor
) -> dict[str, dict[str, Any]]:
    """Validate ``config:`` or ``module_config:`` against a LocalConfig-like descriptor."""
    if not isinstance(data, dict):
        raise fail(source, top, "must be a mapping of sections", "device:, lora:, ...")
    sections = {n: f for n, f in descriptor.fields_by_name.items() if f.message_type is not None}
    out: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in sections:
            raise fail(source, f"{top}.{section}", "unknown section", ", ".join(sections))
        if not isinstance(values, dict):
            raise fail(source, f"{top}.{section}", "must be a mapping", "key: value lines")
        fields = sections[section].message_type.fields_by_name
        out[section] = {}
        for key, value in values.items():
            path = f"{top}.{section}.{key}"
            if key not in fields:
                raise fail(source, path, "unknown key", ", ".join(sorted(fields)))
            if path in SET_BY_REGION:
                raise fail(source, path, "is set by the region overlay", "--region NAME")
            if path in SET_BY_PLAN:
                problem = "is set by the channel plan (the public slot, or pinned by --isolated)"
                raise fail(source, path, problem, "--isolated, or nothing")
            out[section][key] = check_value(source, path, fields[key], value)
    return out


def check_value(source: Path, path: str, fd: FieldDescriptor, value: Any) -> Any:
    """One scalar field: enum name, bool, integer in range, or text."""
    if fd.is_repeated:
        raise fail(source, path, "a list cannot be set by a profile", "scalar keys")
    if fd.GetOptions().deprecated:
        raise fail(source, path, "deprecated: the firmware ignores it", "current keys")
    if fd.type == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in fd.enum_type.values]
        if value not in names:
            raise fail(source, path, f"{value!r} is not a known value", ", ".join(names))
        return value
    if fd.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise fail(source, path, f"{value!r} is not a boolean", "true, false")
        return value
    if fd.cpp_type in (FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return check_int(source, path, value, RANGES.get(path, (0, 2**32 - 1)))
    if fd.cpp_type in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64):
        return check_int(source, path, value, RANGES.get(path, (-(2**31), 2**31 - 1)))
    if fd.type == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise fail(source, path, f"{value!r} is not text", "text")
        return value
    raise fail(source, path, "this kind of key cannot be set by a profile", "scalar keys")


def check_int(source: Path, path: str, value: Any, bounds: tuple[int, int]) -> int:
    """An integer within ``bounds`` (inclusive)."""
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise fail(source, path, f"{value!r} is out of range", f"{low}..{high}")
    return value


def check_channel(source: Path, data: Any) -> dict[str, Any]:
    """The ``channel:`` mapping; ``psk`` (base64) becomes bytes."""
    if not isinstance(data, dict):
        raise fail(source, "channel", "must be a mapping", ", ".join(CHANNEL_KEYS))
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"channel.{key}"
        if key == "name":
            if not isinstance(value, str) or not 1 <= len(value.encode()) <= 11:
                raise fail(source, path, f"{value!r} is not a channel name", "1 to 11 bytes")
            out[key] = value
        elif key == "psk":
            out[key] = check_psk(source, path, value)
        elif key in ("uplink_enabled", "downlink_enabled"):
            if not isinstance(value, bool):
                raise fail(source, path, f"{value!r} is not a boolean", "true, false")
            out[key] = value
        elif key == "position_precision":
            out[key] = check_int(source, path, value, RANGES[path])
        else:
            raise fail(source, path, "unknown key", ", ".join(CHANNEL_KEYS))
    return out


def check_psk(source: Path | str, path: str, value: Any) -> bytes:
    """A channel key in base64: 16 or 32 random bytes (the shared default key is refused)."""
    try:
        key = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) not in (16, 32):
        raise fail(source, path, "not a 16- or 32-byte key in base64", "`jarshy channel new`")
    return key


def check_role_and_mode(source: Path, config: dict[str, dict[str, Any]], relays: bool) -> None:
    """The ROUTER trap and every other role/mode that would drop or not relay Jarshy packets."""
    device = config.get("device", {})
    role, mode = device.get("role"), device.get("rebroadcast_mode")
    modes = ", ".join(RELAY_MODES)
    if role == "ROUTER":
        raise fail(
            source,
            "config.device.role",
            "ROUTER is the ROUTER trap: the firmware then sets rebroadcast_mode to "
            "CORE_PORTNUMS_ONLY and drops Jarshy's private-port packets (neither delivered nor "
            "relayed)",
            f"{', '.join(PROFILE_ROLES)} (ROUTER_LATE is the relay that goes last)",
        )
    if mode == "CORE_PORTNUMS_ONLY":
        raise fail(
            source,
            "config.device.rebroadcast_mode",
            "CORE_PORTNUMS_ONLY drops Jarshy's private-port packets (the ROUTER trap)",
            modes,
        )
    if role in DEPRECATED_ROLES:
        problem = f"the firmware turns {role} into CLIENT"
        raise fail(source, "config.device.role", problem, "CLIENT")
    if role not in PROFILE_ROLES:
        problem = f"{role} does not serve Jarshy"
        raise fail(source, "config.device.role", problem, ", ".join(PROFILE_ROLES))
    if relays and role not in RELAY_ROLES:
        problem = f"{role} never relays, but this profile says relays: true"
        raise fail(source, "config.device.role", problem, ", ".join(RELAY_ROLES))
    if relays and mode not in RELAY_MODES:
        problem = f"{mode} does not relay every Jarshy packet"
        raise fail(source, "config.device.rebroadcast_mode", problem, modes)


def check_required(source: Path, profile: dict[str, Any]) -> None:
    """Keys every profile states explicitly, so nothing is left from a radio's past."""
    for path in REQUIRED:
        node: Any = profile
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise fail(
                source, path, "missing; every profile sets it", "see firmware_config/profiles/"
            )


def check_trust_files(source: Path, value: Any) -> list[Path]:
    """``trust_files:``: a list of paths (relative to the profile's folder), at most a few."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TRUST_FILES:
        raise fail(source, "trust_files", "must be a list of paths", f"up to {MAX_TRUST_FILES}")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or "\x00" in item:
            raise fail(source, "trust_files", f"{item!r} is not a path", "a path to a trust file")
        path = Path(item.strip()).expanduser()
        out.append(path if path.is_absolute() else source.parent / path)
    return out
