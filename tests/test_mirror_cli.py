"""CLI edges of the mirror work: `jarshy verify` refuses what is not a code before asking any
daemon; `jarshy radio emulate --firmware/--channel-num` refuse bad values with one line."""

from __future__ import annotations

import pytest

from relay.cli import main


def test_verify_refuses_a_non_code_without_a_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "#ABC\x1b[2J", "--socket", "/nonexistent/api.sock"]) == 2
    err = capsys.readouterr().err
    assert "is not a mirror code" in err and "\x1b" not in err


def test_verify_without_a_daemon_says_how_to_start_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "k7q2mx", "--socket", "/nonexistent/api.sock"]) == 2
    assert "jarshy daemon" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--firmware", "2.8;rm"], ["--channel-num", "-1"]])
def test_emulate_refuses_bad_firmware_and_channel(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["radio", "emulate", "--tcp", "0", *flags]) == 2
    assert "bad radio setting" in capsys.readouterr().err
