"""Check an offline bundle against its manifest before anything from it is installed.

This file is copied into every bundle as ``verify.py`` and run by ``install.sh`` with the plain
``python3`` of the machine being installed, so it imports nothing but the standard library.  A
USB stick can be corrupted or altered: every file's SHA-256 must match the manifest, and no file
the manifest does not list may sit among the wheels (pip would read it).  The manifest's own
SHA-256 is the bundle's fingerprint, to compare with one the project or a newsroom published.

    python3 verify.py BUNDLE              check; one line per problem, exit 1 if any
    python3 verify.py --requirement BUNDLE  what pip installs here ("jarshy==0.1.0"), or why not
    python3 verify.py --field pip BUNDLE    one manifest field (the bundled pip wheel)
    python3 verify.py --copy BUNDLE DEST    copy the manifest's files (only those), checked again
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import sys
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
WHEELS = "wheels"
FORMAT = 1
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # a manifest lists a few hundred files; refuse a huge one
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a project or extra name (PEP 508)
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")  # a PEP 440 version, loosely
WHEEL_FILE = re.compile(r"wheels/[A-Za-z0-9][A-Za-z0-9._+!-]{0,250}\.whl")


class BundleProblem(Exception):
    """The bundle cannot be used as it is; the message names the file and what is wrong."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(bundle: Path) -> str:
    """The SHA-256 of the manifest: it covers every file of the bundle."""
    return sha256_file(bundle / MANIFEST)


def load_manifest(bundle: Path) -> dict[str, Any]:
    path = bundle / MANIFEST
    if not path.is_file():
        raise BundleProblem(f"{path}: no manifest here; is this a Jarshy offline bundle?")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleProblem(f"{path}: manifest larger than {MAX_MANIFEST_BYTES} bytes; refused")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleProblem(f"{path}: unreadable manifest ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleProblem(f"{path}: not a manifest of format {FORMAT}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise BundleProblem(f"{path}: the manifest lists no files")
    for name in files:
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or "\\" in name or not name.isprintable():
            raise BundleProblem(f"{path}: the manifest names a file outside the bundle: {name!a}")
    _check_fields(path, manifest)
    return manifest


def _check_fields(path: Path, manifest: dict[str, Any]) -> None:
    """The fields install.sh hands to pip or to the shell: names, a version, listed wheels."""
    extras = manifest.get("extras")
    if not isinstance(extras, list):
        raise BundleProblem(f"{path}: the manifest's extras are not a list")
    for value in [manifest.get("project"), *extras]:
        if not isinstance(value, str) or not NAME.fullmatch(value):
            raise BundleProblem(f"{path}: the manifest names a project or extra {value!a}")
    version = manifest.get("version")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise BundleProblem(f"{path}: the manifest's version is not a version: {version!a}")
    pip = manifest.get("pip")
    if pip and not (
        isinstance(pip, str) and WHEEL_FILE.fullmatch(pip) and pip in manifest["files"]
    ):
        raise BundleProblem(f"{path}: the manifest's pip is not a wheel it lists: {pip!a}")
    targets = manifest.get("targets")
    if not isinstance(targets, dict) or not all(isinstance(v, list) for v in targets.values()):
        raise BundleProblem(f"{path}: the manifest's targets are not a table of wheels")


def printable(text: str) -> str:
    """A line safe to print: control characters (terminal escapes) shown as ``?``, capped."""
    return "".join(c if c.isprintable() else "?" for c in text)[:300]


def problems(bundle: Path) -> list[str]:
    """Every way the bundle differs from its manifest, one line each (empty: all good)."""
    try:
        manifest = load_manifest(bundle)
    except BundleProblem as exc:
        return [printable(str(exc))]
    found: list[str] = []
    files: dict[str, dict[str, Any]] = manifest["files"]
    for name, entry in sorted(files.items()):
        path = bundle / name
        if not path.is_file():
            found.append(f"{name}: missing from the bundle")
        elif path.stat().st_size != entry.get("size"):
            found.append(f"{name}: size differs from the manifest (corrupted or altered)")
        elif sha256_file(path) != entry.get("sha256"):
            found.append(f"{name}: SHA-256 differs from the manifest (corrupted or altered)")
    wheels = bundle / WHEELS
    if wheels.is_dir():
        for path in sorted(wheels.iterdir()):
            name = f"{WHEELS}/{path.name}"
            if name not in files:
                found.append(f"{name}: not in the manifest (pip would read it): remove it")
    return [printable(line) for line in found]


def copy_verified(bundle: Path, dest: Path) -> None:
    """Copy the manifest and the files it lists (nothing else) into ``dest``, each checked again
    once copied; raises BundleProblem naming the first file that differs."""
    manifest = load_manifest(bundle)
    for name, entry in sorted(manifest["files"].items()):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / name, target)
        if sha256_file(target) != entry.get("sha256"):
            raise BundleProblem(f"{name}: SHA-256 differs from the manifest once copied")
        if name.endswith(".sh"):
            target.chmod(0o755)
    shutil.copyfile(bundle / MANIFEST, dest / MANIFEST)


def target_key() -> str:
    """This interpreter and machine as the manifest names targets: ``cp311-linux_x86_64``."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"cp{sys.version_info.major}{sys.version_info.minor}-{sys.platform}_{machine}"


def requirement(bundle: Path) -> str:
    """What pip should install from this bundle on this machine, e.g. ``jarshy[plots]==0.1.0``."""
    manifest = load_manifest(bundle)
    key = target_key()
    targets = manifest.get("targets") or {}
    if key not in targets:
        have = ", ".join(sorted(targets)) or "none"
        raise BundleProblem(
            f"this bundle has no wheels for {key} (it has: {have}); build one for this machine"
        )
    extras = manifest.get("extras") or []
    extra = f"[{','.join(extras)}]" if extras else ""
    return f"{manifest['project']}{extra}=={manifest['version']}"


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--field":
        try:
            print(printable(str(load_manifest(Path(argv[2])).get(argv[1], ""))))
        except BundleProblem as exc:
            print(f"jarshy-install: {exc}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 3 and argv[0] == "--copy":
        try:
            copy_verified(Path(argv[1]), Path(argv[2]))
        except (BundleProblem, OSError) as exc:
            print(f"jarshy-install: {exc}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 2 and argv[0] == "--requirement":
        try:
            print(requirement(Path(argv[1])))
        except BundleProblem as exc:
            print(f"jarshy-install: {exc}", file=sys.stderr)
            return 1
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    bundle = Path(argv[0])
    found = problems(bundle)
    for line in found:
        print(f"jarshy-install: refused: {line}", file=sys.stderr)
    if found:
        print("jarshy-install: nothing installed; get a clean copy of the bundle", file=sys.stderr)
        return 1
    print(f"bundle verified: every file matches manifest.json (fingerprint {fingerprint(bundle)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
