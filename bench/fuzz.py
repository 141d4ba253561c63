"""Fuzzing campaign: every parser and policy that eats bytes or strings from strangers.

Targets (each a seeded mutational fuzzer over a corpus of valid inputs built once, plus pure noise):
  * ``wire``      – ``wire.parse`` / ``open_text`` / ``decode`` / ``verify`` on mutated bulletins of
                    every kind; a mutated bulletin that still parses must never verify with its
                    author's key; decoded bulletins are also rendered as ``jarshy inspect`` does;
  * ``fragments`` – ``fragments.parse`` and a long-lived ``Reassembler`` fed mutated, shuffled,
                    duplicated fragments from many sources; its byte bound must hold after every
                    packet and anything it completes must hash to the id its fragments carried;
  * ``trust``     – ``TrustState.learn`` + ``trust.evaluate`` on random certificate, revocation and
                    announcement graphs (a pool of real keys and signed key bulletins built once,
                    then random roots, subsets, orders and clocks): verdicts must not depend on the
                    order bulletins were learned in, and a trusted verdict names a chain to a root;
  * ``render``    – the CLI's text rendering (``format_bulletin``, ``fold``, ``describe_lines``)
                    and ``relay.inert`` on hostile strings (controls, bidi, surrogates, line
                    breaks, wide and combining characters): the output holds no control, format or
                    line-break character, and the verdict badge comes first;
  * ``api``       – the local API's request reader and parser (``ApiServer._serve`` on an in-memory
                    stream, fed in random chunks): every reply is one JSON object with ``id`` and
                    ``result`` or ``error``, and never ``internal``.

A crash is an exception other than the target's documented error type (``WireError`` for the
decoders, none elsewhere); a violation is a broken invariant above.  Each input is generated from
``(seed, target, index)``, so ``--repro TARGET:INDEX --seed S`` replays one.  Memory is reported as
the process's max RSS (``resource.getrusage``).

Run ``python bench/fuzz.py`` (the full campaign, >= 1,000,000 inputs, ~15 min on one core),
``--quick`` (a few seconds), ``--json`` (one JSON object), ``--scale F``, ``--targets wire,api``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import random
import re
import resource
import sys
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.crypto.keys import Identity  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from relay.wire import fragments  # noqa: E402
from relay.wire.errors import WireError  # noqa: E402
from relay.wire.fields import (  # noqa: E402
    ALL_CONTENT_KINDS,
    CERTIFY_BIT,
    MAX_LIFETIME,
    Content,
    Kind,
    SafetyInfo,
)

T0 = 1_780_000_000  # a fixed "now" for corpora, so runs are reproducible
DAY = 86_400

# full-campaign budgets (inputs per target); --quick divides them by QUICK
BUDGETS = {"wire": 350_000, "fragments": 200_000, "trust": 20_000, "render": 150_000,
           "api": 280_000}  # fmt: skip
WARMUP = 100  # the first inputs of a target pay one-time loads (dictionaries, tables): not timed
QUICK = 200


def max_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(usage / 1024 / (1024 if sys.platform == "darwin" else 1), 1)


def rng_for(seed: int, target: str, index: int) -> random.Random:
    salt = sum((i + 1) * ord(c) for i, c in enumerate(target))
    return random.Random((seed * 1_000_003 + salt) * 10_000_019 + index)


class Violation(AssertionError):
    """A broken invariant (not a crash): the target ran, but its output is wrong."""


# -- mutation ----------------------------------------------------------------------------------

INTERESTING = (
    0x00,
    0x01,
    0x7F,
    0x80,
    0xFF,
    0x17,
    0x18,
    0x19,
    0x1A,
    0x1B,
    0x1F,
    0x20,
    0x40,
    0x5F,
    0x60,
    0x78,
    0x7B,
    0x9F,
    0xA0,
    0xBF,
    0xF4,
    0xF5,
    0xF6,
    0xF7,
    0xF9,
    0xFA,
    0xFB,
)  # fmt: skip  (CBOR major types, lengths, simple values, floats)


def mutate(rng: random.Random, corpus: list[bytes], max_len: int = 4096) -> bytes:
    """A corpus entry with 1-8 random edits, a splice of two, or pure noise."""
    roll = rng.random()
    if roll < 0.03:
        return rng.randbytes(rng.randrange(0, max_len))
    data = bytearray(rng.choice(corpus))
    if roll < 0.10:
        other = rng.choice(corpus)
        cut = rng.randrange(len(data) + 1)
        data = data[:cut] + other[rng.randrange(len(other) + 1) :]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 8))):
        n = len(data)
        op = rng.randrange(11)
        if n == 0 or op == 0:
            data[rng.randrange(n + 1) : rng.randrange(n + 1)] = rng.randbytes(rng.randrange(1, 9))
        elif op == 1:
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 2:
            data[rng.randrange(n)] = rng.randrange(256)
        elif op == 3:
            data[rng.randrange(n)] = rng.choice(INTERESTING)
        elif op == 4:
            i = rng.randrange(n)
            del data[i : i + rng.randrange(1, 17)]
        elif op == 5:
            i = rng.randrange(n)
            chunk = data[i : i + rng.randrange(1, 33)]
            j = rng.randrange(n + 1)
            data[j:j] = chunk
        elif op == 6:
            del data[rng.randrange(n) :]
        elif op == 7:
            i = rng.randrange(n)
            data[i : i + 2] = rng.randrange(65536).to_bytes(2, "big")
        elif op == 8:
            i = rng.randrange(n)
            data[i : i + 4] = rng.choice((0, 1, 2**31 - 1, 2**31, 2**32 - 1, T0)).to_bytes(4, "big")
        elif op == 9:
            i = rng.randrange(n)
            data[i:i] = bytes([rng.choice(INTERESTING)]) * rng.randrange(1, 64)
        else:
            i, j = rng.randrange(n), rng.randrange(n)
            data[i], data[j] = data[j], data[i]
    return bytes(data[:max_len])


# -- the key pool ------------------------------------------------------------------------------


def identity(name: str) -> Identity:
    import hashlib

    return Identity(name, hashlib.sha256(b"jarshy-fuzz:" + name.encode()).digest())


@dataclass
class Pool:
    """Keys and signed bulletins built once for every target."""

    keys: list[Identity]
    key_bulletins: list[wire.Bulletin]  # certificates, revocations, announcements
    content: list[wire.Bulletin]  # news, safety, corrections by every key
    public: dict[bytes, bytes] = field(default_factory=dict)  # key id -> public key

    @property
    def all_raw(self) -> list[bytes]:
        return [b.raw for b in self.key_bulletins + self.content]


def build_pool(n_keys: int = 10) -> Pool:
    rng = random.Random(20_260_101)
    keys = [identity(f"key{i}") for i in range(n_keys)]
    texts = ["Су жоқ. Вода будет завтра с 10:00.", "Power is back in Almaty.",
             "Көшеде өрт! Уходите на север.", "", "x" * 600,
             " ".join(str(i * 7919 % 10007) for i in range(120))]  # fmt: skip
    content: list[wire.Bulletin] = []
    for i, key in enumerate(keys):
        news = wire.sign(Content(Kind.NEWS, key.key_id, T0 - i, texts[i % len(texts)] or "да",
                                 "ru", lifetime=DAY), key)  # fmt: skip
        content.append(news)
        content.append(wire.sign(Content(
            Kind.SAFETY, key.key_id, T0, texts[(i + 2) % len(texts)] or "fire", "kk",
            lifetime=3600, safety=SafetyInfo("fire", "fire", "extreme", "immediate", "observed",
                                             "Алматы, Абай", (4323800, 7694500, 500), "txwt")),
            key))  # fmt: skip
        content.append(wire.sign(Content(Kind.CORRECTION, key.key_id, T0 + 60, "Уточнение.",
                                         "ru", ref=news.id), key))  # fmt: skip
        content.append(wire.sign(Content(Kind.RETRACTION, key.key_id, T0 + 90, "", "und",
                                         ref=news.id), key))  # fmt: skip
    key_bulletins: list[wire.Bulletin] = []
    for key in keys:
        key_bulletins.append(
            wire.sign(
                Content(
                    Kind.ANNOUNCEMENT, key.key_id, T0, subject_key=key.public_key, name=key.name
                ),
                key,
            )
        )
    for issuer in keys:
        for subject in keys:
            for _ in range(3):
                kinds = rng.choice((ALL_CONTENT_KINDS, 1 << Kind.NEWS, 1 << Kind.SAFETY, 0,
                                    ALL_CONTENT_KINDS | CERTIFY_BIT, CERTIFY_BIT))  # fmt: skip
                created = T0 + rng.choice((-500 * DAY, -100 * DAY, -DAY, 0, 3600, 30 * DAY))
                lifetime = rng.choice((3600, 90 * DAY, MAX_LIFETIME))
                key_bulletins.append(wire.sign(Content(
                    Kind.CERTIFICATE, issuer.key_id, created, subject_key=subject.public_key,
                    name=rng.choice((subject.name, issuer.name, "Newsroom", "Алия")),
                    kinds=kinds, lifetime=lifetime), issuer))  # fmt: skip
            reason = rng.choice(("compromised", "superseded", "retired", "unspecified"))
            created = T0 + rng.choice((-DAY, 0, 3600, 30 * DAY))
            key_bulletins.append(
                wire.sign(
                    Content(
                        Kind.REVOCATION,
                        issuer.key_id,
                        created,
                        revoked=subject.key_id,
                        reason=reason,
                    ),
                    issuer,
                )
            )
    pool = Pool(keys, key_bulletins, content)
    pool.public = {k.key_id: k.public_key for k in keys}
    return pool


# -- targets -----------------------------------------------------------------------------------


class Target:
    name = ""
    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.outcomes: Counter[str] = Counter()

    def generate(self, rng: random.Random) -> Any:
        raise NotImplementedError

    def run(self, value: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class WireTarget(Target):
    name = "wire"
    errors = (WireError,)

    def __init__(self, pool: Pool) -> None:
        super().__init__(pool)
        self.corpus = pool.all_raw
        self.originals = set(self.corpus)
        self.describe, self.describe_lines = _inspect_renderers()
        for raw in self.corpus:  # warm up: codec dictionaries load on first use
            wire.decode(raw)

    def generate(self, rng: random.Random) -> bytes:
        return mutate(rng, self.corpus, wire.MAX_BULLETIN + 64)

    def run(self, data: bytes) -> None:
        try:
            envelope = wire.parse(data)
        except WireError as exc:
            self.outcomes[f"parse:{exc.code}"] += 1
            refused = exc
        else:
            refused = None
        if refused is not None:
            with contextlib.suppress(WireError):
                wire.decode(data)
                raise Violation("decode accepted what parse refused")
            return
        public = self.pool.public.get(envelope.author)
        if public is not None and data not in self.originals and wire.verify(envelope, public):
            raise Violation("a mutated bulletin verified with its author's key")
        wire.verify(envelope, data[:32].ljust(32, b"\0"))  # any 32 bytes: False, never raises
        try:
            bulletin = wire.open_text(envelope)
        except WireError as exc:
            self.outcomes[f"text:{exc.code}"] += 1
            return
        if wire.decode(data).content != bulletin.content:
            raise Violation("decode and parse + open_text disagree")
        self.outcomes["decoded"] += 1
        for line in self.describe_lines(self.describe(bulletin)):
            _check_line(line, "inspect")


class FragmentsTarget(Target):
    name = "fragments"
    errors = (WireError,)

    def __init__(self, pool: Pool) -> None:
        super().__init__(pool)
        sets = [
            fragments.split(raw) for raw in pool.all_raw if len(raw) > fragments.FRAGMENT_DATA_MAX
        ]
        sets += [fragments.split(raw, repair=False) for raw in pool.all_raw[-4:]]
        self.sets = [s for s in sets if len(s) > 1]
        self.corpus = [p for s in self.sets for p in s]
        self.kwargs = _accepted(fragments.Reassembler().add, ("source", "favoured"))
        self.bounds = _accepted(
            fragments.Reassembler,
            ("max_pending", "max_bytes", "max_age", "max_per_source", "max_source_bytes"),
        )

    def generate(self, rng: random.Random) -> dict[str, Any]:
        """A session: a fresh reassembler (default or tight bounds) and 1-5 fragment sets from a
        few sources, interleaved, some fragments mutated, duplicated or pure noise."""
        bounds = {}
        if rng.random() < 0.5:
            bounds = {"max_pending": rng.randrange(1, 9), "max_bytes": rng.randrange(200, 5000),
                      "max_age": rng.choice((30.0, 600.0)), "max_per_source": rng.randrange(1, 5),
                      "max_source_bytes": rng.randrange(200, 3000)}  # fmt: skip
        out: list[tuple[bytes, int, bool, float]] = []
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            source, favoured = rng.randrange(4), rng.random() < 0.2
            packets = list(rng.choice(self.sets))
            if rng.random() < 0.5:
                rng.shuffle(packets)
            for packet in packets[: rng.randrange(1, len(packets) + 1)]:
                if rng.random() < 0.3:
                    packet = mutate(rng, [packet], fragments.FRAGMENT_HEADER + 300)
                step = rng.choice((0.0, 1.0, 60.0))
                out.append((packet, source, favoured, step))
                if rng.random() < 0.1:
                    out.append(out[-1])  # a duplicate
        if rng.random() < 0.1:
            out.append((rng.randbytes(rng.randrange(240)), rng.randrange(1000), False, 0.0))
        if rng.random() < 0.5:
            rng.shuffle(out)
        return {"bounds": bounds, "packets": out}

    def run(self, session: dict[str, Any]) -> None:
        r = fragments.Reassembler(
            **{k: v for k, v in session["bounds"].items() if k in self.bounds}
        )
        now = float(T0)
        for packet, source, favoured, step in session["packets"]:
            now += step
            kw: dict[str, Any] = {}
            if "source" in self.kwargs:
                kw["source"] = source
            if "favoured" in self.kwargs:
                kw["favoured"] = favoured
            try:
                done = r.add(packet, now, **kw)
            except WireError as exc:
                self.outcomes[f"parse:{exc.code}"] += 1
                continue
            if r.pending_bytes > r.max_bytes:
                raise Violation(f"pending {r.pending_bytes} bytes > bound {r.max_bytes}")
            if done is not None:
                raw = getattr(done, "raw", done)
                carried = packet[1 : 1 + wire.ID_LEN]
                if wire.bulletin_id(raw[: -wire.SIGNATURE_LEN]) != carried:
                    raise Violation("completed bulletin does not hash to its fragments' id")
                self.outcomes["completed"] += 1
            else:
                self.outcomes["pending"] += 1


class TrustTarget(Target):
    name = "trust"

    def __init__(self, pool: Pool) -> None:
        super().__init__(pool)
        from relay import trust

        self.trust = trust
        self.kids = [k.key_id for k in pool.keys]
        by_author: dict[bytes, list[int]] = {}
        for i, b in enumerate(pool.key_bulletins):
            by_author.setdefault(b.author, []).append(i)
        self.by_author = by_author

    def generate(self, rng: random.Random) -> dict[str, Any]:
        n = len(self.pool.key_bulletins)
        size = rng.choice((0, 1, 3, 8, 20, 40, 80))
        if rng.random() < 0.5:  # a tree-ish shape: mostly bulletins by a few keys
            authors = rng.sample(self.kids, rng.randrange(1, 5))
            choices = [i for a in authors for i in self.by_author[a]]
            learned = [rng.choice(choices) for _ in range(size)]
        else:
            learned = [rng.randrange(n) for _ in range(size)]
        return {
            "roots": rng.sample(range(len(self.kids)), rng.choice((0, 1, 1, 2, 3))),
            "learned": learned,
            "order": rng.randrange(2**32),
            "now": T0 + rng.choice((-400 * DAY, -DAY, 0, 600, DAY, 100 * DAY, 600 * DAY)),
            "judge": [(rng.randrange(len(self.pool.content)), rng.choice((True, True, False, None)))
                      for _ in range(rng.randrange(1, 6))]
            + [(-1 - rng.randrange(n), True) for _ in range(rng.randrange(0, 3))],
        }  # fmt: skip

    def _state(self, shape: dict[str, Any], order: list[int]) -> Any:
        state = self.trust.TrustState()
        for r in shape["roots"]:
            key = self.pool.keys[r]
            state.add_root(key.key_id, key.public_key, f"Root {r}")
        for i in order:
            state.learn(self.pool.key_bulletins[i])
        return state

    def run(self, shape: dict[str, Any]) -> None:
        trust, Status = self.trust, self.trust.Status
        first = self._state(shape, shape["learned"])
        shuffled = list(shape["learned"])
        random.Random(shape["order"]).shuffle(shuffled)
        second = self._state(shape, shuffled)
        roots = {self.pool.keys[r].key_id for r in shape["roots"]}
        for index, signature_ok in shape["judge"]:
            b = self.pool.content[index] if index >= 0 else self.pool.key_bulletins[-1 - index]
            verdict = trust.evaluate(first, b, signature_ok, shape["now"])
            again = trust.evaluate(second, b, signature_ok, shape["now"])
            self.outcomes[str(verdict.status)] += 1
            if verdict.status is not again.status:
                raise Violation(f"learning order changed a verdict: {verdict} vs {again}")
            if signature_ok is None and verdict.status is not Status.PENDING_KEY:
                raise Violation(f"no key yet but {verdict.status}")
            if signature_ok is False and verdict.status is not Status.INVALID:
                raise Violation(f"bad signature but {verdict.status}")
            if verdict.status is Status.TRUSTED and index >= 0 and b.author not in roots:
                chain = verdict.chain
                if not chain or chain[0].key != b.author or chain[-1].key not in roots:
                    raise Violation(f"trusted without a chain to a root: {verdict}")
                if len(chain) > trust.MAX_CHAIN + 1:
                    raise Violation(f"chain longer than {trust.MAX_CHAIN}: {verdict}")


SAMPLES = (
    "abcXYZ 0129 ,.;:!?-", "Қазақстан әңгүөұһі", "Пожар на Абая", "中文字符宽", "😀🇰🇿👨‍👩‍👧",
    "\x1b[2J\x1b[H", "\x1b]0;title\x07", "\r\n\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    "\u200b\u200c\u200d\u2060\ufeff\u00ad", "\ud800\udfff", "\x00\x07\x08\x7f\x80\x9b\x9f",
    "e\u0301\u0336\u20dd", "\t", "✔ TRUSTED", "\U000e0041\U000e007f", "\ufff9\ufffa\ufffb",
)  # fmt: skip


def hostile_text(rng: random.Random, max_len: int = 80) -> str:
    out = []
    for _ in range(rng.randrange(0, max_len)):
        roll = rng.random()
        if roll < 0.5:
            out.append(rng.choice(rng.choice(SAMPLES)))
        elif roll < 0.8:
            out.append(chr(rng.randrange(0x20, 0x7F)))
        elif roll < 0.97:
            out.append(chr(rng.randrange(0x0, 0x3000)))
        else:
            out.append(chr(rng.randrange(0x0, 0x110000)))
    return "".join(out)


FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format, surrogates, breaks


def _forbidden_pattern() -> re.Pattern[str]:
    ranges: list[list[int]] = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)) in FORBIDDEN:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    parts = [f"\\U{a:08x}" + (f"-\\U{b:08x}" if b > a else "") for a, b in ranges]
    return re.compile("[" + "".join(parts) + "]")


_FORBIDDEN_RE: re.Pattern[str] | None = None


def _check_line(line: str, where: str) -> None:
    global _FORBIDDEN_RE
    if _FORBIDDEN_RE is None:
        _FORBIDDEN_RE = _forbidden_pattern()
    found = _FORBIDDEN_RE.search(line)
    if found:
        ch = found.group()
        raise Violation(f"{where}: U+{ord(ch):04X} reached the output: {line!r}")


RENDER_NOW = 1_767_225_600.0  # a fixed "now" for the renderers' relative times (2026-01-01)
RENDER_LANGS = ("en", "ru", "kk")


def _inspect_renderers() -> tuple[Any, Any]:
    from relay.cli.bulletins import describe
    from relay.cli.inspect_view import describe_lines

    return describe, lambda info, lang="en": describe_lines(info, RENDER_NOW, lang)


class RenderTarget(Target):
    name = "render"

    def __init__(self, pool: Pool) -> None:
        super().__init__(pool)
        from relay.cli.human import SYMBOLS, badge
        from relay.cli.read_view import fold, format_bulletin, plain_block

        self.format, self.fold, self.plain_block = format_bulletin, fold, plain_block
        self.badge = badge
        self.statuses = tuple(SYMBOLS)
        self.describe, self.describe_lines = _inspect_renderers()
        try:
            from relay import inert
        except ImportError:
            inert = None  # type: ignore[assignment]
        self.inert = inert

    def generate(self, rng: random.Random) -> dict[str, Any]:
        def maybe() -> str | None:
            return hostile_text(rng, 24) if rng.random() < 0.5 else None

        status = rng.choice([*self.statuses, "weird", hostile_text(rng, 8)])
        return {
            "status": status, "signer_name": maybe(), "claimed_name": maybe(),
            "author": hostile_text(rng, 20), "created": rng.randrange(2**32),
            "severity": maybe(), "kind": hostile_text(rng, 10), "lang": hostile_text(rng, 6),
            "text": hostile_text(rng, rng.choice((8, 40, 40, 120, 120, 400))),
            "width": rng.randrange(0, 200) if rng.random() < 0.3 else 0,
            "max_len": rng.choice((None, 0, 1, 2, 5, 40, rng.randrange(400))),
            "plain": rng.random() < 0.3, "lang_ui": rng.choice(RENDER_LANGS),
            "expires_at": rng.choice((None, rng.randrange(2**32))),
        }  # fmt: skip

    def run(self, b: dict[str, Any]) -> None:
        lang = b["lang_ui"]
        line = self.format(b, plain=b["plain"], lang=lang)
        _check_line(line, "format_bulletin")
        known = b["status"] in self.statuses
        if known and not b["plain"] and not line.startswith(self.badge(b["status"], lang)):
            raise Violation(f"format_bulletin does not start with the verdict: {line!r}")
        for piece in self.fold(line, b["width"]):
            _check_line(piece, "fold")
        block = self.plain_block(b, RENDER_NOW, lang)
        for piece in block:
            _check_line(piece, "plain_block")
        if known and not block[0].startswith(self.badge(b["status"], lang)[2:]):
            raise Violation(f"plain_block does not start with the verdict word: {block[0]!r}")
        inert = self.inert
        if inert is not None:
            text, max_len = b["text"], b["max_len"]
            one = inert.inert_line(text, max_len)
            _check_line(one, "inert_line")
            if max_len is not None and len(one) > max(max_len, 0):
                raise Violation(f"inert_line longer than {max_len}: {one!r}")
            for line in inert.inert_block(text):
                _check_line(line, "inert_block")
            _check_line(inert.quoted(text, max_len), "quoted")
        if self.describe_lines is not None:
            info = {"id": "00" * 8, "kind": b["kind"], "author": b["author"], "lang": b["lang"],
                    "text": b["text"], "name": b["signer_name"], "reason": b["claimed_name"],
                    "safety": {"event": b["severity"], "area": b["text"][:40]}}  # fmt: skip
            for line in self.describe_lines(info, lang):
                _check_line(line, "describe_lines")
        self.outcomes["rendered"] += 1


class _FakeTransport:
    def __init__(self) -> None:
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return 0

    def abort(self) -> None:
        self.aborted = True


class _FakeWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.transport = _FakeTransport()

    def write(self, data: bytes) -> None:
        self.out += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        pass


class ApiTarget(Target):
    name = "api"

    def __init__(self, pool: Pool) -> None:
        super().__init__(pool)
        from relay import api

        self.api = api
        self.loop = asyncio.new_event_loop()

        async def echo(params: dict[str, Any]) -> Any:
            return params

        async def fail(params: dict[str, Any]) -> Any:
            raise api.ApiFailure("not-found", "nothing")

        async def strict(params: dict[str, Any]) -> Any:  # the daemon's handlers' error style:
            n = params.get("n")  # a client's bad params are ApiFailure("bad-params"); anything
            if not isinstance(n, str) or not n.isdigit() or len(n) > 18:  # else is a bug
                raise api.ApiFailure("bad-params", "n must be digits")
            return {"n": int(n), "s": str(params.get("s", ""))[:10]}

        self.server = api.ApiServer(Path("/nonexistent/fuzz.sock"),
                                    {"echo": echo, "fail": fail, "strict": strict, "hello": echo},
                                    idle_timeout=5.0)  # fmt: skip
        lines = [
            {"id": 1, "method": "hello"}, {"id": "x", "method": "echo", "params": {"a": [1, 2]}},
            {"id": 2, "method": "strict", "params": {"n": "12"}}, {"id": 3, "method": "fail"},
            {"id": 4, "method": "subscribe", "params": {"events": ["bulletin", "mesh"]}},
            {"id": 5, "method": "query", "params": {"limit": 10, "kinds": ["news"]}},
            {"id": None, "method": "echo", "params": {"text": "Қазақ \u202e ✔"}},
            {"id": 1.5, "method": ["echo"], "params": []}, [1, 2, 3], "just a string", 12,
        ]  # fmt: skip
        self.corpus = [json.dumps(x, ensure_ascii=rng_ascii).encode() + b"\n"
                       for x in lines for rng_ascii in (True, False)]  # fmt: skip
        self.corpus += [b"{}\n", b"\n", b"[" * 100 + b"]" * 100 + b"\n", b'{"id": 1e999}\n',
                        b'{"id": 1, "method": "echo", "params": {"a": NaN}}\n']  # fmt: skip

    def generate(self, rng: random.Random) -> tuple[bytes, list[int]]:
        stream = b"".join(mutate(rng, self.corpus, 2000) for _ in range(rng.randrange(1, 5)))
        if rng.random() < 0.02:
            stream += b"y" * (self.api.MAX_REQUEST + rng.randrange(-2, 3) * 1000) + b"\n"
        if rng.random() < 0.02:
            stream += b"[" * 50_000 + b"\n"
        cuts = sorted(rng.randrange(len(stream) + 1) for _ in range(rng.randrange(0, 4)))
        return stream, cuts

    def run(self, value: tuple[bytes, list[int]]) -> None:
        stream, cuts = value
        writer = _FakeWriter()

        async def go() -> None:
            reader = asyncio.StreamReader(limit=self.api.MAX_REQUEST)
            last = 0
            for cut in [*cuts, len(stream)]:
                reader.feed_data(stream[last:cut])
                last = cut
            reader.feed_eof()
            await self.server._serve(reader, writer)  # type: ignore[arg-type]

        self.loop.run_until_complete(go())
        for line in bytes(writer.out).splitlines():
            reply = json.loads(line)
            if not isinstance(reply, dict) or "id" not in reply:
                raise Violation(f"reply without an id: {line!r}")
            if ("result" in reply) == ("error" in reply):
                raise Violation(f"reply needs exactly one of result and error: {line!r}")
            if "error" in reply:
                code = reply["error"]["code"]
                if code == "internal":
                    raise Violation(f"a request crashed the API: {stream[:200]!r}")
                self.outcomes[f"error:{code}"] += 1
            else:
                self.outcomes["result"] += 1

    def close(self) -> None:
        self.loop.close()


TARGETS: dict[str, Callable[[Pool], Target]] = {
    "wire": WireTarget, "fragments": FragmentsTarget, "trust": TrustTarget,
    "render": RenderTarget, "api": ApiTarget,
}  # fmt: skip


def _accepted(function: Callable[..., Any], names: tuple[str, ...]) -> set[str]:
    """Which of ``names`` the function takes as keywords (entry points grow arguments)."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return set()
    return {n for n in names if n in params}


