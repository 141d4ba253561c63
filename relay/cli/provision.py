"""``jarshy radio info`` and ``jarshy radio provision``: check a radio, make it a Jarshy node.

Registered under ``jarshy radio`` by :mod:`relay.cli.radio`. The meshtastic library's blocking
calls are fine here; addresses are validated before the library sees them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relay.cli.human import tr
from relay.errors import UserError
from relay.inert import inert_line

if TYPE_CHECKING:
    from relay.provision.trust_file import TrustedKey

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
            "Show the difference between the radio and the profile with the region overlay and "
            "the channel plan (Jarshy on a secondary channel, the public primary kept; or "
            "--isolated), write it in one edit transaction, wait for the radio's reboot, and read "
            "back what it saved. Refuses firmware that gets the region wrong. Idempotent."
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
    provision.add_argument(
        "--isolated", action="store_true",
        help="a Jarshy-only mesh: Jarshy becomes the primary channel and lora.channel_num is "
        "pinned off the public frequency (default: keep the public primary, Jarshy secondary)",
    )  # fmt: skip
    provision.add_argument(
        "--reboot-wait", type=float, default=None, metavar="SECONDS",
        help="how long to wait for the radio's reboot after writing before reading back "
        "(default 15: it reboots 7 s after a commit)",
    )  # fmt: skip
    provision.add_argument(
        "--trust", action="append", default=[], metavar="SHARE",
        help="a newsroom key this relay trusts and forwards (its share string, from `jarshy keys "
        "share`; check its fingerprint with the newsroom); repeatable",
    )  # fmt: skip
    provision.add_argument(
        "--trust-file", action="append", default=[], metavar="FILE",
        help="a trust file a newsroom publishes (`jarshy-trust 1`, one share string a line); "
        "repeatable",
    )  # fmt: skip
    provision.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    provision.set_defaults(handler=provision_command)


def info_command(args: argparse.Namespace) -> int:
    """Print the radio's settings and warnings; exit 1 when there are warnings."""
    from relay.provision.apply import open_radio
    from relay.provision.profiles import load_profile
    from relay.provision.report import notes, radio_summary, warnings

    profile = load_profile(args.profile) if args.profile else None
    with open_radio(args.radio) as iface:
        summary = radio_summary(iface)
    problems = warnings(summary, profile)
    remarks = notes(summary)
    if args.json:
        print(json.dumps({**summary, "warnings": problems, "notes": remarks}, ensure_ascii=False))
        return 1 if problems else 0
    hidden = {"channels", "frequency_mhz", "public_frequency_mhz", "jarshy_channel", "routers"}
    for key, value in summary.items():
        if key not in hidden:
            print(f"{key + ':':<20}{inert_line(str(value))}")
    jarshy = summary["jarshy_channel"]
    print(f"{'jarshy channel:':<20}{'none' if jarshy is None else f'index {jarshy}'}")
    for ch in summary["channels"]:
        print(
            inert_line(
                f"{'channel ' + str(ch['index']) + ':':<20}{ch['name']} ({ch['role']}, {ch['key']})"
            )
        )
    for remark in remarks:
        print(tr("pv_note", text=inert_line(remark)))
    for problem in problems:
        print(tr("pv_warning", text=inert_line(problem)))
    if not problems:
        print(tr("pv_no_warnings"))
    return 1 if problems else 0


