"""`jarshy installer build|verify` and `jarshy share-installer`: install with no internet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from relay.cli.human import tr
from relay.errors import UserError
from relay.inert import inert_line
from relay.installer import build as bundle_build
from relay.installer import manifest as bundle_manifest
from relay.installer import share as bundle_share
from relay.installer import targets as bundle_targets
from relay.installer import verify_bundle

EXTRAS = ("plots",)


def register(sub: Any) -> None:
    installer = sub.add_parser(
        "installer",
        help="offline installer: build a bundle to install with no internet, verify one",
    )
    actions = installer.add_subparsers(dest="installer_action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="build an offline bundle (needs the package registry)",
        description="Build a folder that installs Jarshy with no network: wheels for Linux "
        f"{' and '.join(bundle_targets.MACHINES)} (Raspberry Pi OS 64-bit) and CPython "
        f"{', '.join(bundle_targets.PYTHONS)}, install.sh and a manifest of SHA-256 sums.",
    )
    build.add_argument("--out", required=True, type=Path, help="a new folder for the bundle")
    build.add_argument(
        "--machine",
        action="append",
        help=f"only this machine (repeatable; default: {', '.join(bundle_targets.MACHINES)})",
    )
    build.add_argument(
        "--python",
        action="append",
        help=f"only this Python (repeatable; default: {', '.join(bundle_targets.PYTHONS)})",
    )
    build.add_argument(
        "--here", action="store_true", help="only this machine and this Python (any OS)"
    )
    build.add_argument(
        "--with", dest="extras", action="append", choices=EXTRAS, help="an optional extra too"
    )
    build.add_argument("--tar", action="store_true", help="also write DIR.tar: one file to copy")
    build.set_defaults(handler=build_command)
    verify = actions.add_parser("verify", help="check a bundle's files against its manifest")
    verify.add_argument("bundle", type=Path)
    verify.set_defaults(handler=verify_command)

    share = sub.add_parser(
        "share-installer",
        help="write this node's installer to a folder, to install Jarshy on another machine",
        description="Hand on the installer: a copy of the bundle this node was installed from, "
        "or (with none kept, or --rebuild) one rebuilt for this machine from the installed "
        "packages.",
    )
    share.add_argument("--out", required=True, type=Path, help="a new folder for the installer")
    share.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild from the installed packages, even with a copy kept",
    )
    share.add_argument("--tar", action="store_true", help="also write DIR.tar: one file to copy")
    share.set_defaults(handler=share_command)


def build_command(args: argparse.Namespace) -> int:
    if args.here and (args.machine or args.python):
        raise UserError(tr("in_here_only"))
    chosen = (
        [bundle_targets.this_target()]
        if args.here
        else bundle_targets.targets(args.machine, args.python)
    )
    built = bundle_build.build(args.out, chosen, extras=args.extras or [], tar=args.tar)
    summary(built.out, built.manifest)
    if built.tar is not None:
        print(tr("in_one_file", path=built.tar))
    return 0


def verify_command(args: argparse.Namespace) -> int:
    found = verify_bundle.problems(args.bundle)
    for line in found:
        print(tr("in_refused", problem=inert_line(line)))
    if found:
        return 1
    manifest = verify_bundle.load_manifest(args.bundle)
    version, count = inert_line(str(manifest["version"])), len(manifest["files"])
    print(tr("in_verified", version=version, n=count))
    print(tr("in_fingerprint", fp=verify_bundle.fingerprint(args.bundle)))
    built, source = (inert_line(str(manifest.get(k))) for k in ("built", "source"))
    print(tr("in_built", built=built, source=source))
    for key in manifest["targets"]:
        print(tr("in_installs_on", target=inert_line(str(key))))
    for line in manifest.get("missing") or []:
        print(tr("in_missing", what=inert_line(str(line))))
    return 0


def share_command(args: argparse.Namespace) -> int:
    shared = bundle_share.share(args.out, rebuild=args.rebuild, tar=args.tar)
    summary(shared.out, shared.manifest)
    return 0


def summary(out: Path, manifest: dict[str, Any]) -> None:
    """What was written, per target, and the next steps."""
    for key, size in bundle_manifest.sizes_by_target(manifest).items():
        print(tr("in_wheels", target=key, mb=f"{size / 1e6:.1f}"))
    total = sum(int(entry["size"]) for entry in manifest["files"].values())
    print(tr("in_bundle", path=out, mb=f"{total / 1e6:.1f}", n=len(manifest["files"])))
    print(tr("in_fingerprint_publish", fp=verify_bundle.fingerprint(out)))
    print(tr("in_install_with", script=out / "install.sh"))
