"""Fixtures shared with the daemon tests."""

from tests.daemon.test_two_daemons import two_radios  # noqa: F401 - a fixture
