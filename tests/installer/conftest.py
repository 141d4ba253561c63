"""Shared pieces of the offline installer's tests: an environment with no package registry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"  # the discard port on loopback: nothing answers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "registry: needs the package registry to build a bundle (runs in CI, which has it)",
    )


def offline_env(tmp: Path) -> dict[str, str]:
    """The environment of a machine with no registry: pip pointed at a dead index, no local
    wheel folder, no pip configuration file, and a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(
        PIP_INDEX_URL=UNREACHABLE_INDEX,
        PIP_CONFIG_FILE=os.devnull,
        PIP_RETRIES="0",
        PIP_TIMEOUT="2",
        HOME=str(tmp / "user"),
        JARSHY_HOME=str(tmp / "jarshy-home"),
    )
    (tmp / "user").mkdir(exist_ok=True)
    return env


def run(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
