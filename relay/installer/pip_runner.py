"""pip in a subprocess: the offline installer's one I/O edge towards the package registry.

Every failure becomes one line for the user: the registry could not be reached (and what to do
instead), no wheel exists for a target, or pip's own last error line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from relay.errors import UserError
from relay.inert import inert_line

PIP_TIMEOUT = 30 * 60.0  # seconds for one pip run; a slow mirror is slow, a hung one is not
NETWORK_SIGNS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ProxyError",
    "ConnectTimeoutError",
    "Max retries exceeded",
)
NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
GENERIC_ERRORS = {"subprocess-exited-with-error", "metadata-generation-failed"}
OFFLINE_ADVICE = (
    "build the bundle on a machine with internet (or set PIP_INDEX_URL to a reachable mirror), "
    "or hand on an installed node's own installer: jarshy share-installer --out DIR"
)


class RegistryUnreachable(UserError):
    """pip could not reach any package index."""


class NoWheel(UserError):
    """pip found no distribution of ``requirement`` it was allowed to use."""

    def __init__(self, what: str, requirement: str, detail: str) -> None:
        super().__init__(f"{what}: no usable distribution of {requirement} ({detail})")
        self.requirement = requirement


def run_pip(args: Sequence[str], what: str) -> str:
    """Run ``python -m pip ARGS``; its stdout, or a one-line error saying what failed."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        minutes = PIP_TIMEOUT / 60
        raise UserError(f"{what}: pip took longer than {minutes:.0f} min; gave up") from None
    if done.returncode == 0:
        return done.stdout
    output = done.stdout + "\n" + done.stderr
    no_match = NO_MATCH.search(output)
    if any(sign in output for sign in NETWORK_SIGNS):
        raise RegistryUnreachable(
            f"{what}: the package registry could not be reached; {OFFLINE_ADVICE}"
        )
    if no_match and "(from versions: none)" in output and not registry_answers():
        raise RegistryUnreachable(
            f"{what}: the package registry could not be reached; {OFFLINE_ADVICE}"
        )
    if no_match:
        raise NoWheel(what, no_match.group(1), last_error(output))
    raise UserError(f"{what}: pip failed: {last_error(output)}")


def registry_answers() -> bool:
    """Whether pip's index answers at all: can it fetch pip itself, bypassing its cache?"""
    with tempfile.TemporaryDirectory(prefix="jarshy-probe-") as tmp:
        command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "download"]
        command += ["--no-deps", "--only-binary=:all:", "--no-cache-dir", "-d", tmp, "pip"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def last_error(output: str) -> str:
    """pip's most telling line: its last ERROR line, else its last non-empty line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error:")]
    specific = [line for line in errors if line.split(":", 1)[1].strip() not in GENERIC_ERRORS]
    if specific:
        chosen = specific[0]  # a build's own error comes before pip's summary of it
    else:
        chosen = errors[-1] if errors else (lines[-1] if lines else "no output")
    return inert_line(chosen.split(":", 1)[1].strip() if ":" in chosen else chosen)[:300]


def wheel_of(source: Path, into: Path, isolated_build: bool) -> Path:
    """Build the wheel of a project folder (no dependencies) into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    args = ["wheel", "--no-deps", "-w", str(into), str(source)]
    if not isolated_build:
        args.insert(1, "--no-build-isolation")
    run_pip(args, f"building the wheel of {source}")
    return one_new_wheel(into, before=set())


def one_new_wheel(folder: Path, before: set[str]) -> Path:
    made = [p for p in folder.glob("*.whl") if p.name not in before]
    if len(made) != 1:
        raise UserError(f"expected one new wheel in {folder}, found {len(made)}")
    return made[0]
