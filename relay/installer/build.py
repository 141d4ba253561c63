"""`jarshy installer build`: fetch the wheels of Jarshy and its dependencies for every target.

The project's wheel is built from its source tree (or repacked from the installed package); each
cross target's wheels come from `pip download --only-binary=:all: --platform ...`; a dependency
published only as a source archive is built here with `pip wheel` and kept if it is pure Python
(``py3-none-any``).  Wheels shared by several targets are stored once.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import relay
from relay.errors import UserError
from relay.installer import closure, manifest
from relay.installer.pip_runner import NoWheel, one_new_wheel, run_pip, wheel_of
from relay.installer.repack import repack_installed
from relay.installer.targets import Target

PROJECT = "jarshy"
MAX_ROUNDS = 4  # fallbacks (a pure-Python sdist, a dependency behind a marker) per target

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Built:
    out: Path
    manifest: dict[str, Any]
    tar: Path | None


def source_tree() -> Path | None:
    """The Jarshy source checkout this code runs from, if it runs from one."""
    root = Path(relay.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and f'name = "{PROJECT}"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def has_backend() -> bool:
    """Whether this Python can build Jarshy's wheel without fetching setuptools and wheel."""
    return all(importlib.util.find_spec(name) is not None for name in ("setuptools", "wheel"))


def project_wheel(work: Path) -> tuple[Path, str]:
    """Jarshy's own wheel, and where it came from in words."""
    source = source_tree()
    if source is not None:
        return wheel_of(source, work / "project", isolated_build=not has_backend()), str(source)
    wheel, _ = repack_installed(PROJECT, work / "project")
    return wheel, "the installed package"


def build(
    out: Path,
    targets: Sequence[Target],
    extras: Sequence[str] = (),
    tar: bool = False,
    progress: Progress = print,
) -> Built:
    """Write a bundle for ``targets`` into the new folder ``out``."""
    manifest.empty_out(out)
    with tempfile.TemporaryDirectory(prefix="jarshy-bundle-") as tmp:
        work = Path(tmp)
        wheel, origin = project_wheel(work)
        progress(f"{wheel.name}: built from {origin}")
        pip = fetch_pip(work / "pip")
        wheels: dict[str, list[Path]] = {}
        for target in targets:
            wheels[target.key] = fetch_target(target, wheel, list(extras), work)
            progress(f"{target.key}: {len(wheels[target.key])} wheels")
        _, version = closure.wheel_name_version(wheel)
        contents = manifest.Contents(
            project=PROJECT,
            version=version,
            extras=list(extras),
            source="wheels from the package registry",
            wheels=wheels,
            pip=pip,
        )
        staged = work / "staged"  # written to ``out`` only once it passed the check
        written = manifest.write(staged, contents)
        for target in targets:
            resolves_offline(staged, target, contents, work / "dry-run")
        progress("checked: every target installs from the bundle alone (pip --no-index)")
        for entry in staged.iterdir():
            shutil.move(entry, out / entry.name)
    return Built(out, written, manifest.write_tar(out) if tar else None)


def resolves_offline(out: Path, target: Target, contents: manifest.Contents, work: Path) -> None:
    """pip, with no index, resolves ``target``'s whole install from the bundle's wheels."""
    extra = f"[{','.join(contents.extras)}]" if contents.extras else ""
    run_pip(
        [
            *("--isolated", "install", "--dry-run", "--no-index", "--ignore-installed"),
            *("--find-links", str(out / "wheels"), "--target", str(work / target.key)),
            *target.pip_flags(),
            f"{contents.project}{extra}=={contents.version}",
        ],
        f"{target.key}: checking the bundle installs with no network",
    )


def fetch_pip(into: Path) -> Path:
    """A pip wheel, to bootstrap a venv on systems without ensurepip (Debian's python3)."""
    into.mkdir(parents=True, exist_ok=True)
    run_pip(
        ["download", "--no-deps", "--only-binary=:all:", "-d", str(into), "pip"],
        "fetching pip",
    )
    return one_new_wheel(into, before=set())


def fetch_target(target: Target, wheel: Path, extras: list[str], work: Path) -> list[Path]:
    """Every wheel ``target`` needs to install Jarshy (with ``extras``)."""
    dest = work / target.key
    pure = work / "pure"
    pure.mkdir(exist_ok=True)
    spec = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    fetch(target, [spec], dest, pure)
    rounds = 0
    while not target.here and (missing := _gaps(dest, target, extras)):
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise UserError(f"{target.key}: still missing after {MAX_ROUNDS} rounds: {missing[0]}")
        fetch(target, missing, dest, pure)
    found = sorted(dest.iterdir())
    strays = [p.name for p in found if p.suffix != ".whl"]
    if strays:
        raise UserError(f"{target.key}: pip left non-wheel files: {', '.join(strays)}")
    return found


def _gaps(dest: Path, target: Target, extras: list[str]) -> list[str]:
    return closure.gaps(dest.glob("*.whl"), target, PROJECT, extras)


def fetch(target: Target, requirements: list[str], dest: Path, pure: Path) -> None:
    """Download ``requirements`` (with dependencies) for ``target`` into ``dest``."""
    what = f"{target.key}: fetching {', '.join(Path(r).name for r in requirements)}"
    if target.here:
        run_pip(["wheel", "-w", str(dest), *requirements], what)
        return
    for _ in range(MAX_ROUNDS):
        try:
            run_pip(
                [
                    *("download", "-d", str(dest), "--find-links", str(pure)),
                    *target.pip_flags(),
                    *requirements,
                ],
                what,
            )
            return
        except NoWheel as missing:
            build_pure(missing, pure, target)
    raise UserError(f"{what}: still no wheel after {MAX_ROUNDS} pure-Python builds")


def build_pure(missing: NoWheel, pure: Path, target: Target) -> None:
    """Turn a source-only dependency into a ``py3-none-any`` wheel, or say why that cannot be."""
    before = {p.name for p in pure.glob("*.whl")}
    try:
        run_pip(
            ["wheel", "--no-deps", "-w", str(pure), missing.requirement],
            f"building {missing.requirement}",
        )
    except NoWheel:
        raise UserError(f"{target.key}: no distribution of {missing.requirement} at all") from None
    made = one_new_wheel(pure, before)
    if not made.name.endswith("-none-any.whl"):
        made.unlink()
        raise UserError(
            f"{target.key}: {missing.requirement} has no wheel for this target and is not pure "
            f"Python; build the bundle on such a machine (jarshy installer build --here)"
        )
