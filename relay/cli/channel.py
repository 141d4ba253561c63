"""``jarshy channel new|join``: make the Jarshy channel (name + random key) and put radios on it.

``new`` prints meshtastic's share URL (``https://meshtastic.org/e/#...``, accepted by the official
apps and ``meshtastic --seturl``) and a terminal QR code. ``join`` writes the URL's channels and
modem preset to a radio in one edit transaction; region and transmit power stay as provisioned.
"""

from __future__ import annotations

import argparse
from typing import Any

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
        help="region in the URL, with its legal tx_power (default: none; apps keep theirs)",
    )
    new.add_argument("--no-qr", action="store_true", help="print the URL only")
    new.add_argument("--qr", action="store_true", help=argparse.SUPPRESS)  # the default
    new.set_defaults(handler=channel_new)
    join = sub.add_parser(
        "join",
        help="put a radio on the channel of a share URL",
        description="Write the URL's channels and modem preset to the radio in one transaction.",
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
    from relay.provision.profiles import load_region

    name = args.name.strip()
    if not 1 <= len(name.encode()) <= 11:
        raise UserError(f"channel name {name!r}: 1 to 11 bytes (Meshtastic's limit)")
    preset = args.preset.strip().upper()
    if preset not in PRESETS:
        raise UserError(f"unknown preset {args.preset!r}; allowed: {', '.join(PRESETS)}")
    region, tx_power = None, 0
    if args.region:
        overlay = load_region(args.region)
        region, tx_power = overlay.name, overlay.max_tx_power(0.0)
    url = make_url(name, new_key(), preset=preset, region=region, tx_power=tx_power)
    print(url)
    if not args.no_qr:
        import segno

        segno.make(url, error="l").terminal(compact=True)
        print("Anyone with this URL can read and send on the channel: share it only in person.")
    return 0


def channel_join(args: argparse.Namespace) -> int:
    """Write the URL's channels and preset; region and power are left to `radio provision`."""
    from meshtastic.protobuf import channel_pb2

    from relay.provision.apply import barrier, open_radio
    from relay.provision.channel import key_fingerprint, parse_url

    Role = channel_pb2.Channel.Role
    share = parse_url(args.url)
    if len(share.channels) > 8:
        raise UserError("the channel URL holds more than 8 channels")
    with open_radio(args.radio) as iface:
        node = iface.localNode
        node.beginSettingsTransaction()
        for index in range(len(node.channels)):
            channel = channel_pb2.Channel(index=index)
            if index < len(share.channels):
                channel.role = Role.SECONDARY if index else Role.PRIMARY
                channel.settings.CopyFrom(share.channels[index])
            if channel != node.channels[index]:
                node.channels[index] = channel
                node.writeChannel(index)
        lora = node.localConfig.lora
        if share.lora.use_preset and lora.modem_preset != share.lora.modem_preset:
            lora.use_preset, lora.modem_preset = True, share.lora.modem_preset
            node.writeConfig("lora")
        node.commitSettingsTransaction()
        barrier(iface)
        region = lora.region
    first = share.channels[0]
    name = inert_line(first.name)
    print(f"joined channel {name!r} ({key_fingerprint(first.psk)}) on {args.radio}")
    if region == 0:
        print("the radio's region is UNSET: run `jarshy radio provision --region ...` next")
    return 0
