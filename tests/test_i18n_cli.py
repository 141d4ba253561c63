"""The CLI in the user's language against a real daemon on the simulated mesh: `status`, `read`
(lines and plain blocks), `inspect`, `send`, with no Python values in what a person reads and
every string from outside inert in every language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from relay.bundle import write_bundle
from relay.cli.status_text import status_lines
from relay.i18n import translate
from tests.daemon.conftest import Node, running
from tests.test_display_attacks import RANDOM_AUTHOR, assert_inert, forged_news
from tests.test_i18n import LONG_TEXT

# What must never reach a person: Python's reprs and epoch seconds.
LEAKS = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|[{}]|\[\]|\b\d{10}\b")
BOX_DRAWING = re.compile("[\u2500-\u257f]")
LINK_WORD = {"en": "link:", "ru": "связь:", "kk": "байланыс:"}


def no_leaks(text: str) -> None:
    leak = LEAKS.search(text)
    assert leak is None, f"{leak.group()!r} leaked into {text!r}"


def without_texts(out: str) -> str:
    """`read` lines up to their text (what the program says, not what authors wrote)."""
    return "\n".join(line.split("): ", 1)[0] for line in out.splitlines())


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
async def test_status_read_and_inspect_speak_the_language(tmp_path: Path, lang: str) -> None:
    async with running(tmp_path / "home") as node:
        await node.wait_for(lambda: _held(node, 3))
        status = await node.cli("status", JARSHY_LANG=lang)
        assert status.returncode == 0, status.stderr
        assert status.stdout.startswith(LINK_WORD[lang])
        no_leaks(status.stdout)
        read = await node.cli("read", "--limit", "10", JARSHY_LANG=lang)
        assert read.returncode == 0, read.stderr
        no_leaks(without_texts(read.stdout))
        words = [translate(s, lang) for s in ("trusted", "unknown_key", "invalid", "pending_key")]
        assert all(any(w in line for w in words) for line in read.stdout.splitlines())
        # --json stays the API's values, whatever the language
        exact = await node.cli("read", "--json", "--limit", "3", JARSHY_LANG=lang)
        assert all("status" in json.loads(line) for line in exact.stdout.splitlines())

        node.new_identity("Almaty Desk")
        packet = tmp_path / "b.bin"
        made = await node.cli("compose", "--text", "Су бар.", "--as", "Almaty Desk",
                              "--out", str(packet), JARSHY_LANG=lang)  # fmt: skip
        assert made.returncode == 0, made.stderr
        inspected = await node.cli("inspect", str(packet), JARSHY_LANG=lang)
        assert inspected.returncode == 0, inspected.stderr
        first, *rest = inspected.stdout.splitlines()
        assert first.startswith(translate("verdict_line", lang, verdict="✔", reason="")[:5])
        assert any(translate(s, lang) in first for s in ("trusted", "pending_key"))
        assert any(translate(k, lang) in first for k in ("why_root", "why_pending"))
        no_leaks("\n".join(line for line in rest if not line.startswith("    │")))
        assert translate("kind_news", lang) in inspected.stdout


async def _held(node: Node, n: int) -> bool:
    return len((await node.call("query", limit=n))["bulletins"]) >= n


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["ru", "kk"])
async def test_hostile_text_stays_inert_in_russian_and_kazakh(tmp_path: Path, lang: str) -> None:
    async with running(tmp_path / "home") as node:
        bundle = tmp_path / "stick.jarshy"
        bundle.write_bytes(write_bundle([forged_news()], []))
        assert (await node.call("import", path=str(bundle)))["accepted"] == 1
        for flags in ((), ("--plain",)):
            read = await node.cli("read", "--author", RANDOM_AUTHOR.hex(), *flags, JARSHY_LANG=lang)
            assert read.returncode == 0, read.stderr
            assert_inert(read.stdout)
            ours = [line for line in read.stdout.splitlines() if "Вода будет завтра" in line]
            assert len(ours) == 1  # its four lines shown as one, newlines as ↵
            assert "↵✔ TRUSTED safety [extreme]" in ours[0]
            pending = translate("pending_key", lang)
            if flags:  # the block's first line is the verdict word; the text is labelled
                block = read.stdout.split("\n\n")
                mine = next(b for b in block if "Вода будет завтра" in b)
                assert mine.lstrip("\n").startswith(f"{pending}:")
                assert ours[0].startswith(translate("f_text", lang).capitalize() + ": ")
            else:
                assert ours[0].startswith(f"… {pending} ")


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["en", "kk"])
async def test_plain_mode_is_words_in_labelled_blocks(tmp_path: Path, lang: str) -> None:
    async with running(tmp_path / "home") as node:
        await node.wait_for(lambda: _held(node, 3))
        for how in ({"flag": "--plain"}, {"JARSHY_PLAIN": "1"}):
            flag = [how["flag"]] if "flag" in how else []
            env = {k: v for k, v in how.items() if k != "flag"}
            read = await node.cli("read", "--limit", "5", *flag, JARSHY_LANG=lang, **env)
            assert read.returncode == 0, read.stderr
            assert not BOX_DRAWING.search(read.stdout) and not re.search("[✔✖…]", read.stdout)
            blocks = [b for b in read.stdout.split("\n\n") if b.strip()]
            assert len(blocks) >= 3
            verdicts = [translate(s, lang) for s in
                        ("trusted", "unknown_key", "pending_key", "revoked", "invalid")]  # fmt: skip
            for block in blocks:
                first, *fields = block.strip("\n").splitlines()
                assert first.split(":")[0] in verdicts  # the verdict as a word, first
                assert all(": " in f or _expiry_line(f, lang) for f in fields), block
                no_leaks("\n".join(f for f in fields if ": " in f and not _text_field(f, lang)))


def _expiry_line(line: str, lang: str) -> bool:
    """ "Expires in 3 hours", "Expired 5 minutes ago", "Does not expire" (its own label)."""
    said = [translate(k, lang, when="").split()[0] for k in ("expires_when", "expired_when")]
    said.append(translate("no_expiry", lang))
    return any(line.lower().startswith(s.lower()) for s in said)


def _text_field(line: str, lang: str) -> bool:
    return any(line.startswith(translate(k, lang).capitalize() + ": ")
               for k in ("f_text", "f_area", "f_event"))  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_text_of_several_packets_is_announced_before_it_is_sent(
    tmp_path: Path, lang: str
) -> None:
    async with running(tmp_path / "home") as node:
        node.new_identity("Almaty Desk")
        sent = await node.cli("send", "--text", LONG_TEXT, "--as", "Almaty Desk",
                              JARSHY_LANG=lang)  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        size = await node.call("size", kind="news", text=LONG_TEXT)
        packets = size["packets"]
        assert packets > 1
        note = sent.stderr.strip().splitlines()[-1]
        assert str(packets) in note and "LONG_FAST" in note
        seconds = f"{size['airtime_ms']['LONG_FAST'] / 1000:.1f}"
        assert (seconds if lang == "en" else seconds.replace(".", ",")) in note
        assert re.search(r"(\d+) (characters|симв)", note)
        short = await node.cli("send", "--text", "Су бар.", "--as", "Almaty Desk", JARSHY_LANG=lang)
        assert short.returncode == 0 and short.stderr == ""  # one packet: nothing to announce


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_status_shows_the_bridge_in_words(lang: str) -> None:
    base = {"link": {"state": "up", "address": "tcp:127.0.0.1:4403", "simulated": False},
            "uptime_s": 7200, "radio": None, "airtime": {"used_s": 1.5, "budget_s": 360,
            "window_s": 3600}, "queue": {"depth": 0}, "nodes": [], "counts": {"trusted": 2}}  # fmt: skip
    now = 1_796_461_380.0
    bridge = {"url": "mqtts://mqtt.example.org:8883", "state": "connecting", "since": now - 90,
              "queued": 4, "sent": 120, "received": 77, "rejected": 3, "last_error": None}  # fmt: skip
    lines = "\n".join(status_lines({**base, "bridge": bridge}, 1, now, lang))
    no_leaks(lines)
    assert translate("bridge_connecting", lang) in lines and "mqtt.example.org" in lines
    assert "120" in lines and "77" in lines
    failing = {**bridge, "state": "down", "last_error": "connection refused"}
    lines = "\n".join(status_lines({**base, "bridge": failing}, 1, now, lang))
    assert translate("bridge_down", lang) in lines and "connection refused" in lines
    off = "\n".join(status_lines({**base, "bridge": None}, 1, now, lang))
    assert translate("st_bridge_off", lang) in off
    assert "bridge" not in "\n".join(status_lines(base, 1, now, "en"))  # a daemon without one
