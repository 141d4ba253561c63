"""The channel plan: where the Jarshy channel goes in a radio's eight channel slots.

Default (**secondary**): the radio keeps its primary channel, normally the public default (no name,
the default key ``AQ==``), so it stays on the public frequency slot (the slot is the hash of the
*primary* channel's name, ``src/mesh/RadioInterface.cpp``, :mod:`relay.provision.frequency`), and
Jarshy rides a secondary channel named "Jarshy" with its own key. Stock radios relay what they
cannot decrypt under rebroadcast ALL; on 2.7 also under CORE_PORTNUMS_ONLY, which
``src/mesh/Router.cpp`` applies only to a *decoded* packet (``src/modules/RoutingModule.cpp``
drops undecryptable ones only under LOCAL_ONLY / KNOWN_ONLY), but not on 2.8
(``src/mesh/NextHopRouter.cpp`` ``relayOpaquePacket``: ALL and ALL_SKIP_DECODING only). A primary that is the Jarshy channel (an isolated or older provisioning)
goes back to the public default.

**Isolated**: "Jarshy" is the primary channel and ``lora.channel_num`` is pinned (set in
:func:`relay.provision.profiles.desired_settings`), for a Jarshy-only mesh off the public slot.

In both plans any other channel named "Jarshy" is disabled, so the daemon, which finds its
channel by name, finds exactly one.
"""

from __future__ import annotations

from typing import Any

from meshtastic.protobuf import channel_pb2

from relay.errors import UserError
from relay.provision.channel import ChannelShare

Role = channel_pb2.Channel.Role
MAX_CHANNELS = 8
PUBLIC_PSK = b"\x01"
"""The default channel key (``AQ==``, ``defaultpsk`` index 1 in src/mesh/Channels.cpp)."""

CHANNEL_KEYS = ("role", "name", "psk", "uplink_enabled", "downlink_enabled", "position_precision")


def channel_values(
    channel: Any, keys: tuple[str, ...] | list[str] = CHANNEL_KEYS
) -> dict[str, Any]:
    """A channel's values as provisioning compares them (role by name, psk as bytes)."""
    settings = channel.settings
    every = {
        "role": Role.Name(channel.role),
        "name": settings.name,
        "psk": bytes(settings.psk),
        "uplink_enabled": settings.uplink_enabled,
        "downlink_enabled": settings.downlink_enabled,
        "position_precision": settings.module_settings.position_precision,
    }
    return {key: every[key] for key in keys}


def apply_values(channel: Any, index: int, values: dict[str, Any]) -> Any:
    """A copy of ``channel`` at ``index`` with ``values`` set (a disabled one is emptied)."""
    out = channel_pb2.Channel()
    out.CopyFrom(channel)
    out.index = index
    out.role = Role.Value(values["role"])
    if out.role == Role.DISABLED:
        out.ClearField("settings")
        return out
    for key, value in values.items():
        if key == "position_precision":
            out.settings.module_settings.position_precision = value
        elif key != "role":
            setattr(out.settings, key, value)
    return out


def radio_channels(iface: Any) -> list[Any]:
    """The radio's eight channels as the library holds them (missing ones disabled)."""
    held = list(iface.localNode.channels or [])
    return [held[i] if i < len(held) else channel_pb2.Channel(index=i) for i in range(MAX_CHANNELS)]


def jarshy_key(
    name: str, profile_psk: bytes | None, share: ChannelShare | None, channels: list[Any]
) -> bytes:
    """The Jarshy channel's key: the URL's, the profile's, or the one the radio already has."""
    if share is not None:
        found = [c for c in share.channels if c.name == name]
        if not found:
            names = ", ".join(repr(c.name) for c in share.channels) or "none"
            raise UserError(
                f"--channel-url holds no channel named {name!r} (it has: {names}); Jarshy "
                f"radios find their channel by that name: make the URL with `jarshy channel new "
                f"{name}` (nothing was written)"
            )
        if len(found[0].psk) not in (16, 32):
            raise UserError("--channel-url: its key is not 16 or 32 random bytes; make one with "
                            "`jarshy channel new` (nothing was written)")  # fmt: skip
        return bytes(found[0].psk)
    if profile_psk is not None:
        return profile_psk
    for channel in channels:
        same = channel.settings.name == name and channel.role != Role.DISABLED
        if same and len(channel.settings.psk) in (16, 32):
            return bytes(channel.settings.psk)
    raise UserError(
        f"the radio has no channel {name!r} yet: pass --channel-url with the URL from "
        "`jarshy channel new` (nothing was written)"
    )


def plan_channels(
    channels: list[Any], jarshy: dict[str, Any], *, isolated: bool
) -> dict[int, dict[str, Any]]:
    """The values wanted at each channel index the plan touches (others stay as they are).

    ``jarshy`` holds the Jarshy channel's name, psk and the profile's channel keys.
    """
    name = jarshy["name"]
    named = [
        i for i, c in enumerate(channels) if c.settings.name == name and c.role != Role.DISABLED
    ]
    wanted: dict[int, dict[str, Any]] = {}
    if isolated:
        target = 0
    else:
        if 0 in named:  # Jarshy was the primary: give the radio back the public default
            wanted[0] = {"role": "PRIMARY", "name": "", "psk": PUBLIC_PSK}
        spare = [i for i in named if i > 0] + [
            i for i in range(1, MAX_CHANNELS) if channels[i].role == Role.DISABLED
        ]
        if not spare:
            raise UserError(
                "all 8 channel slots are in use: free one (the app, or `meshtastic --ch-index N "
                "--ch-del`) so Jarshy can ride a secondary channel, or use --isolated "
                "(nothing was written)"
            )
        target = spare[0]
    wanted[target] = {"role": "PRIMARY" if isolated else "SECONDARY", **jarshy}
    for index in named:
        if index not in wanted:
            wanted[index] = {"role": "DISABLED"}
    return wanted


def jarshy_index(channels: list[Any], name: str) -> int | None:
    """Index of the enabled channel named ``name`` (the first), or None."""
    for index, channel in enumerate(channels):
        if channel.settings.name == name and channel.role != Role.DISABLED:
            return index
    return None
