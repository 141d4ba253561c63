"""Lay out a bundle folder: its wheels, install.sh, verify.py, README.txt and manifest.json.

The manifest lists every file with its size and SHA-256, the targets with the wheels each one
installs, the project's version and extras, where the wheels came from and what is missing.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relay.errors import UserError
from relay.installer import verify_bundle
from relay.installer.install_script import INSTALL_SH, README
from relay.installer.verify_bundle import FORMAT, MANIFEST, WHEELS, sha256_file


@dataclass(slots=True)
class Contents:
    """What goes into a bundle, before it is written."""

    project: str
    version: str
    extras: list[str]
    source: str  # where the wheels came from, in words
    wheels: dict[str, list[Path]]  # target key -> the wheels that install it
    pip: Path | None  # a pip wheel to bootstrap venvs made without ensurepip
    missing: list[str] = field(default_factory=list)


def empty_out(out: Path) -> Path:
    """The output folder, created; refused if it already holds anything."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not empty: give a new folder for the bundle")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write(out: Path, contents: Contents) -> dict[str, Any]:
    """Write the bundle into the empty folder ``out``; return its manifest."""
    empty_out(out)
    wheel_dir = out / WHEELS
    wheel_dir.mkdir()
    targets: dict[str, list[str]] = {}
    for key, wheels in sorted(contents.wheels.items()):
        targets[key] = sorted({f"{WHEELS}/{_place(wheel, wheel_dir)}" for wheel in wheels})
    pip_name = f"{WHEELS}/{_place(contents.pip, wheel_dir)}" if contents.pip else ""
    built = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    (out / "install.sh").write_text(INSTALL_SH, encoding="utf-8")
    (out / "install.sh").chmod(0o755)
    shutil.copyfile(verify_bundle.__file__, out / "verify.py")
    missing = "".join(f"Missing: {line}\n" for line in contents.missing)
    extras = f" with {', '.join(contents.extras)}" if contents.extras else ""
    (out / "README.txt").write_text(
        README.format(
            version=contents.version,
            extras=extras,
            built=built,
            source=contents.source,
            targets=", ".join(targets) or "none",
            missing=missing,
        ),
        encoding="utf-8",
    )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "project": contents.project,
        "version": contents.version,
        "extras": contents.extras,
        "built": built,
        "source": contents.source,
        "targets": targets,
        "pip": pip_name,
        "missing": contents.missing,
        "files": _file_table(out),
    }
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def _place(wheel: Path, wheel_dir: Path) -> str:
    """Copy one wheel in, once; two different files of one name are a build error."""
    target = wheel_dir / wheel.name
    if target.exists():
        if sha256_file(target) != sha256_file(wheel):
            raise UserError(f"two different wheels named {wheel.name}: rebuild the bundle")
        return wheel.name
    shutil.copyfile(wheel, target)
    return wheel.name


def _file_table(out: Path) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            name = path.relative_to(out).as_posix()
            table[name] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    return table


def write_tar(out: Path) -> Path:
    """``DIR.tar`` beside the folder: one file to copy (wheels are compressed already)."""
    tar_path = out.with_name(out.name + ".tar")
    with tarfile.open(tar_path, "w") as tar:
        tar.add(out, arcname=out.name)
    return tar_path


def sizes_by_target(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Bytes each target installs from (its wheels), per target key."""
    files: Mapping[str, Mapping[str, Any]] = manifest["files"]
    targets: Mapping[str, Sequence[str]] = manifest["targets"]
    return {key: sum(int(files[name]["size"]) for name in names) for key, names in targets.items()}