def provision_command(args: argparse.Namespace) -> int:
    """Diff, write, wait for the reboot, read back; everything is checked before writing."""
    from relay.provision.apply import diff, open_radio, read_settings, resolve_channels, write
    from relay.provision.channel import parse_url
    from relay.provision.firmware import region_refusal
    from relay.provision.profiles import desired_settings, load_profile, load_region
    from relay.provision.reboot import Marker, default_reboot_wait, reconnect, wait_for_reboot
    from relay.provision.report import firmware_of

    profile = load_profile(args.profile)
    region = load_region(args.region)
    trusted = trusted_keys(args.trust, args.trust_file, profile.trust_files)
    desired = desired_settings(profile, region, args.antenna_gain_dbi, isolated=args.isolated)
    share = parse_url(args.channel_url) if args.channel_url else None
    wait = default_reboot_wait() if args.reboot_wait is None else max(args.reboot_wait, 0.0)
    where = tr(
        "pv_where_isolated" if args.isolated else "pv_where",
        profile=inert_line(profile.name), region=region.name,
    )  # fmt: skip
    with open_radio(args.radio) as iface:
        refusal = region_refusal(region.name, firmware_of(iface))
        if refusal is not None:
            raise UserError(tr("pv_region_refused", region=region.name, why=refusal))
        resolve_channels(desired, share, iface, isolated=args.isolated)
        changes = diff(desired, read_settings(iface, desired))
        if not changes:
            print(tr("pv_matches", where=where))
            _print_plan(iface)
            trust_newsrooms(trusted, relays=profile.relays, dry_run=args.dry_run)
            return 0
        print(tr("pv_differ", n=len(changes), where=where))
        for change in changes:
            print(f"  {inert_line(str(change))}")
        if args.dry_run:
            print(tr("pv_dry_run"))
            trust_newsrooms(trusted, relays=profile.relays, dry_run=True)
            return 0
        marker = Marker.of(iface)
        write(iface, desired, changes)
        print(tr("pv_waiting", seconds=f"{wait:g}"))
        restarted = wait_for_reboot(iface, marker, wait)
    with reconnect(args.radio) as iface:  # read back what the radio saved, over a new connection
        left = diff(desired, read_settings(iface, desired))
        after = Marker.of(iface)
        if restarted:
            if marker.reboot_count is not None and after.reboot_count is not None:
                print(
                    tr("pv_restarted_count", before=marker.reboot_count, after=after.reboot_count)
                )
            else:
                print(tr("pv_restarted"))
        else:
            print(tr("pv_no_restart", seconds=f"{wait:g}"))
        if not left:
            _print_plan(iface)
    if left:
        for change in left:
            print(tr("pv_not_applied", change=inert_line(str(change))))
        raise UserError(tr("pv_did_not_take", n=len(left)), exit_code=1)
    print(tr("pv_provisioned", where=where, n=len(changes)))
    trust_newsrooms(trusted, relays=profile.relays, dry_run=False)
    if region.note:
        print(tr("pv_note", text=inert_line(region.note)))
    if profile.mirror:
        print(tr("pv_mirror"))
    return 0


def _print_plan(iface: Any) -> None:
    """Where the Jarshy channel and the radio's frequency ended up, with a warning if off-slot."""
    from relay.provision.channel import key_fingerprint
    from relay.provision.plan import jarshy_index, radio_channels
    from relay.provision.report import frequency_of
    from relay.radio.linktypes import JARSHY_CHANNEL

    channels = radio_channels(iface)
    index = jarshy_index(channels, JARSHY_CHANNEL)
    if index is not None:
        kind = "pv_channel_primary" if index == 0 else "pv_channel_secondary"
        key = key_fingerprint(bytes(channels[index].settings.psk))
        print(tr(kind, index=index, key=key))
    plan = frequency_of(iface)
    if plan is None:
        return
    if plan.on_public_slot:
        print(tr("pv_on_public_slot", plan=plan.describe()))
    else:
        print(
            tr("pv_off_public_slot", plan=plan.describe(), mhz=f"{plan.public_mhz:.3f}",
               slot=plan.public_slot)
        )  # fmt: skip
    if plan.slots == 1 and index == 0:
        print(tr("pv_one_slot"))


def trusted_keys(
    shares: list[str], files: list[str], profile_files: list[Path]
) -> list[TrustedKey]:
    """Every key to trust, checked before the radio is touched (one bad one refuses all)."""
    from relay.provision.trust_file import merged, parse_share, read_trust_file

    given = [parse_share(share) for share in shares]
    read = [read_trust_file(Path(name).expanduser()) for name in files]
    named = [read_trust_file(path) for path in profile_files]
    return merged(given, *read, *named)


def trust_newsrooms(trusted: list[TrustedKey], *, relays: bool, dry_run: bool) -> None:
    """Make ``trusted`` roots of this node's trust store (through the running daemon, the one
    writer, unless it runs on the simulated mesh's store); warn when a relay ends up trusting
    nobody: it would forward no news. With nothing to trust and no node yet, nothing is made."""
    from relay.cli.common import now, open_node
    from relay.cli.keys import ask_daemon
    from relay.crypto.keys import encode_share
    from relay.paths import Paths

    if dry_run:
        for item in trusted:
            print(tr("pv_would_trust", name=inert_line(item.name), fp=item.key.fingerprint))
        return
    hello = ask_daemon("hello") if trusted else None
    through_daemon = hello is not None and not hello.get("simulated")  # else: not its store
    for item in trusted:
        share = encode_share(item.key.public_key, item.key.name)
        if not through_daemon or ask_daemon("trust.add", share=share, name=item.name) is None:
            with open_node() as node:
                node.add_root(item.key.public_key, item.name, now())
        print(
            tr("pv_trusting", name=inert_line(item.name), fp=item.key.fingerprint,
               source=inert_line(item.source))
        )  # fmt: skip
    if not relays:
        return
    where = Paths.from_env()
    listed = ask_daemon("trust.list") if where.socket.exists() and through_daemon else None
    if listed is not None:
        count = len(listed)
    elif where.database.exists():
        with open_node() as node:
            count = len(node.store.roots())
    else:
        count = 0
    if count == 0:
        print(tr("pv_trusts_nobody"))
    elif not trusted:
        print(tr("pv_trusts_count", n=count))
