"""Terminal spoofing (threat model, "Display of untrusted text"): what a forger gets on screen.

Anyone with a radio can send a bulletin with a random author id and a junk signature; its text,
and the names in announcements and certificates, are the attacker's. These tests put such bytes
where the attacker does (a packet file for `inspect`, a bundle into a real daemon for `read`, the
store for `trust`) and read the real output: no control, format or bidi character of the text may
reach the terminal, each bulletin takes the lines it should, and no line at column 0 but the
genuine verdict may say TRUSTED.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from relay.cli import main
from relay.crypto.keys import Identity, encode_share, generate_identity
from relay.inert import inert_block
from relay.packets import to_packet_file
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from relay.wire.vectors import vectors
from tests.conftest import make_identity
from tests.helpers import T0, certificate

ANSI = "\x1b[2K\r\x1b[1A"
FAKE_VERDICT = "✔ TRUSTED safety [extreme] 2026-12-04 10:00 Almaty Newsroom (ru): Уходите!"
# A spoof the wire's text rules accept (docs/protocol.md §3): line breaks, a directional mark,
# markup-looking brackets.  Shown as 4 lines in multi-line views.
TEXT = f"Вода будет завтра.\n{FAKE_VERDICT}\u200f\n\n[bold]✔ TRUSTED[/bold]"
# One they refuse (escapes, a bidi override, a C1 control): refused on the way in, and inert
# wherever it is shown anyway (a store filled before the rules, another implementation).
ANSI_TEXT = f"Вода будет завтра.{ANSI}\n{FAKE_VERDICT}\x1b[1A\x1b[2K\u202e\x9b31m"
RANDOM_AUTHOR = bytes.fromhex("5eed5eed5eed5eed")
PLAIN_VERDICTS = ("TRUSTED: ", "UNKNOWN KEY: ", "PENDING: ", "REVOKED: ", "FORGED: ")
# Everything that must never reach a terminal from an untrusted string (newlines and tabs only
# as the structure the program itself prints: inert strings have neither).
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)


def forged(content: Content) -> bytes:
    """A bulletin as the attacker sends it: any author id, 64 bytes of junk for a signature."""
    return wire.encode_unsigned(content) + bytes(range(64))


def forged_news(text: str = TEXT) -> bytes:
    return forged(Content(Kind.NEWS, RANDOM_AUTHOR, T0, text, "ru"))


def signed_with_name(author: Identity, name: str) -> bytes:
    """A validly signed announcement carrying ``name`` even where the encoder refuses it: an
    attacker writes the bytes (a same-length placeholder swapped in, then signed)."""
    placeholder = "Q" * len(name.encode())
    content = Content(
        Kind.ANNOUNCEMENT, author.key_id, T0, subject_key=author.public_key, name=placeholder
    )
    unsigned = wire.encode_unsigned(content).replace(placeholder.encode(), name.encode())
    return unsigned + author.sign(wire.SIGNING_DOMAIN + unsigned)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert not UNSAFE.search(err)
    return code, out


def assert_inert(out: str) -> None:
    bad = UNSAFE.search(out)
    assert bad is None, f"{bad.group()!r} reached the terminal: {out!r}"


def column0_lines(out: str, word: str) -> list[str]:
    return [line for line in out.splitlines() if line[:1].strip() and word in line]


def test_inspect_shows_a_forged_text_indented_under_the_verdict(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packet = tmp_path / "forged.bin"
    packet.write_bytes(to_packet_file(forged_news()))
    code, out = run(capsys, "inspect", str(packet))
    assert code == 0
    assert_inert(out)
    lines = out.splitlines()
    assert lines[0].startswith("verdict: … PENDING")  # the verdict first, before any text
    assert column0_lines(out, "TRUSTED") == []
    text_lines = [line for line in lines if line.startswith("    │ ")]
    assert len(text_lines) == len(inert_block(TEXT)) == 4
    assert "\\u{200f}" in out  # shown, visibly, not obeyed


def test_inspect_of_terminal_escapes_is_inert_whatever_the_wire_rules_say(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packet = tmp_path / "forged.bin"
    packet.write_bytes(to_packet_file(forged_news(ANSI_TEXT)))
    code, out = run(capsys, "inspect", str(packet))
    assert_inert(out)
    assert column0_lines(out, "TRUSTED") == []
    first = out.splitlines()[0]
    if code == 0:  # the text decodes: shown, escaped, under the verdict
        assert first.startswith("verdict: … PENDING")
        assert len([line for line in out.splitlines() if line.startswith("    │ ")]) == 3
        assert "\\u{1b}[1A" in out and "\\u{202e}" in out
    else:  # the wire's text rules refuse it; the reason quotes nothing raw
        assert first.startswith("verdict: ✖ INVALID") and "bad-text" in first


def test_inspect_json_keeps_the_text_exact(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packet = tmp_path / "forged.bin"
    packet.write_bytes(to_packet_file(forged_news()))
    code, out = run(capsys, "inspect", str(packet), "--json")
    info = json.loads(out)
    assert code == 0 and info["text"] == TEXT  # machines get the exact text; escaping is for people
    assert info["verdict"] == "pending_key"


def test_an_announced_name_is_a_labelled_quoted_claim(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    liar = generate_identity("liar")
    announcement = Content(
        Kind.ANNOUNCEMENT, liar.key_id, T0, subject_key=liar.public_key, name="✔ TRUSTED Almaty"
    )
    news = wire.sign(Content(Kind.NEWS, liar.key_id, T0 + 1, "Тыныштық.", "kk"), liar)
    (tmp_path / "news.bin").write_bytes(to_packet_file(news.raw))
    from relay.cli.common import open_node

    with open_node() as node:
        node.ingest(wire.sign(announcement, liar).raw, T0 + 5, source="radio")
    code, out = run(capsys, "inspect", str(tmp_path / "news.bin"))
    assert code == 0
    assert_inert(out)
    assert out.splitlines()[0].startswith("verdict: ? UNKNOWN KEY")
    assert column0_lines(out, "TRUSTED") == ['claimed_name: "✔ TRUSTED Almaty"']


def test_an_announced_name_with_bidi_and_escapes_is_inert_whatever_the_wire_rules_say(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    liar = generate_identity("liar")
    name = "Almaty\u202e\x1b[2K\n✔ TRUSTED"
    raw = signed_with_name(liar, name)
    (tmp_path / "ann.bin").write_bytes(to_packet_file(raw))
    code, out = run(capsys, "inspect", str(tmp_path / "ann.bin"))
    assert_inert(out)
    first, *rest = out.splitlines()
    assert first.startswith(("verdict: ? UNKNOWN KEY", "verdict: ✖ INVALID"))
    assert column0_lines("\n".join(rest), "TRUSTED") == (
        ['name: "Almaty\\u{202e}\\u{1b}[2K↵✔ TRUSTED"'] if code == 0 else []
    )


def test_read_format_keeps_escapes_and_bidi_names_on_one_inert_line() -> None:
    """What `read` prints for a bulletin the daemon holds, whatever its text and claimed name."""
    from relay.cli.daemon import format_bulletin

    b = {"status": "unknown_key", "kind": "news", "created": T0, "author": RANDOM_AUTHOR.hex(),
         "lang": "ru", "text": ANSI_TEXT, "claimed_name": "Bank\u202e\u2066\x1b[31m\nX"}  # fmt: skip
    for plain in (False, True):
        line = format_bulletin(b, plain)
        assert_inert(line)
        assert "\n" not in line and line.startswith("unknown_key " if plain else "? UNKNOWN KEY ")
        assert 'claims: "Bank\\u{202e}\\u{2066}\\u{1b}[31m↵X"' in line


def test_certified_name_is_quoted_after_the_verdict(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, reporter = make_identity("root"), make_identity("reporter")
    today = int(time.time())  # `inspect` judges with the wall clock
    odd = certificate(root, reporter, name="[red]Reporter[/red] ✔", created=today)
    news = wire.sign(Content(Kind.NEWS, reporter.key_id, today, "Жаңалық.", "kk"), reporter)
    (tmp_path / "news.bin").write_bytes(to_packet_file(news.raw))
    code, out = run(capsys, "trust", "add", encode_share(root.public_key, "Root"))
    assert code == 0
    from relay.cli.common import open_node

    with open_node() as node:
        node.ingest(odd.raw, today, source="radio")
    code, out = run(capsys, "inspect", str(tmp_path / "news.bin"))
    assert_inert(out)
    assert out.splitlines()[0].startswith("verdict: ✔ TRUSTED")
    assert 'signer: "[red]Reporter[/red] ✔"' in out
    code, out = run(capsys, "trust", "list")
    assert_inert(out) and "Root" in out


def test_trust_add_of_a_share_keeps_a_typed_name_inert(
    jarshy_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    someone = make_identity("someone")
    code, out = run(capsys, "trust", "add", encode_share(someone.public_key, "S"), "--name",
                    "Bank\u202e\x1b[31m")  # fmt: skip
    assert code == 0
    assert_inert(out)
    code, out = run(capsys, "trust", "list")
    assert_inert(out) and "Bank\\u{202e}\\u{1b}[31m" in out


def test_inspect_checks_the_signature_before_the_text(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/protocol.md §7: a bit flipped in the text blob is a bad signature, not bad text."""
    keys, *items = vectors()
    root = bytes.fromhex(keys["keys"]["root"]["public_key"])  # type: ignore[index]
    by_name = {str(item["name"]): item for item in items}
    code, _ = run(capsys, "trust", "add", encode_share(root, "root"))
    from relay.cli.common import open_node

    with open_node() as node:  # alice's key arrives with her certificate
        node.ingest(bytes.fromhex(str(by_name["certificate root->alice"]["bytes"])), T0, "test")
    flipped = by_name["news by alice with bit 0 of byte 20 flipped"]
    assert flipped["verdict"] == "invalid (bad signature)"
    packet = tmp_path / "flipped.bin"
    packet.write_bytes(bytes.fromhex(str(flipped["bytes"])))
    code, out = run(capsys, "inspect", str(packet))
    assert code == 1
    assert out.splitlines()[0] == "verdict: ✖ INVALID — signature does not match the author's key"
    assert "bad-text" not in out
    code, out = run(capsys, "inspect", str(packet), "--json")
    info = json.loads(out)
    assert code == 1 and info["verdict"] == "invalid" and "signature" in info["verdict_reason"]
    assert "text" not in info  # a forgery's text is never decoded


