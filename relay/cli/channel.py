"""``jarshy channel new|join``: make the Jarshy channel (name + random key) and put radios on it.

``new`` prints meshtastic's add-channel URL (``https://meshtastic.org/e/?add=true#...``, accepted
by the official apps and ``meshtastic --ch-add-url``) and a terminal QR code: it adds Jarshy as a
secondary channel and keeps the radio's primary, so the radio stays on the public frequency slot.
``new --isolated`` prints a replacing URL (Jarshy primary, ``lora.channel_num`` pinned) instead.
``join`` writes the URL's channels in one edit transaction the same way (an add URL: next to the
primary; a replacing URL: from channel 0, with its preset and slot); region and power stay.
"""

from __future__ import annotations

import argparse
from typing import Any

from relay.cli.human import tr
from relay.errors import UserError
from relay.inert import inert_line

DEFAULT_RADIO = "serial:auto"


def register(subparsers: Any) -> None:
    """Add ``jarshy channel ...`` commands."""
    channel = subparsers.add_parser("channel", help="the Jarshy channel: new, join")
    sub = channel.add_subparsers(dest="channel_command", metavar="ACTION")
    new = sub.add_parser(
        "new",
        help="a channel with a random 32-byte key: prints its share URL and a QR code",
        description="Make a channel with a random 32-byte key; print its share URL and QR code.",
    )
    new.add_argument("name", help="channel name, 1 to 11 bytes (e.g. Jarshy)")
    new.add_argument("--preset", default="LONG_FAST", help="modem preset in the URL (LONG_FAST)")
    new.add_argument(
        "--region",
        help="region in the URL, with its legal tx_power (required: the official apps and CLI "
        "apply the URL's LoRa settings)",
    )
    new.add_argument(
        "--isolated",
        action="store_true",
        help="a replacing URL: Jarshy primary, frequency slot pinned off the public one",
    )
    new.add_argument("--no-qr", action="store_true", help="print the URL only")
    new.add_argument("--qr", action="store_true", help=argparse.SUPPRESS)  # the default
    new.set_defaults(handler=channel_new)
    join = sub.add_parser(
        "join",
        help="put a radio on the channel of a share URL",
        description="Add the URL's channels next to the radio's primary (an add URL), or write "
        "them from channel 0 with the URL's preset and slot (a replacing URL), in one transaction.",
    )
    join.add_argument("url", help="https://meshtastic.org/e/#...")
    join.add_argument("--radio", default=DEFAULT_RADIO, help="radio address (serial:auto)")
    join.set_defaults(handler=channel_join)
    channel.set_defaults(handler=lambda args: _help(channel))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def channel_new(args: argparse.Namespace) -> int:
    """Print the share URL (and QR) of a new channel."""
    from relay.lora import PRESETS
    from relay.provision.channel import make_url, new_key
    from relay.provision.frequency import isolated_slot
    from relay.provision.profiles import load_region

    name = args.name.strip()
    if not 1 <= len(name.encode()) <= 11:
        raise UserError(f"channel name {name!r}: 1 to 11 bytes (Meshtastic's limit)")
    preset = args.preset.strip().upper()
    if preset not in PRESETS:
        raise UserError(f"unknown preset {args.preset!r}; allowed: {', '.join(PRESETS)}")
    if not args.region:
        raise UserError(
            "--region is needed (e.g. --region KZ_863): the official apps and `meshtastic "
            "--ch-add-url` apply the URL's LoRa settings, and without a region they would set it "
            "UNSET and the radio would stop transmitting"
        )
    overlay = load_region(args.region)
    pinned = isolated_slot(name, overlay.name, preset) if args.isolated else 0
    url = make_url(
        name, new_key(), preset=preset, region=overlay.name, tx_power=overlay.max_tx_power(0.0),
        add=not args.isolated, channel_num=pinned,
    )  # fmt: skip
    print(url)
    if not args.no_qr:
        import segno

        segno.make(url, error="l").terminal(compact=True)
        print(tr("ch_share_in_person"))
    if args.isolated:
        print(tr("ch_isolated", slot=pinned))
    else:
        print(tr("ch_adds"))
    return 0


def channel_join(args: argparse.Namespace) -> int:
    """Write the URL's channels (added, or replacing); region and power are left as they are."""
    from meshtastic.protobuf import channel_pb2

    from relay.provision.apply import barrier, open_radio
    from relay.provision.channel import key_fingerprint, parse_url
    from relay.provision.plan import apply_values, channel_values, plan_channels, radio_channels

    Role = channel_pb2.Channel.Role
    share = parse_url(args.url)
    if len(share.channels) > 8:
        raise UserError("the channel URL holds more than 8 channels")
    with open_radio(args.radio) as iface:
        node = iface.localNode
        _refuse_black_hole(node.localConfig.device)
        current = radio_channels(iface)
        wanted = list(current)
        if share.add:
            for settings in share.channels:
                values = {"name": settings.name, "psk": bytes(settings.psk)}
                for index, want in plan_channels(wanted, values, isolated=False).items():
                    wanted[index] = apply_values(wanted[index], index, want)
        else:
            for index in range(len(wanted)):
                channel = channel_pb2.Channel(index=index)
                if index < len(share.channels):
                    channel.role = Role.SECONDARY if index else Role.PRIMARY
                    channel.settings.CopyFrom(share.channels[index])
                wanted[index] = channel
        node.beginSettingsTransaction()
        for index, channel in enumerate(wanted):
            if channel_values(channel) != channel_values(current[index]):
                node.channels[index] = channel
                node.writeChannel(index)
        lora = node.localConfig.lora
        if (
            not share.add
            and share.lora.use_preset
            and (
                lora.modem_preset != share.lora.modem_preset
                or lora.channel_num != share.lora.channel_num
            )
        ):
            lora.use_preset, lora.modem_preset = True, share.lora.modem_preset
            lora.channel_num = share.lora.channel_num
            node.writeConfig("lora")
        node.commitSettingsTransaction()
        barrier(iface)
        region = lora.region
    first = share.channels[0]
    name = inert_line(first.name)
    joined = "ch_joined_added" if share.add else "ch_joined_primary"
    print(tr(joined, name=repr(name), fp=key_fingerprint(first.psk), radio=args.radio))
    print(tr("ch_reboot"))
    if region == 0:
        print(tr("ch_region_unset"))
    return 0


def _refuse_black_hole(device: Any) -> None:
    """A radio in CORE_PORTNUMS_ONLY (every ROUTER, by the firmware's role defaults, NodeDB.cpp
    installRoleDefaults) that holds the Jarshy key decodes Jarshy's packets and drops them."""
    from meshtastic.protobuf import config_pb2

    mode = config_pb2.Config.DeviceConfig.RebroadcastMode.Name(device.rebroadcast_mode)
    if mode == "CORE_PORTNUMS_ONLY":
        raise UserError(
            "refusing: this radio's rebroadcast_mode is CORE_PORTNUMS_ONLY (every ROUTER gets it): "
            "with the Jarshy key it would decode Jarshy's packets and drop them, neither relaying "
            "nor showing them. Run `jarshy radio provision` first, or set rebroadcast_mode ALL "
            "(`meshtastic --set device.rebroadcast_mode ALL`) (nothing was written)"
        )