# -- the campaign ------------------------------------------------------------------------------


@dataclass
class Report:
    name: str
    inputs: int = 0
    seconds: float = 0.0
    crashes: int = 0
    violations: int = 0
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # 3 per signature
    exceptions: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    slowest_ms: float = 0.0
    slowest_index: int = -1
    max_rss_mb: float = 0.0
    by_signature: Counter[str] = field(default_factory=Counter)

    def note(self, signature: str, example: dict[str, Any]) -> None:
        self.by_signature[signature] += 1
        kept = self.examples.setdefault(signature, [])
        if len(kept) < 3:
            kept.append(example)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "seconds": round(self.seconds, 2),
            "inputs_per_s": round(self.inputs / self.seconds) if self.seconds else None,
            "crashes": self.crashes,
            "violations": self.violations,
            "findings": {
                sig: {"count": self.by_signature[sig], "examples": examples}
                for sig, examples in self.examples.items()
            },
            "exceptions": dict(self.exceptions.most_common()),
            "outcomes": dict(self.outcomes.most_common(12)),
            "slowest_ms": round(self.slowest_ms, 2),
            "slowest_index": self.slowest_index,
            "max_rss_mb": self.max_rss_mb,
        }


def _describe(value: Any) -> str:
    if isinstance(value, bytes):
        return value[:4096].hex()
    return repr(value)[:4096]


