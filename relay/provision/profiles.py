"""Load role profiles and region overlays (``firmware_config/``) and merge them into settings.

:func:`load_profile` and :func:`load_region` validate with :mod:`relay.provision.schema`;
:func:`desired_settings` adds the region (code, a legal ``tx_power`` for the antenna, no duty-cycle
override) to the profile. Nothing here touches a radio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from meshtastic.protobuf import config_pb2, localonly_pb2

import firmware_config
from relay.provision import schema
from relay.provision.firmware import REGION_POWER_LIMIT_DBM
from relay.provision.frequency import isolated_slot
from relay.provision.schema import ProfileError, fail

ROOT = Path(firmware_config.__file__).resolve().parent
GENERIC_REGION = "default"  # regions/default.yaml: any other region the firmware knows
ERP_TO_EIRP_DB = 2.15

Settings = dict[str, dict[Any, Any]]
"""``{"config": {section: {key: value}}, "module_config": {...}, "channel": {...},
"channels": {index: {key: value}}, "owner": {...}}``; enum values by name. ``channel`` is the
profile's Jarshy channel (``psk`` as bytes; absent: the URL's or the radio's); ``channels`` what
the channel plan wants at each index it touches."""


@dataclass(frozen=True)
class Region:
    """A region overlay: the legal limits Jarshy applies on top of the firmware's."""

    name: str
    legal_limit_dbm: float | None  # None: the firmware's cap is taken as is
    limit_reference: str  # "EIRP" or "ERP"
    duty_cycle_percent: float | None
    min_firmware: str | None
    note: str
    source: Path

    @property
    def firmware_cap_dbm(self) -> int:
        """The firmware's own transmit power cap for this region."""
        return REGION_POWER_LIMIT_DBM[self.name]

    @property
    def legal_eirp_dbm(self) -> float | None:
        """The legal limit as EIRP (an ERP limit is 2.15 dB higher as EIRP)."""
        if self.legal_limit_dbm is None:
            return None
        extra = ERP_TO_EIRP_DB if self.limit_reference == "ERP" else 0.0
        return self.legal_limit_dbm + extra

    def max_tx_power(self, antenna_gain_dbi: float = 0.0) -> int:
        """The highest legal ``lora.tx_power`` (conducted dBm) with this antenna."""
        eirp = self.legal_eirp_dbm
        if eirp is None:
            return self.firmware_cap_dbm
        return min(self.firmware_cap_dbm, math.floor(eirp - antenna_gain_dbi + 1e-9))

    def describe_limit(self) -> str:
        """``"14 dBm EIRP"``, or the firmware cap for the generic overlay."""
        if self.legal_limit_dbm is None:
            return f"the firmware's cap of {self.firmware_cap_dbm} dBm (not checked by Jarshy)"
        return f"{self.legal_limit_dbm:g} dBm {self.limit_reference}"


@dataclass
class Profile:
    """A validated role profile."""

    name: str
    description: str
    relays: bool
    source: Path
    mirror: bool = False  # the daemon, not the radio: run it with --mirror (docs/operators.md)
    config: Settings = field(default_factory=dict)
    module_config: Settings = field(default_factory=dict)
    channel: dict[str, Any] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    trust_files: list[Path] = field(default_factory=list)  # newsroom keys the node trusts


def profile_names() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml"))


def region_names() -> list[str]:
    """Region codes the firmware knows (each has an overlay or takes the generic one)."""
    codes = config_pb2.Config.LoRaConfig.RegionCode.keys()
    return [c for c in codes if c != "UNSET" and c in REGION_POWER_LIMIT_DBM]


def overlay_names() -> list[str]:
    """Regions with their own overlay file (legal limits checked for Jarshy)."""
    return sorted(p.stem for p in (ROOT / "regions").glob("*.yaml") if p.stem != GENERIC_REGION)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read it as YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping of keys at the top level")
    return data


def load_region(name: str) -> Region:
    """The overlay for a firmware region code (its own file, else the generic one)."""
    code = name.strip().upper()
    if code not in region_names():
        raise ProfileError(f"unknown region {name!r}; allowed: {', '.join(region_names())}")
    source = ROOT / "regions" / f"{code}.yaml"
    if not source.exists():
        source = ROOT / "regions" / f"{GENERIC_REGION}.yaml"
    return read_region(source, code)


