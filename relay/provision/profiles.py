"""Load and validate role profiles and region overlays before anything touches a radio.

A profile is YAML in the shape of meshtastic's ``--export-config``: ``config:`` sections (device,
lora, position, power, ...) and ``module_config:`` sections, field names as in the protobufs.
Keys and enum names are checked against the meshtastic protobuf descriptors, numbers against
explicit ranges; the ROUTER trap and power above the region's legal limit are refused.  Every
error names the file, the key and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf.descriptor import FieldDescriptor
from meshtastic.protobuf import localonly_pb2

import firmware_config
from relay.errors import UserError

ROOT = Path(firmware_config.__file__).resolve().parent
RANGES = {
    "lora.hop_limit": (0, 7),
    "lora.tx_power": (0, 30),
    "lora.channel_num": (0, 200),
    "device.node_info_broadcast_secs": (3600, 4_294_967_295),
    "position.position_broadcast_secs": (0, 4_294_967_295),
    "module_config.telemetry.device_update_interval": (0, 4_294_967_295),
}
# Roles and rebroadcast modes that relay packets on Jarshy's private port.
RELAYING_ROLES = {"CLIENT", "ROUTER_LATE", "CLIENT_BASE"}
RELAYING_MODES = {"ALL", "ALL_SKIP_DECODING"}


class ProfileError(UserError):
    """A profile or overlay that must not be applied; nothing has been written."""


@dataclass(frozen=True)
class Region:
    name: str
    legal_eirp_dbm: float
    duty_cycle_percent: float | None
    min_firmware: str | None
    note: str
    source: Path


@dataclass
class Profile:
    name: str
    description: str
    relays: bool
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    module_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path = ROOT


def profile_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml"))


def region_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "regions").glob("*.yaml"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping at the top level")
    return data


def load_region(name: str, path: Path | None = None) -> Region:
    source = path or ROOT / "regions" / f"{name}.yaml"
    if path is None and not source.exists():
        raise ProfileError(f"unknown region {name!r}; known: {', '.join(region_names())}")
    data = _read(source)
    unknown = set(data) - {"region", "legal_eirp_dbm", "duty_cycle_percent", "min_firmware", "note"}
    if unknown:
        raise ProfileError(f"{source}: unknown key(s) {sorted(unknown)}")
    return Region(
        name=str(data.get("region", name)),
        legal_eirp_dbm=float(data["legal_eirp_dbm"]),
        duty_cycle_percent=data.get("duty_cycle_percent"),
        min_firmware=data.get("min_firmware"),
        note=str(data.get("note", "")),
        source=source,
    )


def load_profile(name: str, path: Path | None = None) -> Profile:
    source = path or ROOT / "profiles" / f"{name}.yaml"
    if path is None and not source.exists():
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(profile_names())}")
    data = _read(source)
    unknown = set(data) - {"description", "relays", "config", "module_config"}
    if unknown:
        raise ProfileError(
            f"{source}: unknown key(s) {sorted(unknown)}; allowed: description, relays, config, module_config"
        )
    profile = Profile(
        name=source.stem, description=str(data.get("description", "")),
        relays=bool(data.get("relays", True)), source=source,
    )  # fmt: skip
    profile.config = _sections(
        source, "config", data.get("config") or {}, localonly_pb2.LocalConfig
    )
    profile.module_config = _sections(
        source, "module_config", data.get("module_config") or {}, localonly_pb2.LocalModuleConfig
    )
    _check_trap(profile)
    return profile


def _sections(source: Path, top: str, data: Any, message: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: {top} must be a mapping of sections")
    sections = message.DESCRIPTOR.fields_by_name
    out: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in sections or section == "version":
            allowed = ", ".join(n for n in sections if n != "version")
            raise ProfileError(f"{source}: {top}.{section}: unknown section; allowed: {allowed}")
        if not isinstance(values, dict):
            raise ProfileError(f"{source}: {top}.{section} must be a mapping")
        fields = sections[section].message_type.fields_by_name
        out[section] = {}
        for key, value in values.items():
            path = f"{section}.{key}" if top == "config" else f"{top}.{section}.{key}"
            if key not in fields:
                raise ProfileError(
                    f"{source}: {path}: unknown key; allowed: {', '.join(sorted(fields))}"
                )
            out[section][key] = _check_value(source, path, fields[key], value)
    return out


def _check_value(source: Path, path: str, fd: FieldDescriptor, value: Any) -> Any:
    if fd.type == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in fd.enum_type.values]
        if value not in names:
            raise ProfileError(
                f"{source}: {path}: {value!r} is not allowed; allowed: {', '.join(names)}"
            )
        return value
    if fd.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise ProfileError(f"{source}: {path}: expected true or false, not {value!r}")
        return value
    if fd.type in (
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT64,
    ):
        low, high = RANGES.get(
            path, (0 if fd.type != FieldDescriptor.TYPE_INT32 else -(2**31), 2**32 - 1)
        )
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ProfileError(
                f"{source}: {path}: {value!r} is out of range; allowed: {low}..{high}"
            )
        return value
    if fd.type == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise ProfileError(f"{source}: {path}: expected text, not {value!r}")
        return value
    raise ProfileError(f"{source}: {path}: this key cannot be set by a profile")


def _check_trap(profile: Profile) -> None:
    device = profile.config.get("device", {})
    role = device.get("role", "CLIENT")
    mode = device.get("rebroadcast_mode", "ALL")
    where = profile.source
    if role == "ROUTER":
        raise ProfileError(
            f"{where}: device.role: ROUTER makes the firmware switch rebroadcast_mode to "
            "CORE_PORTNUMS_ONLY, which drops Jarshy's private-port packets; allowed for a relay: "
            "ROUTER_LATE, CLIENT, CLIENT_BASE"
        )
    if profile.relays and role not in RELAYING_ROLES:
        raise ProfileError(
            f"{where}: device.role: {role} does not relay; allowed for a relay profile: {', '.join(sorted(RELAYING_ROLES))}"
        )
    if profile.relays and mode not in RELAYING_MODES:
        raise ProfileError(
            f"{where}: device.rebroadcast_mode: {mode} drops or limits Jarshy's private port; allowed: {', '.join(sorted(RELAYING_MODES))}"
        )


def desired_settings(
    profile: Profile, region: Region, antenna_gain_dbi: float = 0.0, tx_power: int | None = None
) -> dict[str, dict[str, Any]]:
    """The profile with the region overlay: region code and a legal transmit power."""
    config = {section: dict(values) for section, values in profile.config.items()}
    lora = config.setdefault("lora", {})
    lora["region"] = region.name
    legal_conducted = int(region.legal_eirp_dbm - antenna_gain_dbi)
    power = lora.get("tx_power", legal_conducted) if tx_power is None else tx_power
    if power + antenna_gain_dbi > region.legal_eirp_dbm:
        raise ProfileError(
            f"{profile.source}: lora.tx_power: {power} dBm + {antenna_gain_dbi} dBi antenna exceeds "
            f"{region.name}'s legal {region.legal_eirp_dbm} dBm EIRP ({region.source}); allowed: up to "
            f"{legal_conducted} dBm with this antenna"
        )
    lora["tx_power"] = max(1, min(power, legal_conducted))
    lora.setdefault("override_duty_cycle", False)
    return {
        "config": config,
        "module_config": {k: dict(v) for k, v in profile.module_config.items()},
    }
