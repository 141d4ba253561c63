"""What ``jarshy radio info`` shows: a radio's settings in one dict, and what is wrong with them."""

from __future__ import annotations

from typing import Any

from meshtastic.protobuf import channel_pb2, config_pb2

from relay.provision.channel import key_fingerprint
from relay.provision.firmware import REGION_DUTY_CYCLE_PERCENT, region_refusal
from relay.provision.frequency import DEFAULT_PRESET, FrequencyPlan, frequency_plan
from relay.provision.plan import jarshy_index, radio_channels
from relay.provision.profiles import Profile, load_region
from relay.provision.schema import ProfileError
from relay.radio.linktypes import JARSHY_CHANNEL  # the name the link finds its channel by

UNNAMED = "(preset name)"
Lora = config_pb2.Config.LoRaConfig
Device = config_pb2.Config.DeviceConfig


def firmware_of(iface: Any) -> str | None:
    """The radio's firmware version from its metadata, if it sent any."""
    meta = getattr(iface, "metadata", None)
    return (getattr(meta, "firmware_version", "") or None) if meta else None


def frequency_of(iface: Any) -> FrequencyPlan | None:
    """Where the radio transmits and where the public default is (None: region UNSET)."""
    lora = iface.localNode.localConfig.lora
    channels = radio_channels(iface)
    primary = next((c for c in channels if c.role == channel_pb2.Channel.Role.PRIMARY), None)
    if not lora.use_preset:
        return None  # a custom modem: not a Jarshy radio's, and its slot count differs
    try:
        return frequency_plan(
            _name(Lora.RegionCode, lora.region),
            _name(Lora.ModemPreset, lora.modem_preset),
            primary.settings.name if primary is not None else "",
            channel_num=lora.channel_num,
            firmware=firmware_of(iface),
            frequency_offset=lora.frequency_offset,
            override_frequency=lora.override_frequency,
        )
    except KeyError:
        return None


def routers_heard(nodes: dict[str, Any], own: int | None) -> list[dict[str, Any]]:
    """Nodes in the radio's node database that announce role ROUTER (``User.role`` in their
    NodeInfo: ``owner.role = config.device.role``, src/mesh/NodeDB.cpp), nearest first.

    Such a router drops Jarshy's packets if it holds the Jarshy key (CORE_PORTNUMS_ONLY, set by
    the firmware for ROUTER), and on firmware 2.8 also when it does not (``relayOpaquePacket``
    relays undecryptable packets only under ALL / ALL_SKIP_DECODING), unless its owner set ALL.
    """
    out = []
    for node in nodes.values():
        user = node.get("user") or {}
        if user.get("role") != "ROUTER" or node.get("num") == own:
            continue
        name = user.get("id") or f"!{int(node.get('num', 0)):08x}"
        out.append({"node": name, "name": user.get("longName"), "hops": node.get("hopsAway", 0)})
    return sorted(out, key=lambda r: (r["hops"], r["node"]))


