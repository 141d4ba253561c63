"""Which wheels a target still lacks: its dependencies' markers judged for the target itself.

`pip download --platform ...` judges environment markers (``platform_machine``,
``python_version``) by the machine running pip, not by the target; a dependency needed only on
aarch64 or only on Python 3.13 would be left out.  This module reads each wheel's METADATA and
judges every ``Requires-Dist`` for the target, so the build can fetch what is missing.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from email.parser import HeaderParser
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement

from relay.installer.targets import Target

MAX_METADATA = 2 * 1024 * 1024


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_version(wheel: Path) -> tuple[str, str]:
    """(canonical project name, version) from a wheel's file name."""
    parts = wheel.name.removesuffix(".whl").split("-")
    if len(parts) < 5:
        raise ValueError(f"not a wheel file name: {wheel.name}")
    return canonical(parts[0]), parts[1]


def requires(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            return []
        info = archive.getinfo(names[0])
        if info.file_size > MAX_METADATA:
            return []
        text = archive.read(info).decode("utf-8", "replace")
    return HeaderParser().parsestr(text).get_all("Requires-Dist") or []


def environment(target: Target) -> dict[str, str]:
    """The marker variables of a target machine (CPython on Linux)."""
    return {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "sys_platform": target.system,
        "os_name": "posix",
        "platform_machine": target.machine,
        "python_version": target.python,
        "python_full_version": f"{target.python}.0",
        "implementation_version": f"{target.python}.0",
    }


def gaps(wheels: Iterable[Path], target: Target, top: str, extras: Iterable[str]) -> list[str]:
    """Requirements that apply on ``target`` but that no wheel in ``wheels`` provides.

    ``top`` is the project whose ``extras`` were asked for; every other wheel's dependencies are
    judged with no extra (pip installs a dependency's extras only when named in its requirement,
    which `Requirement.extras` then carries to the next round)."""
    have: dict[str, Path] = {}
    for wheel in wheels:
        have[wheel_name_version(wheel)[0]] = wheel
    wanted_extras: dict[str, set[str]] = {canonical(top): set(extras)}
    missing: list[str] = []
    queue = list(have)
    seen: set[str] = set()
    while queue:
        name = queue.pop()
        if name in seen or name not in have:
            continue
        seen.add(name)
        for line in requires(have[name]):
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if not _applies(requirement, target, wanted_extras.get(name, set())):
                continue
            dep = canonical(requirement.name)
            if requirement.extras - wanted_extras.get(dep, set()):
                wanted_extras.setdefault(dep, set()).update(requirement.extras)
                seen.discard(dep)
            if dep in have:
                queue.append(dep)
            elif str(requirement).split(";")[0].strip() not in missing:
                missing.append(str(requirement).split(";")[0].strip())
    return missing


def _applies(requirement: Requirement, target: Target, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    env = environment(target)
    try:
        return any(
            requirement.marker.evaluate({**env, "extra": extra}) for extra in (extras or {""})
        )
    except (InvalidMarker, UndefinedEnvironmentName):
        return True  # unjudgeable: fetch it rather than leave it out