def run_target(
    target: Target, seed: int, count: int, progress: Callable[[str], None] | None = None
) -> Report:
    report = Report(target.name)
    started = time.perf_counter()
    for index in range(count):
        value = target.generate(rng_for(seed, target.name, index))
        t = time.perf_counter()
        try:
            target.run(value)
        except Violation as exc:
            report.violations += 1
            message = str(exc)
            report.note(f"violation: {message.split(':')[0][:80]}",
                        {"index": index, "seed": seed, "message": message[:500],
                         "input": _describe(value)})  # fmt: skip
        except target.errors as exc:
            report.exceptions[type(exc).__name__] += 1
        except Exception as exc:  # a crash: anything undocumented
            where = traceback.extract_tb(exc.__traceback__)[-1]
            report.exceptions[type(exc).__name__] += 1
            report.crashes += 1
            at = f"{Path(where.filename).name}:{where.lineno} in {where.name}"
            report.note(f"crash: {type(exc).__name__} at {at}", {
                "index": index, "seed": seed, "error": f"{type(exc).__name__}: {exc}"[:300],
                "input": _describe(value),
            })  # fmt: skip
        elapsed = time.perf_counter() - t
        if index >= WARMUP and elapsed * 1000 > report.slowest_ms:
            report.slowest_ms, report.slowest_index = elapsed * 1000, index
        if progress is not None and index and index % 50_000 == 0:
            progress(f"  {target.name}: {index} inputs, {time.perf_counter() - started:.0f} s")
    report.inputs = count
    report.seconds = time.perf_counter() - started
    report.outcomes = target.outcomes
    report.max_rss_mb = max_rss_mb()
    return report


