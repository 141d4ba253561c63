"""``jarshy radio info`` and ``jarshy radio provision``: check a radio, make it a Jarshy node.

Registered under ``jarshy radio`` by :mod:`relay.cli.radio`. The meshtastic library's blocking
calls are fine here; addresses are validated before the library sees them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from relay.errors import UserError
from relay.inert import inert_line

DEFAULT_RADIO = "serial:auto"


def register_radio_commands(sub: Any) -> None:
    """Add ``info`` and ``provision`` to the ``jarshy radio`` group."""
    info = sub.add_parser(
        "info",
        help="firmware, hardware, region, preset, role, channels, power, with warnings",
        description="Show what a radio is set to and what would stop it serving Jarshy.",
    )
    info.add_argument("--radio", default=DEFAULT_RADIO, help="radio address (serial:auto)")
    info.add_argument("--profile", help="also check against this profile (name or .yaml path)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=info_command)
    provision = sub.add_parser(
        "provision",
        help="apply a role profile and a region overlay, then read it back",
        description=(
            "Show the difference between the radio and the profile with the region overlay, "
            "write it in one edit transaction, and read it back. Idempotent."
        ),
    )
    provision.add_argument(
        "--profile", required=True,
        help="rooftop-relay, portable-relay, journalist-handheld, resident-receiver, gateway, "
        "or a path to a .yaml profile",
    )  # fmt: skip
    provision.add_argument("--region", required=True, help="KZ_433, KZ_863, EU_868, US, ...")
    provision.add_argument("--radio", default=DEFAULT_RADIO, help="radio address (serial:auto)")
    provision.add_argument(
        "--channel-url", help="the Jarshy channel (from `jarshy channel new`); default: keep"
    )
    provision.add_argument(
        "--antenna-gain-dbi", type=float, default=0.0,
        help="antenna gain; tx_power is lowered so power + gain stays legal (0)",
    )  # fmt: skip
    provision.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    provision.set_defaults(handler=provision_command)


def info_command(args: argparse.Namespace) -> int:
    """Print the radio's settings and warnings; exit 1 when there are warnings."""
    from relay.provision.apply import open_radio
    from relay.provision.profiles import load_profile
    from relay.provision.report import radio_summary, warnings

    profile = load_profile(args.profile) if args.profile else None
    with open_radio(args.radio) as iface:
        summary = radio_summary(iface)
    notes = warnings(summary, profile)
    if args.json:
        print(json.dumps({**summary, "warnings": notes}, ensure_ascii=False))
        return 1 if notes else 0
    for key, value in summary.items():
        if key != "channels":
            print(f"{key + ':':<20}{inert_line(str(value))}")
    for ch in summary["channels"]:
        print(
            inert_line(
                f"{'channel ' + str(ch['index']) + ':':<20}{ch['name']} ({ch['role']}, {ch['key']})"
            )
        )
    for note in notes:
        print(f"WARNING: {inert_line(note)}")
    if not notes:
        print("no warnings")
    return 1 if notes else 0


def provision_command(args: argparse.Namespace) -> int:
    """Diff, write, read back; everything is validated before the radio is touched."""
    from relay.provision.apply import diff, open_radio, read_settings, resolve_channel_key, write
    from relay.provision.channel import parse_url
    from relay.provision.profiles import desired_settings, load_profile, load_region

    profile = load_profile(args.profile)
    region = load_region(args.region)
    desired = desired_settings(profile, region, args.antenna_gain_dbi)
    share = parse_url(args.channel_url) if args.channel_url else None
    with open_radio(args.radio) as iface:
        resolve_channel_key(desired, share, iface)
        changes = diff(desired, read_settings(iface, desired))
        if not changes:
            print(f"the radio already matches {profile.name} in {region.name}: nothing to change")
            return 0
        print(f"{len(changes)} setting(s) differ from {profile.name} in {region.name}:")
        for change in changes:
            print(f"  {inert_line(str(change))}")
        if args.dry_run:
            print("dry run: nothing written")
            return 0
        write(iface, desired, changes)
    with open_radio(args.radio) as iface:  # read back over a fresh connection
        left = diff(desired, read_settings(iface, desired))
    if left:
        for change in left:
            print(f"  NOT APPLIED {inert_line(str(change))}")
        raise UserError(f"{len(left)} setting(s) did not take; see above", exit_code=1)
    print(f"provisioned {profile.name} in {region.name}: {len(changes)} change(s), read back")
    if region.note:
        print(f"note: {region.note}")
    return 0