def read_region(source: Path, code: str) -> Region:
    """Validate one overlay file for region ``code``."""
    data = _read(source)
    schema.check_top(source, data, schema.REGION_KEYS)
    if data.get("region") not in (None, code):
        raise fail(source, "region", f"{data['region']!r} is not {code}", f"{code} or null")
    limit = data.get("legal_limit_dbm")
    if limit is not None and (not isinstance(limit, int | float) or isinstance(limit, bool)):
        raise fail(source, "legal_limit_dbm", f"{limit!r} is not a number", "dBm, or null")
    reference = data.get("limit_reference", "EIRP")
    if reference not in ("EIRP", "ERP"):
        raise fail(source, "limit_reference", f"{reference!r} is unknown", "EIRP, ERP")
    duty = data.get("duty_cycle_percent")
    if duty is not None and not (isinstance(duty, int | float) and 0 < duty <= 100):
        raise fail(source, "duty_cycle_percent", f"{duty!r} is not a percentage", "0..100, null")
    minimum = data.get("min_firmware")
    return Region(
        name=code,
        legal_limit_dbm=None if limit is None else float(limit),
        limit_reference=reference,
        duty_cycle_percent=None if duty is None else float(duty),
        min_firmware=None if minimum is None else str(minimum),
        note=str(data.get("note") or "").strip(),
        source=source,
    )


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name, or a profile file by path (``*.yaml``)."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        source = Path(name_or_path)
    else:
        source = ROOT / "profiles" / f"{name_or_path}.yaml"
        if not source.exists():
            known = ", ".join(profile_names())
            raise ProfileError(f"unknown profile {name_or_path!r}; allowed: {known}, or a path")
    data = _read(source)
    schema.check_top(source, data, schema.PROFILE_KEYS)
    relays = data.get("relays", True)
    if not isinstance(relays, bool):
        raise fail(source, "relays", f"{relays!r} is not a boolean", "true, false")
    mirror = data.get("mirror", False)
    if not isinstance(mirror, bool):
        raise fail(source, "mirror", f"{mirror!r} is not a boolean", "true, false")
    profile = Profile(
        name=source.stem, description=str(data.get("description") or "").strip(),
        relays=relays, source=source, mirror=mirror,
    )  # fmt: skip
    config_descriptor = localonly_pb2.LocalConfig.DESCRIPTOR
    module_descriptor = localonly_pb2.LocalModuleConfig.DESCRIPTOR
    profile.config = schema.check_sections(
        source, "config", data.get("config") or {}, config_descriptor
    )
    profile.module_config = schema.check_sections(
        source, "module_config", data.get("module_config") or {}, module_descriptor
    )
    profile.channel = schema.check_channel(source, data.get("channel") or {})
    profile.trust_files = schema.check_trust_files(source, data.get("trust_files"))
    schema.check_required(source, data)
    for key, field_name, limit in (("owner", "long_name", 39), ("owner_short", "short_name", 4)):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not 0 < len(value.strip()) <= limit:
                raise fail(source, key, f"{value!r} is not a name", f"1 to {limit} characters")
            profile.owner[field_name] = value.strip()
    if profile.config.get("lora", {}).get("use_preset") is False:
        raise fail(source, "config.lora.use_preset", "custom modems are not supported", "true")
    schema.check_role_and_mode(source, profile.config, profile.relays)
    return profile


def desired_settings(
    profile: Profile, region: Region, antenna_gain_dbi: float = 0.0, *, isolated: bool = False
) -> Settings:
    """The profile with the region overlay and the channel plan applied.

    The plan's part here is ``lora.channel_num``: 0 (the primary channel's name picks the slot:
    the public one) by default, pinned off the public slot with ``isolated``
    (:func:`relay.provision.frequency.isolated_slot`). Raises if the power would be illegal.
    """
    config = {section: dict(values) for section, values in profile.config.items()}
    lora = config.setdefault("lora", {})
    lora["region"] = region.name
    lora["use_preset"] = True
    lora["override_duty_cycle"] = False
    name = profile.channel["name"]
    lora["channel_num"] = isolated_slot(name, region.name, lora["modem_preset"]) if isolated else 0
    lora["override_frequency"] = 0.0
    allowed = region.max_tx_power(antenna_gain_dbi)
    if allowed < 1:
        raise ProfileError(
            f"{region.source}: legal_limit_dbm: {region.describe_limit()} leaves no transmit "
            f"power with a {antenna_gain_dbi:g} dBi antenna; allowed: a lower --antenna-gain-dbi"
        )
    power = lora.get("tx_power", allowed)
    if power > allowed:
        eirp = power + antenna_gain_dbi
        raise fail(
            profile.source,
            "config.lora.tx_power",
            f"{power} dBm with a {antenna_gain_dbi:g} dBi antenna ({eirp:g} dBm EIRP) is above "
            f"{region.name}'s limit of {region.describe_limit()} ({region.source})",
            f"1..{allowed} dBm with this antenna",
        )
    lora["tx_power"] = power
    return {
        "config": config,
        "module_config": {k: dict(v) for k, v in profile.module_config.items()},
        "channel": dict(profile.channel),
        "channels": {},  # filled by relay.provision.apply.resolve_channels from the radio's
        "owner": dict(profile.owner),
    }
