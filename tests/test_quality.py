"""Lint, format, types and layering are part of the test suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)


def test_ruff_lint() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "relay", "tui", "bench", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(
        sys.executable, "-m", "ruff", "format", "--check", "relay", "tui", "bench", "tests"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers() -> None:
    """The layer contracts of pyproject.toml; import-linter is a dev dependency, never skipped."""
    script = (
        "from importlinter.cli import lint_imports_command; lint_imports_command(['--no-cache'])"
    )
    result = run(sys.executable, "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
