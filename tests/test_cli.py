"""The offline CLI end to end: keys, trust, compose, inspect, size, export/import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relay.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def share_of(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("jarshy:"))


def test_journalist_flow(
    jarshy_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run(capsys, "keys", "new", "Newsroom")
    assert code == 0 and "fingerprint" in out
    newsroom_share = share_of(out)
    code, out, _ = run(capsys, "keys", "list")
    assert "Newsroom" in out

    bulletin = tmp_path / "b.bin"
    code, out, _ = run(
        capsys, "compose", "--text", "Вода будет завтра с 10:00 до 14:00.", "--out", str(bulletin)
    )
    assert code == 0 and "fits one packet" in out
    assert bulletin.stat().st_size <= 229

    # A resident's node (another home) sees an unknown key, then trusts the newsroom.
    resident = tmp_path / "resident"
    monkeypatch.setenv("JARSHY_HOME", str(resident))
    code, out, _ = run(capsys, "inspect", str(bulletin), "--json")
    info = json.loads(out)
    assert code == 0 and info["verdict"] == "pending_key"
    code, out, _ = run(capsys, "trust", "add", newsroom_share)
    assert code == 0 and "Newsroom" in out
    code, out, _ = run(capsys, "inspect", str(bulletin), "--json")
    info = json.loads(out)
    assert info["verdict"] == "trusted" and info["signer"] == "Newsroom"
    assert info["text"] == "Вода будет завтра с 10:00 до 14:00." and info["lang"] == "ru"

    # One flipped bit: invalid, non-zero exit.
    data = bytearray(bulletin.read_bytes())
    data[-1] ^= 1
    tampered = tmp_path / "t.bin"
    tampered.write_bytes(bytes(data))
    code, out, _ = run(capsys, "inspect", str(tampered))
    assert code == 1 and "INVALID" in out


def test_bundle_round_trip(
    jarshy_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "keys", "new", "Reporter")
    run(
        capsys,
        "compose",
        "--kind",
        "safety",
        "--severity",
        "extreme",
        "--event",
        "fire",
        "--text",
        "Пожар на Абая 10, уходите.",
        "--expires",
        "6h",
        "--out",
        str(tmp_path / "a.bin"),
    )
    long_text = " ".join(str(i * 7919 % 10007) for i in range(150))
    run(capsys, "compose", "--text", long_text, "--lang", "en", "--out", str(tmp_path / "long.bin"))
    bundle = tmp_path / "stick.jarshy"
    code, out, _ = run(capsys, "export", "--out", str(bundle))
    assert code == 0 and "exported 3 bulletins" in out  # announcement + 2
    monkeypatch.setenv("JARSHY_HOME", str(tmp_path / "other"))
    code, out, _ = run(capsys, "import", str(bundle))
    assert code == 0 and "accepted 3" in out and "unknown key: 3" in out
    code, out, _ = run(capsys, "import", str(bundle))
    assert "duplicates 3" in out
    damaged = tmp_path / "bad.jarshy"
    damaged.write_bytes(bundle.read_bytes()[:-5])
    code, _, err = run(capsys, "import", str(damaged))
    assert code == 2 and "damaged record" in err


def test_fragmented_compose_and_inspect(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "keys", "new", "Long")
    out_file = tmp_path / "long.bin"
    text = "Ұзақ хабар: " + " ".join(str(i * 7919 % 10007) for i in range(150))
    code, out, _ = run(capsys, "compose", "--text", text, "--out", str(out_file))
    assert code == 0 and "packets" in out
    code, out, _ = run(capsys, "inspect", str(out_file), "--json")
    assert json.loads(out)["text"] == text.strip()


def test_user_errors_are_one_line(
    jarshy_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(capsys, "compose", "--text", "hi", "--out", str(tmp_path / "x"))
    assert code == 2 and err.startswith("jarshy: no identity") and err.count("\n") == 1
    run(capsys, "keys", "new", "A")
    monkeypatch.setenv("JARSHY_PASSPHRASE", "wrong")
    code, _, err = run(capsys, "compose", "--text", "hi", "--out", str(tmp_path / "x"))
    assert code != 0 and "passphrase" in err.lower() and "Traceback" not in err
    code, _, err = run(capsys, "inspect", str(tmp_path / "missing.bin"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "trust", "add", "jarshy:NOTAKEY")
    assert code == 2 and "share string" in err
    code, _, err = run(
        capsys, "compose", "--kind", "correction", "--text", "fix", "--out", str(tmp_path / "x")
    )
    assert code == 2 and "--ref" in err


def test_size_reports_presets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "size", "--text", "Комендантский час с 23:00 до 07:00.")
    assert code == 0 and "fits one packet" in out and "LONG_FAST" in out


def test_installed_command_runs(jarshy_home: Path) -> None:
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "relay.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0 and "compose" in result.stdout
