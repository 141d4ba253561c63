"""The machines a bundle is built for: CPython version × Linux machine, and pip's flags for each.

A target's key (``cp311-linux_x86_64``) names it in the manifest; the install script computes the
same key on the machine it runs on (relay/installer/verify_bundle.py) and so knows whether the
bundle holds wheels for it.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass

from relay.errors import UserError

PYTHONS = ("3.11", "3.12", "3.13")
MACHINES = ("x86_64", "aarch64")  # PCs and servers; Raspberry Pi OS 64-bit
# glibc 2.17 (CentOS 7) up to 2.31 (Debian 11, Ubuntu 20.04): wheels that run on Raspberry Pi OS
# Bullseye and Bookworm and on any desktop Linux of the last years.
GLIBC_MINORS = range(31, 16, -1)


@dataclass(frozen=True, slots=True)
class Target:
    """One CPython version on one machine; ``here`` means this very interpreter."""

    python: str  # "3.12"
    system: str  # "linux"
    machine: str  # "x86_64"
    here: bool = False

    @property
    def key(self) -> str:
        return f"cp{self.python.replace('.', '')}-{self.system}_{self.machine}"

    @property
    def abi(self) -> str:
        return f"cp{self.python.replace('.', '')}"

    def platform_tags(self) -> list[str]:
        """pip's ``--platform`` values: every manylinux tag a glibc 2.31 machine accepts."""
        tags = [f"manylinux_2_{minor}_{self.machine}" for minor in GLIBC_MINORS]
        tags.append(f"manylinux2014_{self.machine}")
        if self.machine == "x86_64":
            tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
        return tags

    def pip_flags(self) -> list[str]:
        """The flags that make `pip download` resolve for this target instead of this machine."""
        if self.here:
            return []
        flags = ["--only-binary=:all:", "--implementation", "cp"]
        flags += ["--python-version", self.python, "--abi", self.abi]
        for tag in self.platform_tags():
            flags += ["--platform", tag]
        return flags


def normal_machine(name: str) -> str:
    """``amd64``/``AMD64`` → ``x86_64``, ``arm64`` → ``aarch64`` (what pip's tags call them)."""
    lowered = name.lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(lowered, lowered)


def this_target() -> Target:
    """The interpreter running now, on this machine."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Target(python, sys.platform, normal_machine(platform.machine()), here=True)


def targets(machines: list[str] | None, pythons: list[str] | None) -> list[Target]:
    """Every asked (or default) Python × machine, refusing names pip could not build for."""
    chosen_machines = [normal_machine(m) for m in machines] if machines else list(MACHINES)
    chosen_pythons = pythons or list(PYTHONS)
    for machine in chosen_machines:
        if machine not in MACHINES:
            raise UserError(f"unknown machine {machine!r}: known {', '.join(MACHINES)}")
    for python in chosen_pythons:
        if python not in PYTHONS:
            raise UserError(f"unsupported Python {python!r}: Jarshy runs on {', '.join(PYTHONS)}")
    return [Target(p, "linux", m) for m in chosen_machines for p in chosen_pythons]
