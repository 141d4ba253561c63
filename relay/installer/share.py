"""`jarshy share-installer`: an installed node writes the installer it can give, so one stick
becomes many.

A node installed from a bundle kept a verified copy of it (install.sh puts it in
``<venv>/share/jarshy-installer``): that copy is checked again and handed on whole, every machine
and Python it had included.  Otherwise the node rebuilds what it can for its own machine from
what is installed — Jarshy's wheel (from its source folder when it runs from one, else repacked),
every dependency repacked, and pip — and the manifest says what is missing.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relay.errors import UserError
from relay.installer import manifest, verify_bundle
from relay.installer.build import PROJECT, has_backend, source_tree
from relay.installer.install_script import KEPT_DIR
from relay.installer.pip_runner import wheel_of
from relay.installer.repack import Unrepackable, editable_source, installed_closure, repack
from relay.installer.targets import this_target

REPACKED = "repacked from the packages installed on a Jarshy node"


@dataclass(frozen=True, slots=True)
class Shared:
    out: Path
    manifest: dict[str, Any]
    kept: bool  # a copy of the bundle this node was installed from


def kept_bundle(prefix: Path | None = None) -> Path:
    """Where install.sh keeps the bundle inside the virtual environment."""
    return Path(prefix or sys.prefix).joinpath(*KEPT_DIR)


def share(
    out: Path, rebuild: bool = False, tar: bool = False, progress: Callable[[str], None] = print
) -> Shared:
    """Write this node's installer into the new folder ``out``."""
    kept = kept_bundle()
    if not rebuild and (kept / verify_bundle.MANIFEST).is_file():
        found = verify_bundle.problems(kept)
        if found:
            raise UserError(
                f"the installer kept in {kept} does not verify ({found[0]}); "
                "--rebuild makes one from the installed packages"
            )
        manifest.empty_out(out)
        try:
            verify_bundle.copy_verified(kept, out)
        except (verify_bundle.BundleProblem, OSError) as exc:
            raise UserError(f"copying the kept installer into {out}: {exc}") from None
        found = verify_bundle.problems(out)
        if found:
            raise UserError(f"the copy in {out} does not verify: {found[0]}")
        progress(f"copied the bundle this node was installed from ({kept})")
        written = verify_bundle.load_manifest(out)
        from_kept = True
    else:
        written = rebuild_here(out, progress)
        from_kept = False
    if tar:
        progress(f"one file: {manifest.write_tar(out)}")
    return Shared(out, written, kept=from_kept)


def rebuild_here(out: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """A bundle for this machine only, from the installed packages."""
    manifest.empty_out(out)
    with tempfile.TemporaryDirectory(prefix="jarshy-share-") as tmp:
        return _rebuild(out, Path(tmp), progress)


def _rebuild(out: Path, work: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    target = this_target()
    dists, names = installed_closure(PROJECT, set())
    wheels: list[Path] = []
    missing = [f"{name}: needed but not installed on the node that built this" for name in names]
    version = "unknown"
    for dist in dists:
        name = dist.metadata["Name"]
        if name.lower() == PROJECT:
            version = dist.version
            wheels.append(own_wheel(dist, work))
            continue
        try:
            wheels.append(repack(dist, work))
        except Unrepackable as exc:
            missing.append(f"{name} {dist.version}: {exc}")
    pip = None
    try:
        pip = repack(_pip_distribution(), work)
    except (Unrepackable, UserError) as exc:
        missing.append(f"pip (to bootstrap a venv without ensurepip): {exc}")
    missing.append(
        f"wheels for machines and Pythons other than {target.key}: this installer was rebuilt on a "
        "node with no copy of the bundle it came from"
    )
    progress(f"{target.key}: {len(wheels)} wheels rebuilt from the installed packages")
    for line in missing:
        progress(f"missing: {line}")
    contents = manifest.Contents(PROJECT, version, [], REPACKED, {target.key: wheels}, pip, missing)
    return manifest.write(out, contents)


def own_wheel(dist: Any, work: Path) -> Path:
    """Jarshy's wheel: from its source folder if it runs from one, else repacked."""
    source = source_tree() or editable_source(dist)
    if source is not None:
        return wheel_of(source, work / "project", isolated_build=not has_backend())
    try:
        return repack(dist, work)
    except Unrepackable as exc:
        raise UserError(f"{PROJECT}: {exc}") from None


def _pip_distribution() -> Any:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        return distribution("pip")
    except PackageNotFoundError:
        raise UserError("pip is not installed here") from None
