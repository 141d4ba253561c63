"""What ``jarshy radio info`` shows: a radio's settings in one dict, and what is wrong with them."""

from __future__ import annotations

import contextlib
from typing import Any

from meshtastic.protobuf import channel_pb2, config_pb2

from relay.provision.channel import key_fingerprint
from relay.provision.firmware import REGION_DUTY_CYCLE_PERCENT, version_tuple
from relay.provision.profiles import Profile, load_region
from relay.provision.schema import ProfileError

Lora = config_pb2.Config.LoRaConfig
Device = config_pb2.Config.DeviceConfig


def radio_summary(iface: Any) -> dict[str, Any]:
    """Firmware, hardware, region, preset, role, rebroadcast mode, power and channels."""
    node = iface.localNode
    cfg = node.localConfig
    meta = getattr(iface, "metadata", None)
    user = iface.getMyUser() or {}
    channels = []
    for ch in node.channels or []:
        if ch.role == channel_pb2.Channel.Role.DISABLED:
            continue
        channels.append(
            {
                "index": ch.index,
                "role": channel_pb2.Channel.Role.Name(ch.role),
                "name": ch.settings.name or "(preset name)",
                "key": key_fingerprint(ch.settings.psk),
            }
        )
    return {
        "node": f"!{iface.myInfo.my_node_num:08x}" if iface.myInfo else None,
        "long_name": user.get("longName"),
        "hardware": user.get("hwModel"),
        "firmware": (getattr(meta, "firmware_version", "") or None) if meta else None,
        "region": _name(Lora.RegionCode, cfg.lora.region),
        "preset": _name(Lora.ModemPreset, cfg.lora.modem_preset),
        "hop_limit": cfg.lora.hop_limit,
        "tx_power": cfg.lora.tx_power,
        "override_duty_cycle": cfg.lora.override_duty_cycle,
        "role": _name(Device.Role, cfg.device.role),
        "rebroadcast_mode": _name(Device.RebroadcastMode, cfg.device.rebroadcast_mode),
        "channels": channels,
    }


def _name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def warnings(summary: dict[str, Any], profile: Profile | None = None) -> list[str]:
    """What an operator must fix before this radio serves Jarshy."""
    out: list[str] = []
    role, mode = summary["role"], summary["rebroadcast_mode"]
    if role == "ROUTER" or mode == "CORE_PORTNUMS_ONLY":
        out.append(
            f"ROUTER trap: role {role} with rebroadcast_mode {mode} drops Jarshy's private-port "
            "packets (neither shown nor relayed); provision a Jarshy profile (rooftop-relay uses "
            "ROUTER_LATE with ALL)"
        )
    elif mode in ("NONE", "KNOWN_ONLY") and role != "CLIENT_MUTE":
        out.append(f"rebroadcast_mode {mode}: Jarshy packets from some nodes are not relayed")
    if profile is not None and profile.relays and role == "CLIENT_MUTE":
        out.append(f"CLIENT_MUTE never relays, but {profile.name} is a relay profile")
    if summary["hop_limit"] == 0:
        out.append("hop_limit 0: packets from this radio are never relayed")
    out.extend(_region_warnings(summary))
    primary = next((c for c in summary["channels"] if c["role"] == "PRIMARY"), None)
    if primary is not None and not primary["key"].startswith("sha256:"):
        out.append(
            f"the primary channel uses {primary['key']}: anyone can read it; "
            "run `jarshy channel join URL` with your Jarshy channel"
        )
    return out


def _region_warnings(summary: dict[str, Any]) -> list[str]:
    region_code = summary["region"]
    if region_code == "UNSET":
        return ["region UNSET: the radio does not transmit; provision it with --region"]
    try:
        region = load_region(region_code)
    except ProfileError:
        return []
    out = []
    power = summary["tx_power"] or region.firmware_cap_dbm  # 0 means the firmware's cap
    legal = region.max_tx_power(0.0)
    if power > legal:
        out.append(
            f"tx_power {power} dBm is above {region_code}'s legal limit "
            f"({region.describe_limit()}: at most {legal} dBm with a 0 dBi antenna)"
        )
    firmware = summary.get("firmware")
    if region.min_firmware and firmware:
        with contextlib.suppress(ValueError):
            if version_tuple(firmware) < version_tuple(region.min_firmware):
                out.append(
                    f"{region_code} needs firmware {region.min_firmware} or later to "
                    f"interoperate; this radio runs {firmware}"
                )
    if summary["override_duty_cycle"] and region_code in REGION_DUTY_CYCLE_PERCENT:
        out.append(f"override_duty_cycle is on: {region_code}'s duty cycle is the law")
    return out
