"""Shared fixtures: an isolated Jarshy home per test and deterministic identities."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import relay.node.sim_node  # noqa: F401  (registers the simulator's "jarshy" engine)
from relay.crypto.keys import Identity


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
