"""Issue 9: where docs/protocol.md and the decoder disagreed, and the rules now written down.

Each test names the rule of docs/protocol.md sections 3-5 it pins; an independent implementation
written from the spec alone must reach the same accept / reject on every input here.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from relay.codec import encode_as
from relay.wire import bulletin as wire
from relay.wire import cbor
from relay.wire._ucd14 import UNICODE_VERSION
from relay.wire.errors import WireError
from relay.wire.fields import Field, Kind
from relay.wire.fragments import FRAGMENT_BYTE, parse, split
from relay.wire.text_rules import _body_forbidden, _label_forbidden, derive_tables
from tests.conftest import make_identity
from tests.helpers import T0, news

ALICE = make_identity("alice")
BOB = make_identity("bob")
TEXT_BLOB = encode_as(0, "Вода будет завтра.")
REF = bytes(range(8))
ALERT: dict[int, Any] = {
    Field.LIFETIME: 3600, Field.EVENT: 2, Field.CATEGORY: 6, Field.SEVERITY: 4,
    Field.URGENCY: 4, Field.CERTAINTY: 4,
}  # fmt: skip
CERTIFICATE: dict[int, Any] = {
    Field.LIFETIME: 86400,
    Field.SUBJECT_KEY: BOB.public_key,
    Field.NAME: "Bob",
    Field.KINDS: 1,
}
ANNOUNCEMENT: dict[int, Any] = {Field.SUBJECT_KEY: ALICE.public_key, Field.NAME: "Alice"}
REVOCATION: dict[int, Any] = {Field.REVOKED: BOB.key_id, Field.REASON: 1}


def raw(kind: Kind, fields: dict[int, Any], blob: bytes | None = TEXT_BLOB) -> bytes:
    """A bulletin signed by Alice with exactly these fields and text blob."""
    unsigned = bytes([0x10 | kind]) + ALICE.key_id + T0.to_bytes(4, "big")
    unsigned += cbor.encode(fields) + (blob or b"")
    return unsigned + ALICE.sign(wire.SIGNING_DOMAIN + unsigned)


def rejected(data: bytes) -> str:
    with pytest.raises(WireError) as info:
        wire.decode(data)
    return info.value.code


# --- Rules per kind -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Kind.NEWS, Kind.SAFETY, Kind.CORRECTION, Kind.RETRACTION])
def test_key_15_is_refused_outside_revocations(kind: Kind) -> None:
    fields: dict[int, Any] = {Field.REASON: 1}
    if kind is Kind.SAFETY:
        fields |= ALERT
    if kind in (Kind.CORRECTION, Kind.RETRACTION):
        fields[Field.REF] = REF
    assert rejected(raw(kind, fields)) == "bad-fields"
    del fields[Field.REASON]
    wire.decode(raw(kind, fields))  # the same bulletin without key 15 is fine


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (Kind.CERTIFICATE, CERTIFICATE | {Field.REASON: 1}),
        (Kind.ANNOUNCEMENT, ANNOUNCEMENT | {Field.REASON: 1}),
        (Kind.REVOCATION, {Field.REVOKED: BOB.key_id}),  # reason is required
        (Kind.REVOCATION, REVOCATION | {Field.LIFETIME: 3600}),  # a revocation never expires
        (Kind.REVOCATION, REVOCATION | {Field.NAME: "Bob"}),
        (Kind.CERTIFICATE, CERTIFICATE | ALERT | {Field.LIFETIME: 86400}),  # safety keys
        (Kind.ANNOUNCEMENT, ANNOUNCEMENT | {Field.AREA: "Алматы"}),
        (Kind.REVOCATION, REVOCATION | {Field.POINT: [0, 0, 10]}),
        (Kind.CERTIFICATE, CERTIFICATE | {Field.LANG: 1}),  # lang without a text
        (Kind.RETRACTION, {Field.REF: REF, Field.LANG: 1}),
        (Kind.ANNOUNCEMENT, {Field.SUBJECT_KEY: BOB.public_key, Field.NAME: "Bob"}),  # not mine
    ],
)
def test_key_bulletin_rules(kind: Kind, fields: dict[int, Any]) -> None:
    assert rejected(raw(kind, fields, None)) == "bad-fields"


@pytest.mark.parametrize("kind", [Kind.CERTIFICATE, Kind.REVOCATION, Kind.ANNOUNCEMENT])
def test_key_bulletins_carry_no_text(kind: Kind) -> None:
    fields = {
        Kind.CERTIFICATE: CERTIFICATE,
        Kind.REVOCATION: REVOCATION,
        Kind.ANNOUNCEMENT: ANNOUNCEMENT,
    }[kind]
    wire.decode(raw(kind, fields, None))
    assert rejected(raw(kind, fields)) == "bad-fields"


# --- Field values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, False),  # und is spelled by leaving key 0 out
        (1, True),
        (5, True),
        (6, False),
        ("und", False),
        ("UND", False),
        ("ru", False),  # a listed language travels as its code
        ("RU", False),
        ("Ru", False),
        ("kk-Latn", False),
        ("kk-latn", False),
        ("mixed", False),
        ("de", True),
        ("uz-Cyrl", True),
        ("es-419", True),
        ("pt-BR", True),
        ("uzb-Cyrl-UZ", True),
        ("DE", False),  # BCP 47 canonical case only: one spelling
        ("uz-cyrl", False),
        ("pt-br", False),
        ("d", False),
        ("deutsch", False),
        ("de-", False),
        ("de\n", False),
        ("", False),
    ],
)
def test_language_values(value: int | str, ok: bool) -> None:
    data = raw(Kind.NEWS, {Field.LANG: value})
    if ok:
        assert wire.decode(data).content.lang == (value if isinstance(value, str) else
                                                  ("und", "ru", "kk", "kk-Latn", "en", "mixed")[value])  # fmt: skip
    else:
        assert rejected(data) == "bad-field"


@pytest.mark.parametrize(
    ("point", "ok"),
    [
        ([9_000_000, -18_000_000, 0], True),
        ([-9_000_000, 17_999_999, 1_000_000], True),
        ([9_000_001, 0, 0], False),
        ([-9_000_001, 0, 0], False),
        ([0, 18_000_000, 0], False),  # 180 E is written -18 000 000
        ([0, -18_000_001, 0], False),
        ([0, 0, 1_000_001], False),
        ([0, 0, -1], False),
        ([0, 0], False),
    ],
)
def test_point_ranges(point: list[int], ok: bool) -> None:
    data = raw(Kind.SAFETY, ALERT | {Field.POINT: point})
    if ok:
        assert wire.decode(data).content.safety.point == tuple(point)  # type: ignore[union-attr]
    else:
        assert rejected(data) == "bad-field"


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        (Field.EVENT, "landslide", True),
        (Field.EVENT, "Fire", False),  # code 2 in another case
        (Field.EVENT, "MISSING-PERSON", False),
        (Field.EVENT, "x" * 64, True),
        (Field.EVENT, "x" * 65, False),
        (Field.CATEGORY, "volcano", True),
        (Field.CATEGORY, "CBRNE", False),
        (Field.CATEGORY, "ж" * 32, True),  # 64 bytes
        (Field.CATEGORY, "ж" * 33, False),
        (Field.CATEGORY, "two\nlines", False),
        (Field.AREA, "Алматы, Абай 10", True),
        (Field.AREA, "я" * 81, False),
        (Field.AREA, "Абай\u202e01", False),
        (Field.GEOHASH, "txwt", True),
        (Field.GEOHASH, "TXWT", False),
        (Field.GEOHASH, "txwa", False),  # 'a' is not a geohash character
        (Field.GEOHASH, "t" * 13, False),
    ],
)
def test_safety_texts(key: Field, value: str, ok: bool) -> None:
    data = raw(Kind.SAFETY, ALERT | {key: value})
    if ok:
        wire.decode(data)
    else:
        assert rejected(data) == "bad-field"


# --- Names (attack 3) ---------------------------------------------------------------------------

BAD_NAMES = [
    "",
    "A" * 65,
    "Ж" * 33,
    " Alice",
    "Alice ",
    "Alice\u00a0",
    "\u3000Alice",
    "Ali\nce",
    "Ali\tce",
    "Ali\x00ce",
    "Ali\x7fce",
    "Ali\x85ce",
    "Ali\u2028ce",
    "Ali\u2029ce",
    "Ali\u200bce",
    "Ali\u200dce",
    "Ali\ufeffce",
    "Ali\u00adce",
    "Alice\U000e0001",
    "Ali\ue000ce",  # private use
    "Ali\u0378ce",  # unassigned in Unicode 14.0
    "Ali\U0001faf7ce",  # assigned after 14.0 (15.0): unassigned in the pinned version
    "Ali\ufffece",  # noncharacter
    "Alic\u0065\u0301",  # not NFC (é decomposed)
    *[f"Ali{chr(cp)}ce" for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))],
    "Ali\u200ece",
    "Ali\u200fce",
    "Ali\u061cce",
]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("kind", [Kind.CERTIFICATE, Kind.ANNOUNCEMENT])
def test_bad_names_are_refused_with_bad_name(kind: Kind, name: str) -> None:
    fields = (CERTIFICATE if kind is Kind.CERTIFICATE else ANNOUNCEMENT) | {Field.NAME: name}
    assert rejected(raw(kind, fields, None)) == "bad-name"


@pytest.mark.parametrize(
    "name", ["Alice", "Анна Петрова", "Ақжол", "Şymkent FM", "李小龍", "O'Brien", "A" * 64, "é"]
)
def test_good_names_pass(name: str) -> None:
    assert wire.decode(raw(Kind.CERTIFICATE, CERTIFICATE | {Field.NAME: name}, None)).content.name
    assert wire.sign(
        wire.decode(raw(Kind.CERTIFICATE, CERTIFICATE | {Field.NAME: name}, None)).content, ALICE
    )


def test_the_encoder_refuses_what_the_decoder_refuses() -> None:
    content = wire.decode(raw(Kind.CERTIFICATE, CERTIFICATE, None)).content
    from dataclasses import replace

    with pytest.raises(WireError) as info:
        wire.sign(replace(content, name="Bob\u202e"), ALICE)
    assert info.value.code == "bad-name"


# --- Texts (section 4) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("line one\nline two\n\n", True),
        ("👨\u200d👩\u200d👧 family", True),  # ZWJ sequence
        ("مرحبا\u200f!", True),  # a right-to-left mark is allowed in a text
        ("soft\u00adhyphen", True),
        ("carriage\r\nreturn", False),
        ("tab\there", False),
        ("escape \x1b[2J", False),
        ("nul\x00", False),
        ("next line\x85", False),
        ("line\u2028separator", False),
        ("para\u2029graph", False),
        ("override \u202egnp.exe", False),
        ("isolate \u2066x\u2069", False),
        ("private \ue000", False),
        ("unassigned \u0378", False),
    ],
)
def test_text_characters(text: str, ok: bool) -> None:
    data = raw(Kind.NEWS, {Field.LANG: 4}, encode_as(0, text))
    if ok:
        assert wire.decode(data).content.text == text
    else:
        assert rejected(data) == "bad-text"


@pytest.mark.parametrize("codec_id", [0, 1, 16, 20])
def test_an_empty_text_is_spelled_without_a_blob(codec_id: int) -> None:
    blob = encode_as(codec_id, "")
    assert blob is not None
    assert rejected(raw(Kind.RETRACTION, {Field.REF: REF}, blob)) == "bad-text"
    wire.decode(raw(Kind.RETRACTION, {Field.REF: REF}, None))
    assert (
        rejected(raw(Kind.NEWS, {}, blob)) == "bad-text"
    )  # a blob is there: "text required" holds
    assert rejected(raw(Kind.NEWS, {}, None)) == "bad-fields"  # no blob: "text required"


# --- Fragments, parse level (section 5, rules 1-4) ----------------------------------------------


def _long() -> bytes:
    return news(ALICE, " ".join(str(i * 7919 % 10007) for i in range(150))).raw


def test_every_fragment_that_split_makes_parses() -> None:
    for packet in split(_long()):
        parse(packet)


def test_a_data_fragment_over_216_bytes_is_malformed() -> None:
    head = bytes([FRAGMENT_BYTE]) + bytes(8) + bytes([2, 0])
    parse(head + bytes(216))
    with pytest.raises(WireError) as info:
        parse(head + bytes(217))
    assert info.value.code == "bad-fragment"


@pytest.mark.parametrize(
    ("count", "total", "chunk", "ok"),
    [
        (2, 230, 115, True),
        (2, 432, 216, True),
        (3, 433, 145, True),
        (16, 3456, 216, True),
        (2, 229, 115, False),  # fits one packet: never fragmented
        (2, 200, 100, False),
        (3, 432, 144, False),  # k must be ceil(L / 216) = 2
        (2, 300, 151, False),  # c must be ceil(L / k) = 150
        (2, 300, 149, False),
        (16, 3457, 216, False),  # over 16 x 216 bytes
    ],
)
def test_repair_fragment_length_rules(count: int, total: int, chunk: int, ok: bool) -> None:
    packet = bytes([FRAGMENT_BYTE]) + bytes(8) + bytes([count, count])
    packet += total.to_bytes(2, "big") + bytes(chunk)
    if ok:
        assert parse(packet).total == total
    else:
        with pytest.raises(WireError) as info:
            parse(packet)
        assert info.value.code == "bad-fragment"


# --- The pinned Unicode sets --------------------------------------------------------------------


@pytest.mark.skipif(
    unicodedata.unidata_version != UNICODE_VERSION, reason="needs Python 3.11's Unicode 14.0.0"
)
def test_frozen_sets_are_unicode_14() -> None:
    from relay.wire import _ucd14

    assert derive_tables() == (_ucd14.UNASSIGNED, _ucd14.FORMAT)


@pytest.mark.skipif(
    unicodedata.unidata_version != UNICODE_VERSION, reason="needs Python 3.11's Unicode 14.0.0"
)
def test_fast_character_search_matches_the_categories_on_every_code_point() -> None:
    """Allowed runs are searched whole (every code point), forbidden runs at both ends and the
    middle: exhaustive where a wrong answer would let a character through."""
    label_bad = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    body_bad = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
    bidi = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}

    def is_label_bad(cp: int) -> bool:
        return unicodedata.category(chr(cp)) in label_bad

    def is_body_bad(cp: int) -> bool:
        return cp != 0x0A and (unicodedata.category(chr(cp)) in body_bad or cp in bidi)

    for search, expected in ((_label_forbidden(), is_label_bad), (_body_forbidden(), is_body_bad)):
        start = 0
        while start < 0x110000:
            bad = expected(start)
            end = start
            while end + 1 < 0x110000 and expected(end + 1) == bad:
                end += 1
            if bad:
                for cp in {start, (start + end) // 2, end}:
                    assert search.first_in("a" + chr(cp)) == chr(cp), hex(cp)
            elif not 0xD800 <= start <= 0xDFFF:
                assert search.first_in("".join(map(chr, range(start, end + 1)))) is None, hex(start)
            start = end + 1