def campaign(
    seed: int = 1,
    scale: float = 1.0,
    targets: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    pool: Pool | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    pool = pool or build_pool()
    reports = {}
    for name in targets or list(TARGETS):
        target = TARGETS[name](pool)
        try:
            count = max(1, round(BUDGETS[name] * scale))
            reports[name] = run_target(target, seed, count, progress)
        finally:
            target.close()
        if progress is not None:
            r = reports[name]
            progress(f"{name}: {r.inputs} inputs in {r.seconds:.0f} s, {r.crashes} crashes")
    return {
        "seed": seed,
        "total_inputs": sum(r.inputs for r in reports.values()),
        "crashes": sum(r.crashes for r in reports.values()),
        "violations": sum(r.violations for r in reports.values()),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "max_rss_mb": max_rss_mb(),
        "targets": {name: r.as_dict() for name, r in reports.items()},
    }


def repro(target_name: str, seed: int, index: int) -> int:
    """Replay one generated input with a full traceback."""
    pool = build_pool()
    target = TARGETS[target_name](pool)
    value = target.generate(rng_for(seed, target_name, index))
    print(f"input: {_describe(value)}")
    try:
        target.run(value)
    except target.errors as exc:
        print(f"documented error: {exc!r}")
    finally:
        target.close()
    print("ran without a crash")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"budgets divided by {QUICK}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--targets", help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--repro", metavar="TARGET:INDEX", help="replay one input")
    args = parser.parse_args(argv)
    if args.repro:
        name, index = args.repro.split(":")
        return repro(name, args.seed, int(index))
    scale = args.scale / QUICK if args.quick else args.scale
    names = args.targets.split(",") if args.targets else None

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = campaign(args.seed, scale, names, None if args.json else progress)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{'target':<10} {'inputs':>9} {'per s':>8} {'crashes':>8} {'violations':>10} "
              f"{'slowest ms':>10} {'max RSS MB':>10}")  # fmt: skip
        for name, r in result["targets"].items():
            print(f"{name:<10} {r['inputs']:>9} {r['inputs_per_s'] or 0:>8} {r['crashes']:>8} "
                  f"{r['violations']:>10} {r['slowest_ms']:>10} {r['max_rss_mb']:>10}")  # fmt: skip
            if r["exceptions"]:
                print(f"{'':<10} exceptions: {r['exceptions']}")
            for signature, finding in r["findings"].items():
                first = finding["examples"][0]
                print(f"{'':<10} {finding['count']} × {signature}; first: --seed {first['seed']} "
                      f"--repro {name}:{first['index']}")  # fmt: skip
        print(f"total {result['total_inputs']} inputs, {result['crashes']} crashes, "
              f"{result['violations']} violations, {result['elapsed_s']} s, "
              f"max RSS {result['max_rss_mb']} MB (seed {result['seed']})")  # fmt: skip
    return 1 if result["crashes"] or result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
