"""Apply a profile to a radio through the meshtastic admin API: diff, write, read back.

Blocking code for a CLI command (the daemon is not involved): the meshtastic library's own
interfaces, opened from a validated address.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from meshtastic.protobuf import config_pb2

from relay.radio.linktypes import parse_address

Settings = dict[
    str, dict[str, dict[str, Any]]
]  # {"config"|"module_config": {section: {key: value}}}
Change = tuple[str, Any, Any]  # (path, current, desired)


@contextlib.contextmanager
def open_radio(address: str, timeout: int = 30) -> Iterator[Any]:
    """A connected meshtastic interface (address validated first: bad ones make it sys.exit)."""
    parsed = parse_address(address)
    if parsed.kind == "tcp":
        from meshtastic.tcp_interface import TCPInterface

        iface = TCPInterface(parsed.host, portNumber=parsed.port, timeout=timeout)
    else:
        from meshtastic.serial_interface import SerialInterface

        iface = SerialInterface(devPath=parsed.path, timeout=timeout)
    try:
        yield iface
    finally:
        iface.close()


def _value(message: Any, key: str) -> Any:
    value = getattr(message, key)
    fd = message.DESCRIPTOR.fields_by_name[key]
    if fd.enum_type is not None:
        return fd.enum_type.values_by_number[value].name
    return value


def current_settings(iface: Any, like: Settings) -> Settings:
    """The radio's values for every key in ``like``."""
    node = iface.localNode
    out: Settings = {"config": {}, "module_config": {}}
    for top, source in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in like.get(top, {}).items():
            message = getattr(source, section)
            out[top][section] = {key: _value(message, key) for key in values}
    return out


def diff(desired: Settings, current: Settings) -> list[Change]:
    changes: list[Change] = []
    for top in ("config", "module_config"):
        for section, values in desired.get(top, {}).items():
            for key, want in values.items():
                have = current.get(top, {}).get(section, {}).get(key)
                if have != want:
                    path = (
                        f"{section}.{key}" if top == "config" else f"module_config.{section}.{key}"
                    )
                    changes.append((path, have, want))
    return changes


def apply(iface: Any, desired: Settings, changes: list[Change]) -> None:
    """Write the sections that change, inside one begin/commit edit transaction."""
    node = iface.localNode
    touched: set[tuple[str, str]] = set()
    for top, source in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in desired.get(top, {}).items():
            message = getattr(source, section)
            for key, want in values.items():
                fd = message.DESCRIPTOR.fields_by_name[key]
                value = (
                    fd.enum_type.values_by_name[want].number if fd.enum_type is not None else want
                )
                if getattr(message, key) != value:
                    setattr(message, key, value)
                    touched.add((top, section))
    if not touched:
        return
    node.beginSettingsTransaction()
    # Device (role) first: the firmware installs role defaults when the role changes.
    for _, section in sorted(touched, key=lambda t: (t[1] != "device", t)):
        node.writeConfig(section)
    node.commitSettingsTransaction()


def radio_summary(iface: Any) -> dict[str, Any]:
    node = iface.localNode
    cfg = node.localConfig
    meta = getattr(iface, "metadata", None)
    firmware = getattr(meta, "firmware_version", None) if meta is not None else None
    info = iface.getMyNodeInfo() or {}
    return {
        "node_num": iface.myInfo.my_node_num if iface.myInfo else None,
        "long_name": (info.get("user") or {}).get("longName"),
        "hw_model": (info.get("user") or {}).get("hwModel"),
        "firmware": firmware,
        "region": config_pb2.Config.LoRaConfig.RegionCode.Name(cfg.lora.region),
        "preset": config_pb2.Config.LoRaConfig.ModemPreset.Name(cfg.lora.modem_preset),
        "hop_limit": cfg.lora.hop_limit,
        "tx_power": cfg.lora.tx_power,
        "role": config_pb2.Config.DeviceConfig.Role.Name(cfg.device.role),
        "rebroadcast_mode": config_pb2.Config.DeviceConfig.RebroadcastMode.Name(
            cfg.device.rebroadcast_mode
        ),
        "channels": [c.settings.name or "(default)" for c in node.channels or [] if c.role],
    }


def warnings(summary: dict[str, Any]) -> list[str]:
    """What an operator must fix: the ROUTER trap, old firmware, illegal power, no relaying."""
    from relay.provision.profiles import ProfileError, load_region, region_names

    out = []
    if summary["role"] == "ROUTER" or summary["rebroadcast_mode"] == "CORE_PORTNUMS_ONLY":
        out.append("ROUTER trap: rebroadcast_mode CORE_PORTNUMS_ONLY drops Jarshy packets; "
                   "provision a Jarshy profile (rooftop-relay uses ROUTER_LATE)")  # fmt: skip
    if summary["hop_limit"] == 0:
        out.append("hop_limit 0: packets are never relayed")
    region = summary["region"]
    if region == "UNSET":
        out.append("region UNSET: the radio will not transmit")
    if region in region_names():
        with contextlib.suppress(ProfileError):
            rules = load_region(region)
            if summary["tx_power"] == 0 or summary["tx_power"] > rules.legal_eirp_dbm:
                shown = (
                    "firmware maximum" if summary["tx_power"] == 0 else f"{summary['tx_power']} dBm"
                )
                out.append(
                    f"tx_power {shown} may exceed {region}'s legal {rules.legal_eirp_dbm:g} dBm EIRP"
                )
            if (
                rules.min_firmware
                and summary["firmware"]
                and _older(summary["firmware"], rules.min_firmware)
            ):
                out.append(
                    f"{region} needs firmware >= {rules.min_firmware}; this radio runs {summary['firmware']}"
                )
    return out


def _older(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".")[:3] if p.isdigit())

    return parts(version) < parts(minimum)
