"""Shared fixtures: an isolated Jarshy home per test and deterministic identities."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import relay.node.sim_node  # registers the simulator's "jarshy" engine
import relay.shutdown
from relay.crypto.keys import Identity

_stuck_shutdowns: list[int] = []


def _record_stuck_shutdown(code: int) -> None:
    """A daemon run in process that hung in its shutdown: its watchdog would end pytest with
    exit code 0 and every later test unrun, so the run fails at its end instead."""
    _stuck_shutdowns.append(code)


relay.shutdown.leave_process = _record_stuck_shutdown


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _stuck_shutdowns:
        print(f"\n{len(_stuck_shutdowns)} in-process daemon(s) stuck in shutdown (see the log)")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def jarshy_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh JARSHY_HOME with a fast KDF and a scripted passphrase."""
    home = tmp_path / "home"
    monkeypatch.setenv("JARSHY_HOME", str(home))
    monkeypatch.setenv("JARSHY_KDF", "fast")
    monkeypatch.setenv("JARSHY_PASSPHRASE", "correct horse battery staple")
    return home


def make_identity(name: str) -> Identity:
    """An identity whose key is derived from its name (stable across runs)."""
    return Identity(name, hashlib.sha256(b"jarshy-test:" + name.encode()).digest())


@pytest.fixture
def alice() -> Identity:
    return make_identity("alice")


@pytest.fixture
def bob() -> Identity:
    return make_identity("bob")


@pytest.fixture
def mallory() -> Identity:
    return make_identity("mallory")
