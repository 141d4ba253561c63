"""Provisioning gives a relay the newsroom keys it trusts (`--trust`, `--trust-file`, a profile's
``trust_files``), into this node's real store, against emulated radios through the real meshtastic
library; trust files are parsed as hostile input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from relay.cli import main
from relay.crypto.keys import encode_share, fingerprint, key_id
from relay.provision.channel import make_url
from relay.provision.profiles import ROOT as PROFILES
from relay.provision.trust_file import (
    MAX_FILE_BYTES,
    MAX_KEYS,
    TrustFileError,
    parse_trust_file,
    write_trust_file,
)
from relay.store import Store
from tests.conftest import make_identity

URL = make_url("Jarshy", bytes(range(32)), region="KZ_863", tx_power=14, add=True)
DESK = make_identity("Almaty desk")
EDITOR = make_identity("Field editor")
SHARE = encode_share(DESK.public_key, "Almaty desk")
EDITOR_SHARE = encode_share(EDITOR.public_key, "Field editor")


def provision(address: str, *extra: str, profile: str = "portable-relay") -> int:
    return main(["radio", "provision", "--profile", profile, "--region", "KZ_863", "--radio",
                 address, "--channel-url", URL, "--reboot-wait", "0", *extra])  # fmt: skip


def roots(home: Path) -> dict[bytes, str]:
    database = home / "jarshy.sqlite3"
    if not database.exists():
        return {}
    store = Store(database)
    try:
        return {kid: name for kid, _, name in store.roots()}
    finally:
        store.close()


def trust_file(tmp_path: Path, *shares: str, name: str = "desk.trust") -> Path:
    path = tmp_path / name
    path.write_text("# published by the Almaty desk\njarshy-trust 1\n\n" + "\n".join(shares) + "\n")
    return path


def test_provisioning_trusts_the_newsroom_keys_given_and_says_to_check_them(
    radio: Callable[..., Any], node_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="UNSET")
    file = trust_file(tmp_path, EDITOR_SHARE, SHARE)  # the desk twice: trusted once
    assert provision(r.address, "--trust", SHARE, "--trust-file", str(file)) == 0
    out = capsys.readouterr().out
    assert f"trusting Almaty desk ({fingerprint(DESK.public_key)}) from --trust" in out
    assert f"trusting Field editor ({fingerprint(EDITOR.public_key)}) from {file} line 4" in out
    assert out.count("check this fingerprint with the newsroom") == 2
    assert "WARNING" not in out
    assert roots(node_home) == {key_id(DESK.public_key): "Almaty desk",
                                key_id(EDITOR.public_key): "Field editor"}  # fmt: skip
    assert r.admin.commits == 1  # and the radio was provisioned
    assert provision(r.address) == 0  # again: nothing to change, and still trusting both
    out = capsys.readouterr().out
    assert "nothing to change" in out and "this node trusts 2 key(s)" in out
    assert len(roots(node_home)) == 2


def test_a_relay_that_trusts_nobody_is_warned_a_receiver_is_not(
    radio: Callable[..., Any], node_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="CLIENT", region="UNSET")
    assert provision(r.address) == 0
    assert "WARNING: this relay trusts no newsroom key" in capsys.readouterr().out
    assert not (node_home / "jarshy.sqlite3").exists()  # nothing to trust: no store made
    other = radio(0x4A000002, role="CLIENT", region="UNSET")
    assert provision(other.address, profile="resident-receiver") == 0
    assert "WARNING" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--trust", SHARE[:-1] + ("A" if SHARE[-1] != "A" else "B")], "not a share string"),
        (["--trust", "hello"], "not a share string"),
        (["--trust-file", "missing.trust"], "no such file"),
    ],
)
def test_a_bad_key_refuses_everything_before_the_radio_is_touched(
    radio: Callable[..., Any], node_home: Path, capsys: pytest.CaptureFixture[str],
    extra: list[str], message: str,
) -> None:  # fmt: skip
    r = radio(role="ROUTER", region="UNSET")
    assert provision(r.address, "--trust", EDITOR_SHARE, *extra) != 0
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert r.admin.commits == 0 and roots(node_home) == {}


def test_a_profile_names_its_trust_files_and_dry_run_trusts_nothing(
    radio: Callable[..., Any], node_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust_file(tmp_path, SHARE)
    profile = yaml.safe_load((PROFILES / "profiles" / "rooftop-relay.yaml").read_text())
    profile["trust_files"] = ["desk.trust"]  # next to the profile
    mine = tmp_path / "almaty-roof.yaml"
    mine.write_text(yaml.safe_dump(profile))
    r = radio(role="ROUTER", region="UNSET")
    assert provision(r.address, "--dry-run", profile=str(mine)) == 0
    assert "dry run: would trust Almaty desk" in capsys.readouterr().out
    assert roots(node_home) == {}
    assert provision(r.address, profile=str(mine)) == 0
    assert f"from {tmp_path / 'desk.trust'} line 4" in capsys.readouterr().out
    assert roots(node_home) == {key_id(DESK.public_key): "Almaty desk"}
    profile["trust_files"] = "desk.trust"
    mine.write_text(yaml.safe_dump(profile))
    assert provision(r.address, profile=str(mine)) != 0
    assert "trust_files: must be a list of paths" in capsys.readouterr().err


def test_a_written_trust_file_parses_back() -> None:
    text = write_trust_file([decode(SHARE), decode(EDITOR_SHARE)], "Almaty, December")
    keys = parse_trust_file(text.encode(), "desk.trust")
    assert [k.key.public_key for k in keys] == [DESK.public_key, EDITOR.public_key]
    assert fingerprint(DESK.public_key) in text and text.startswith("jarshy-trust 1\n")


def decode(share: str) -> Any:
    from relay.crypto.keys import decode_share

    return decode_share(share)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"# only a comment\n", "empty"),
        (SHARE.encode() + b"\n", "line 1: a trust file starts with 'jarshy-trust 1'"),
        (b"jarshy-trust 2\n" + SHARE.encode(), "starts with 'jarshy-trust 1'"),
        (b"jarshy-trust 1\n" + SHARE.encode() + b"\njarshy:AAAA\n", "line 3: not a share string"),
        (b"jarshy-trust 1\n\xff\xfe", "not UTF-8"),
        (b"jarshy-trust 1\n" + b"x" * 5000, "line 2: 5000 characters is too long"),
        (b"jarshy-trust 1\n" + b"#" * (MAX_FILE_BYTES + 1), "more than"),
        (b"jarshy-trust 1\n\x1b[2J" + SHARE.encode(), "line 2: not a share string"),
    ],
)
def test_hostile_trust_files_are_refused_whole_with_the_line(data: bytes, message: str) -> None:
    with pytest.raises(TrustFileError, match=None) as refused:
        parse_trust_file(data, "desk.trust")
    text = str(refused.value)
    assert message in text and text.startswith("desk.trust") and "\x1b" not in text


def test_a_trust_file_holds_a_bounded_number_of_keys() -> None:
    shares = [encode_share(make_identity(f"k{i}").public_key, f"k{i}") for i in range(MAX_KEYS)]
    body = "jarshy-trust 1\n" + "\n".join(shares) + "\n"
    assert len(parse_trust_file(body.encode(), "big.trust")) == MAX_KEYS
    extra = encode_share(make_identity("one more").public_key)
    with pytest.raises(TrustFileError, match=f"more than {MAX_KEYS} keys"):
        parse_trust_file((body + extra).encode(), "big.trust")


async def test_keys_go_to_the_real_store_while_a_simulated_daemon_runs(
    radio: Callable[..., Any], node_home: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import asyncio

    from tests.daemon.conftest import running

    async with running(node_home) as daemon:  # on the simulated mesh, its own store
        monkeypatch.setenv("JARSHY_SOCKET", str(daemon.socket))
        r = radio(role="ROUTER", region="UNSET")
        assert await asyncio.to_thread(provision, r.address, "--trust", SHARE) == 0
        assert "trusting Almaty desk" in capsys.readouterr().out
        simulated = {row["name"] for row in await daemon.call("trust.list")}
    assert "Almaty desk" not in simulated  # the simulation's trust stays apart
    assert roots(node_home) == {key_id(DESK.public_key): "Almaty desk"}


def test_a_newsroom_writes_the_trust_file_relays_read(
    node_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARSHY_KDF", "fast")
    monkeypatch.setenv("JARSHY_PASSPHRASE", "tea river lamp otrar 1987")
    for name in ("Almaty desk", "Field editor"):
        assert main(["keys", "new", name]) == 0
    capsys.readouterr()
    assert main(["keys", "share", "--trust-file"]) == 0
    text = capsys.readouterr().out
    keys = parse_trust_file(text.encode(), "desk.trust")
    assert [k.name for k in keys] == ["Almaty desk", "Field editor"]
    assert all(k.key.fingerprint in text for k in keys)  # to read out loud
    assert main(["keys", "share", "Field editor", "--trust-file"]) == 0
    one = parse_trust_file(capsys.readouterr().out.encode(), "editor.trust")
    assert [k.name for k in one] == ["Field editor"]
