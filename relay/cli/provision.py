"""`jarshy radio info|provision` and `jarshy channel new|join`: make a radio a correct Jarshy node."""

from __future__ import annotations

import argparse
import base64
import json
import os
from typing import Any

from relay.errors import UserError

CHANNEL_URL = "https://meshtastic.org/e/#"


def register_radio_commands(sub: Any) -> None:
    info = sub.add_parser("info", help="firmware, region, preset, role, channels and warnings")
    info.add_argument("--radio", default="serial:auto")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=info_command)
    provision = sub.add_parser("provision", help="apply a role profile and a region overlay")
    provision.add_argument("--profile", required=True, help="rooftop-relay, portable-relay, ...")
    provision.add_argument("--region", required=True, help="KZ_433, KZ_863, EU_868, US, ...")
    provision.add_argument("--radio", default="serial:auto")
    provision.add_argument("--antenna-gain-dbi", type=float, default=0.0)
    provision.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    provision.set_defaults(handler=provision_command)


def register(subparsers: Any) -> None:
    channel = subparsers.add_parser("channel", help="the Jarshy channel: new, join")
    sub = channel.add_subparsers(dest="channel_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="a new channel with a random key; prints its share URL")
    new.add_argument("name")
    new.add_argument("--preset", default="LONG_FAST")
    new.add_argument("--qr", action="store_true")
    new.set_defaults(handler=channel_new)
    join = sub.add_parser("join", help="apply a channel URL to the radio")
    join.add_argument("url")
    join.add_argument("--radio", default="serial:auto")
    join.set_defaults(handler=channel_join)


def _connect(address: str) -> Any:
    from relay.provision.apply import open_radio

    try:
        return open_radio(address)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def info_command(args: argparse.Namespace) -> int:
    from relay.provision.apply import radio_summary, warnings

    with _connect(args.radio) as iface:
        summary = radio_summary(iface)
    notes = warnings(summary)
    if args.json:
        print(json.dumps({**summary, "warnings": notes}))
        return 0
    for key, value in summary.items():
        print(f"{key}: {value}")
    for note in notes:
        print(f"WARNING: {note}")
    return 1 if notes else 0


def provision_command(args: argparse.Namespace) -> int:
    from relay.provision.apply import apply, current_settings, diff
    from relay.provision.profiles import desired_settings, load_profile, load_region

    if args.profile.endswith((".yaml", ".yml")):
        from pathlib import Path

        profile = load_profile(Path(args.profile).stem, Path(args.profile))
    else:
        profile = load_profile(args.profile)
    region = load_region(args.region)
    desired = desired_settings(profile, region, args.antenna_gain_dbi)
    with _connect(args.radio) as iface:
        changes = diff(desired, current_settings(iface, desired))
        if not changes:
            print(f"radio already matches {profile.name} for {region.name}: nothing to change")
            return 0
        for path, have, want in changes:
            print(f"  {path}: {have} -> {want}")
        if args.dry_run:
            print(f"dry run: {len(changes)} setting(s) would change")
            return 0
        apply(iface, desired, changes)
    with _connect(args.radio) as iface:  # read back from a fresh connection
        remaining = diff(desired, current_settings(iface, desired))
    if remaining:
        for path, have, want in remaining:
            print(f"  NOT APPLIED {path}: radio has {have}, wanted {want}")
        raise UserError(f"{len(remaining)} setting(s) did not take; see above", exit_code=1)
    print(
        f"provisioned {profile.name} for {region.name}: {len(changes)} setting(s) changed and read back"
    )
    return 0


def channel_url(name: str, psk: bytes, preset: str = "LONG_FAST") -> str:
    """Meshtastic's channel share URL: base64url (no padding) of a ChannelSet protobuf."""
    from meshtastic.protobuf import apponly_pb2, channel_pb2, config_pb2

    channel_set = apponly_pb2.ChannelSet()
    channel_set.settings.append(channel_pb2.ChannelSettings(name=name, psk=psk))
    channel_set.lora_config.use_preset = True
    channel_set.lora_config.modem_preset = config_pb2.Config.LoRaConfig.ModemPreset.Value(preset)
    channel_set.lora_config.hop_limit = 3
    channel_set.lora_config.tx_enabled = True
    encoded = base64.urlsafe_b64encode(channel_set.SerializeToString()).decode().rstrip("=")
    return CHANNEL_URL + encoded


def channel_new(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not 1 <= len(name.encode()) <= 11:
        raise UserError("a channel name is 1 to 11 bytes (Meshtastic's limit)")
    try:
        url = channel_url(name, os.urandom(32), args.preset)
    except ValueError:
        raise UserError(f"unknown preset {args.preset!r}") from None
    print(url)
    if args.qr:
        import segno

        segno.make(url, error="l").terminal(compact=True)
    return 0


def channel_join(args: argparse.Namespace) -> int:
    if not args.url.startswith(CHANNEL_URL):
        raise UserError(f"a channel URL starts with {CHANNEL_URL}")
    with _connect(args.radio) as iface:
        iface.localNode.setURL(args.url)
    print("channel applied")
    return 0
