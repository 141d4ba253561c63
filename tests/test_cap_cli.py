"""`jarshy compose --from-cap` and `jarshy export --cap` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema

import relay.cli.bulletins
import relay.cli.bundle
import relay.cli.cap
from relay.cap.export import SCHEMA_PATH
from relay.cap.parse import MAX_CAP_BYTES, parse_alert
from relay.cap.words import parse_time
from relay.cli import main
from relay.cli.common import open_node
from tests.conftest import make_identity
from tests.helpers import safety

DATA = Path(__file__).parent / "data" / "cap"
SCHEMA = xmlschema.XMLSchema(SCHEMA_PATH)
SENT = parse_time(parse_alert((DATA / "evacuation.xml").read_bytes()).sent)


@pytest.fixture
def home(
    jarshy_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A home with one identity, its clock at the evacuation sample's sending time."""
    for module in (relay.cli.bulletins, relay.cli.bundle, relay.cli.cap):
        monkeypatch.setattr(module, "now", lambda: float(SENT + 60))
    assert main(["keys", "new", "Civil Protection"]) == 0
    capsys.readouterr()
    return jarshy_home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def bulletin_id(out: str) -> str:
    return (
        next(line for line in out.splitlines() if line.startswith("bulletin "))
        .split()[1]
        .rstrip(":")
    )


def test_an_agency_alert_becomes_a_signed_bulletin_and_goes_back_out_as_valid_cap(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packet = tmp_path / "evac.bin"
    code, out, err = run(capsys, "compose", "--from-cap", str(DATA / "evacuation.xml"),
                         "--out", str(packet), "--yes")  # fmt: skip
    assert code == 0, err
    assert 'event: "evacuation"' in out and "point: 43.23800,76.94500 radius 500 m" in out
    assert "expires: in 5 h 59 min" in out and "<category> Fire (one is carried)" in out
    alert_id = bulletin_id(out)
    code, out, _ = run(capsys, "inspect", str(packet), "--json")
    info = json.loads(out)
    assert info["safety"]["severity"] == "extreme" and info["lifetime"] == 6 * 3600 - 60

    document = tmp_path / "out.xml"
    code, out, err = run(capsys, "export", "--cap", alert_id[:8], "--out", str(document))
    assert code == 0, err
    SCHEMA.validate(str(document))
    assert parse_alert(document.read_bytes()).infos[0].areas[0].circles == (
        "43.23800,76.94500 0.5",
    )
    code, out, _ = run(capsys, "export", "--cap", alert_id, "--out", "-")
    assert code == 0 and out.startswith("<?xml") and f"urn:jarshy:bulletin:{alert_id}" in out

    # The agency cancels: the file names its own alert, so the operator names the bulletin.
    cancel = str(DATA / "cancel.xml")
    code, _, err = run(
        capsys, "compose", "--from-cap", cancel, "--out", str(tmp_path / "c.bin"), "--yes"
    )
    assert code == 2 and "--ref" in err
    code, out, err = run(capsys, "compose", "--from-cap", cancel, "--ref", alert_id,
                         "--out", str(tmp_path / "c.bin"), "--yes")  # fmt: skip
    assert code == 0, err
    assert "kind: retraction" in out
    folder = tmp_path / "cap"
    code, out, _ = run(capsys, "export", "--cap", "all", "--out", str(folder))
    assert code == 0 and "exported 2 CAP alerts" in out
    documents = sorted(folder.glob("*.xml"))
    for path in documents:
        SCHEMA.validate(str(path))
    kinds = sorted(parse_alert(p.read_bytes()).msg_type for p in documents)
    assert kinds == ["Alert", "Cancel"]


def test_nothing_is_signed_without_a_yes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    packet = tmp_path / "evac.bin"
    argv = ("compose", "--from-cap", str(DATA / "evacuation.xml"), "--out", str(packet))
    code, out, err = run(capsys, *argv)  # no terminal: refused, never a silent yes
    assert code == 2 and "--yes" in err and "kind: safety" in out and not packet.exists()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "not signed" in out and not packet.exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and packet.exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>', "refused"),
        (b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>', "refused"),
        (b"<alert>", "not well-formed"),
        (b" " * (MAX_CAP_BYTES + 1), "more than"),
    ],
)
def test_a_hostile_file_is_one_clear_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str
) -> None:
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(content)
    code, _, err = run(
        capsys, "compose", "--from-cap", str(hostile), "--out", str(tmp_path / "x"), "--yes"
    )
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err


def test_content_flags_do_not_mix_with_a_cap_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "compose", "--from-cap", str(DATA / "evacuation.xml"), "--text", "x",
                       "--severity", "minor", "--out", str(tmp_path / "x"), "--yes")  # fmt: skip
    assert code == 2 and "--text, --severity cannot be combined" in err


def test_only_trusted_or_own_bulletins_are_exported(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = safety(make_identity("stranger"), created=SENT)
    with open_node() as node:
        node.ingest(stranger.raw, SENT + 60, source="bundle")
    code, _, err = run(
        capsys, "export", "--cap", stranger.id.hex(), "--out", str(tmp_path / "s.xml")
    )
    assert code == 2 and "only trusted bulletins and your own" in err
    code, out, _ = run(capsys, "export", "--cap", "all", "--out", str(tmp_path / "all"))
    assert code == 0 and "exported 0 CAP alerts" in out
    code, _, err = run(capsys, "export", "--cap", "12", "--out", "-")
    assert code == 2 and "at least 6 hex digits" in err
    code, _, err = run(capsys, "export", "--cap", "all", "--out", "-")
    assert code == 2 and "give a directory" in err


def test_a_device_is_refused_unread(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "compose", "--from-cap", "/dev/zero", "--out", str(tmp_path / "x"), "--yes"
    )
    assert code == 2 and "not a regular file" in err