def test_inspect_json_keeps_a_revocations_own_reason(
    jarshy_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = make_identity("victim")
    content = Content(Kind.REVOCATION, victim.key_id, T0, revoked=victim.key_id, reason="retired")
    packet = tmp_path / "rev.bin"
    packet.write_bytes(to_packet_file(wire.sign(content, victim).raw))
    code, out = run(capsys, "inspect", str(packet), "--json")
    info = json.loads(out)
    assert info["reason"] == "retired"  # the revocation's field
    assert info["verdict"] == "pending_key" and "not known" in info["verdict_reason"]
    code, out = run(capsys, "inspect", str(packet))
    assert code == 0 and 'reason: "retired"' in out and out.startswith("verdict: … PENDING")


def test_read_prints_one_inert_line_per_bulletin(tmp_path: Path) -> None:
    """`jarshy read` against a real daemon that took the forgery from a bundle (a USB stick)."""
    from relay.bundle import write_bundle
    from tests.daemon.conftest import start_daemon

    daemon = start_daemon(tmp_path / "home", "--simulate")
    try:
        bundle = tmp_path / "stick.jarshy"
        bundle.write_bytes(write_bundle([forged_news()], []))
        assert daemon.call("import", path=str(bundle))["accepted"] == 1  # type: ignore[index]
        # (the daemon's in-memory forgeries ignore --author: seen while writing this test)
        badges = ("✔ TRUSTED", "? UNKNOWN KEY", "… PENDING", "✖ REVOKED", "✖ FORGED")
        read = daemon.cli("read", "--author", RANDOM_AUTHOR.hex())
        assert read.returncode == 0, read.stderr
        assert_inert(read.stdout)
        lines = read.stdout.splitlines()
        # every line begins with a verdict; ours is one line, its newlines shown as ↵
        assert all(line.startswith(badges) for line in lines)
        ours = [line for line in lines if RANDOM_AUTHOR.hex() in line]
        assert len(ours) == 1 and ours[0].startswith("… PENDING ")
        assert "↵✔ TRUSTED safety [extreme]" in ours[0]
        # --plain (screen readers): a block per bulletin, its first line the verdict as a word;
        # the forged verdict inside the text never starts a line of its own
        plain = daemon.cli("read", "--author", RANDOM_AUTHOR.hex(), "--plain")
        assert plain.returncode == 0, plain.stderr
        assert_inert(plain.stdout)
        blocks = [block.strip("\n") for block in plain.stdout.split("\n\n") if block.strip()]
        assert blocks and all(block.startswith(PLAIN_VERDICTS) for block in blocks)
        assert not any(line.lstrip().startswith("✔") for line in plain.stdout.splitlines())
        ours = [block for block in blocks if "↵✔ TRUSTED safety [extreme]" in block]
        assert len(ours) == 1 and ours[0].startswith("PENDING: ")
        exact = daemon.cli("read", "--json", "--author", RANDOM_AUTHOR.hex())
        ours = [json.loads(line) for line in exact.stdout.splitlines()]
        assert [b["text"] for b in ours if b["author"] == RANDOM_AUTHOR.hex()] == [TEXT]
    finally:
        daemon.stop()


def test_logs_quote_received_strings_inertly(caplog: pytest.LogCaptureFixture) -> None:
    """relay/logs.py: a rejection reason or radio name from outside cannot forge log lines."""
    import logging

    from relay.logs import _InertFormatter, _JournalFormatter

    record = logging.LogRecord(
        "jarshy.daemon", logging.INFO, __file__, 1,
        "rejected a bulletin from the radio: %s (%d)\nnext", (f"bad{ANSI}\n<3>FAKE\u202e", 7), None,
    )  # fmt: skip
    terminal = _InertFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    journal = _JournalFormatter("%(name)s: %(message)s").format(record)
    for out in (terminal, journal):
        assert_inert(out)
        assert len(out.splitlines()) == 2  # the program's own newline, not the radio's
        assert "bad\\u{1b}[2K↵\\u{1b}[1A↵<3>FAKE\\u{202e} (7)" in out
    assert journal.splitlines()[1] == "<6>next"
    try:
        raise ValueError(f"undecodable {ANSI}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert_inert(_InertFormatter().format(record))


def test_read_folds_for_a_terminal_so_no_padding_reaches_column_0() -> None:
    """A text padded so that the terminal's own wrap would put a fake verdict at column 0."""
    from relay.cli.daemon import fold, format_bulletin

    b = {"status": "pending_key", "kind": "news", "created": T0, "author": RANDOM_AUTHOR.hex(),
         "lang": "ru", "text": "x" * 80 + FAKE_VERDICT + "Ұ" * 200}  # fmt: skip
    lines = fold(format_bulletin(b), 80)
    assert len(lines) > 3 and lines[0].startswith("… PENDING")
    assert all(line.startswith("    ") for line in lines[1:])
    assert "".join(line.removeprefix("    ") for line in lines) == format_bulletin(b)