def radio_summary(iface: Any) -> dict[str, Any]:
    """Firmware, hardware, region, preset, frequency, role, rebroadcast mode, power, channels."""
    node = iface.localNode
    cfg = node.localConfig
    user = iface.getMyUser() or {}
    plan = frequency_of(iface)
    channels = []
    for ch in node.channels or []:
        if ch.role == channel_pb2.Channel.Role.DISABLED:
            continue
        channels.append(
            {
                "index": ch.index,
                "role": channel_pb2.Channel.Role.Name(ch.role),
                "name": ch.settings.name or UNNAMED,
                "key": key_fingerprint(ch.settings.psk),
            }
        )
    return {
        "node": f"!{iface.myInfo.my_node_num:08x}" if iface.myInfo else None,
        "long_name": user.get("longName"),
        "hardware": user.get("hwModel"),
        "firmware": firmware_of(iface),
        "region": _name(Lora.RegionCode, cfg.lora.region),
        "preset": _name(Lora.ModemPreset, cfg.lora.modem_preset),
        "frequency": plan.describe() if plan else None,
        "frequency_mhz": plan.mhz if plan else None,
        "public_frequency": (
            f"{plan.public_mhz:.3f} MHz (slot {plan.public_slot}, LongFast)" if plan else None
        ),
        "public_frequency_mhz": plan.public_mhz if plan else None,
        "jarshy_channel": jarshy_index(radio_channels(iface), JARSHY_CHANNEL),
        "hop_limit": cfg.lora.hop_limit,
        "tx_power": cfg.lora.tx_power,
        "override_duty_cycle": cfg.lora.override_duty_cycle,
        "role": _name(Device.Role, cfg.device.role),
        "rebroadcast_mode": _name(Device.RebroadcastMode, cfg.device.rebroadcast_mode),
        "channels": channels,
        "routers": routers_heard(
            dict(iface.nodes or {}), iface.myInfo.my_node_num if iface.myInfo else None
        ),
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
    out.extend(_channel_warnings(summary))
    return out


def notes(summary: dict[str, Any]) -> list[str]:
    """What the operator should know about the neighbourhood (not wrong with this radio)."""
    routers = summary.get("routers") or []
    if not routers:
        return []
    names = ", ".join(f"{r['node']} ({r['hops']} hops)" for r in routers[:5])
    more = f" and {len(routers) - 5} more" if len(routers) > 5 else ""
    return [
        f"routers heard: {names}{more}. A ROUTER keeps the firmware's CORE_PORTNUMS_ONLY unless its "
        "owner changed it: with the Jarshy key it drops every bulletin, and on firmware 2.8 it "
        "relays no channel it cannot decrypt. Ask their owners to set rebroadcast_mode ALL "
        "(docs/operators.md, 'Other people's routers')"
    ]


def _channel_warnings(summary: dict[str, Any]) -> list[str]:
    out = []
    index = summary.get("jarshy_channel")
    if index is None:
        out.append(
            f"no channel named {JARSHY_CHANNEL!r}: the daemon has no channel to use; provision "
            "the radio (`jarshy radio provision`) or add the URL of `jarshy channel new`"
        )
    else:
        jarshy = next(c for c in summary["channels"] if c["index"] == index)
        if not jarshy["key"].startswith("sha256:"):
            out.append(
                f"the {JARSHY_CHANNEL} channel uses {jarshy['key']}: anyone can read it; "
                "run `jarshy channel join URL` with your Jarshy channel"
            )
    if summary["preset"] != DEFAULT_PRESET:
        out.append(
            f"preset {summary['preset']}: stock radios on the default {DEFAULT_PRESET} cannot "
            "decode this radio's transmissions, so they never relay them; Jarshy's profiles use "
            f"{DEFAULT_PRESET}"
        )
    mhz, public = summary.get("frequency_mhz"), summary.get("public_frequency_mhz")
    if mhz is not None and public is not None and abs(mhz - public) >= 0.0005:
        primary = next((c for c in summary["channels"] if c["role"] == "PRIMARY"), None)
        if "pinned" in str(summary["frequency"]):
            why = "lora.channel_num pins it"
        elif primary is None:
            why = "no primary channel"
        elif primary["name"] == UNNAMED:
            why = f"the unnamed primary channel takes {summary['preset']}'s slot"
        else:
            why = f"the primary channel {primary['name']!r} picks it by its name's hash"
        out.append(
            f"frequency {summary['frequency']} is not {summary['region']}'s public default "
            f"{summary['public_frequency']} ({why}): stock Meshtastic radios on the default "
            "channel never hear this radio. Expected for an --isolated Jarshy mesh; otherwise "
            "provision without --isolated (Jarshy rides a secondary channel on the public slot)"
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
    refusal = region_refusal(region_code, summary.get("firmware"))
    if refusal is not None:
        out.append(f"{region_code}: {refusal}")
    if summary["override_duty_cycle"] and region_code in REGION_DUTY_CYCLE_PERCENT:
        out.append(f"override_duty_cycle is on: {region_code}'s duty cycle is the law")
    return out
