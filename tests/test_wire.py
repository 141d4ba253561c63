"""Wire format v1: round trips, strict decoding, and the format-level attacks."""

from __future__ import annotations

import contextlib
import unicodedata
import zlib

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from relay.wire import cbor
from relay.wire.errors import WireError
from relay.wire.fields import (
    CATEGORIES,
    CERTAINTIES,
    EVENTS,
    LANGUAGES,
    SEVERITIES,
    URGENCIES,
    Content,
    Kind,
    SafetyInfo,
)
from relay.wire.text_rules import body_problem, label_problem
from tests.conftest import make_identity
from tests.helpers import T0, announcement, certificate, news, revocation, safety

ALICE = make_identity("alice")
MALLORY = make_identity("mallory")


def resign(unsigned: bytes, signer: Identity) -> bytes:
    return unsigned + signer.sign(wire.SIGNING_DOMAIN + unsigned)


# What the wire accepts (docs/protocol.md section 3, "Texts"): no controls but line feeds in
# bodies, nothing invisible or unassigned, NFC, no space at either end of a label.
_visible = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
texts = st.text(_visible | st.just("\n"), min_size=1, max_size=300).filter(
    lambda t: t.strip() != "" and body_problem(unicodedata.normalize("NFC", t)) is None
)


def labels(max_size: int) -> st.SearchStrategy[str]:
    return st.text(_visible, min_size=1, max_size=max_size).filter(
        lambda t: label_problem(t, 4 * max_size) is None
    )


safety_infos = st.builds(
    SafetyInfo,
    event=st.sampled_from(EVENTS) | labels(20).filter(lambda t: t.lower() not in EVENTS),
    category=st.sampled_from(CATEGORIES),
    severity=st.sampled_from(SEVERITIES),
    urgency=st.sampled_from(URGENCIES),
    certainty=st.sampled_from(CERTAINTIES),
    area=st.none() | labels(40),
    point=st.none()
    | st.tuples(
        st.integers(-9_000_000, 9_000_000),
        st.integers(-18_000_000, 17_999_999),
        st.integers(0, 10**6),
    ),
    geohash=st.none() | st.text("0123456789bcdefghjkmnpqrstuvwxyz", min_size=1, max_size=12),
)


@st.composite
def contents(draw: st.DrawFn) -> Content:
    kind = draw(st.sampled_from(list(Kind)))
    created = draw(st.integers(0, 2**32 - 1))
    lang = draw(st.sampled_from(LANGUAGES))
    base = {"kind": kind, "author": ALICE.key_id, "created": created, "lang": lang}
    if kind in (Kind.NEWS, Kind.CORRECTION, Kind.RETRACTION):
        base["text"] = draw(texts) if kind is not Kind.RETRACTION else draw(st.just("") | texts)
        if not base["text"]:
            base["lang"] = "und"  # lang describes the text: none without one
        base["lifetime"] = draw(st.none() | st.integers(60, 86400 * 30))
        if kind is not Kind.NEWS:
            base["ref"] = draw(st.binary(min_size=8, max_size=8))
    elif kind is Kind.SAFETY:
        base.update(
            text=draw(texts), safety=draw(safety_infos), lifetime=draw(st.integers(60, 86400))
        )
    elif kind is Kind.CERTIFICATE:
        base.update(
            subject_key=draw(st.binary(min_size=32, max_size=32)),
            name=draw(labels(20)),
            kinds=draw(st.integers(1, 255)),
            lifetime=draw(st.integers(60, 86400 * 400)),
            lang="und",
        )
    elif kind is Kind.REVOCATION:
        base.update(
            revoked=draw(st.binary(min_size=8, max_size=8)),
            reason=draw(st.sampled_from(["unspecified", "compromised"])),
            lang="und",
        )
    else:
        base.update(subject_key=ALICE.public_key, name=draw(labels(20)), lang="und")
    return Content(**base)  # type: ignore[arg-type]


def normalised(content: Content) -> Content:
    from dataclasses import replace

    return replace(content, text=unicodedata.normalize("NFC", content.text))


@settings(max_examples=150, deadline=None)
@given(contents())
def test_every_kind_round_trips(content: Content) -> None:
    signed = wire.sign(content, ALICE)
    decoded = wire.decode(signed.raw)
    assert decoded.content == normalised(content)
    assert decoded.raw == signed.raw
    assert wire.verify(decoded, ALICE.public_key)
    assert decoded.id == signed.id and len(decoded.id) == 8


def test_header_and_signature_within_80_bytes() -> None:
    signed = news(ALICE, "x")
    overhead = wire.HEADER_LEN + wire.SIGNATURE_LEN
    assert overhead <= 80
    assert signed.raw[0] == 0x10  # version 1, kind news
    assert signed.raw[1:9] == ALICE.key_id
    assert int.from_bytes(signed.raw[9:13], "big") == T0


def test_forged_author_is_rejected_by_signature() -> None:
    """Attack 1: a bulletin naming Alice, signed by Mallory."""
    unsigned = wire.encode_unsigned(
        Content(Kind.NEWS, ALICE.key_id, T0, "Official: stay home", "en")
    )
    forged = wire.decode(resign(unsigned, MALLORY))
    assert not wire.verify(forged, ALICE.public_key)
    assert not wire.verify(forged, MALLORY.public_key)  # key does not match the author id


def test_every_single_bit_flip_is_caught() -> None:
    """Attack 2: tampering with any byte either fails to decode or fails verification."""
    raw = safety(ALICE).raw
    for position in range(len(raw)):
        for bit in range(8):
            tampered = bytearray(raw)
            tampered[position] ^= 1 << bit
            try:
                decoded = wire.decode(bytes(tampered))
            except WireError:
                continue
            assert not wire.verify(decoded, ALICE.public_key), (position, bit)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda raw: raw[:20], "truncated"),
        (lambda raw: bytes([0x20]) + raw[1:], "unknown-version"),
        (lambda raw: bytes([0x17]) + raw[1:], "unknown-kind"),
        (lambda raw: bytes([0x18]) + raw[1:], "not-a-bulletin"),
        (lambda raw: raw + bytes(wire.MAX_BULLETIN), "too-large"),
    ],
)
def test_structural_rejections(mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WireError) as info:
        wire.decode(mutate(news(ALICE).raw))
    assert info.value.code == code


def body(fields: bytes, text_blob: bytes = b"") -> bytes:
    header = bytes([0x10]) + ALICE.key_id + T0.to_bytes(4, "big")
    return resign(header + fields + text_blob, ALICE)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (bytes.fromhex("a200010001"), "duplicate-key"),  # key 0 twice
        (bytes.fromhex("a2010a0001"), "non-canonical"),  # keys out of order
        (bytes.fromhex("a1180001"), "non-canonical"),  # key 0 in a 2-byte head
        (bytes.fromhex("bf0001ff"), "non-canonical"),  # indefinite-length map
        (bytes.fromhex("a100fb3ff0000000000000"), "bad-type"),  # float
        (bytes.fromhex("a100c11a00000000"), "bad-type"),  # tag
        (bytes.fromhex("a1005bffffffffffffffff"), "truncated"),  # huge declared length
        (bytes.fromhex("a100" + "81" * 50 + "00"), "too-deep"),  # deep nesting
        (bytes.fromhex("a1004101"), "bad-field"),  # lang as bytes: wrong type
        (bytes.fromhex("a11700"), "unknown-field"),  # key 23 is not defined
        (bytes.fromhex("a1009864" + "00" * 100), "too-large"),  # 100-item array
        (bytes.fromhex("80"), "bad-type"),  # not a map
    ],
)
def test_field_map_bounds_and_canonical_form(fields: bytes, code: str) -> None:
    """Attack 7: parser bombs and non-canonical encodings are rejected with a reason."""
    with pytest.raises(WireError) as info:
        wire.decode(body(fields, b"\x00hi"))
    assert info.value.code == code


def test_unknown_codec_and_deflate_bomb_rejected() -> None:
    """Attacks 6 and 7: unknown dictionary id, and a deflate bomb in the text."""
    with pytest.raises(WireError) as info:
        wire.decode(body(b"\xa0", b"\xfe" + b"payload"))
    assert info.value.code == "bad-text"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"A" * 10_000_000) + compressor.flush()
    assert len(bomb) < 12_000
    for codec_id in range(0, 16):
        try:
            wire.decode(body(b"\xa0", bytes([codec_id]) + bomb[:3000]))
        except WireError as exc:
            assert exc.code in ("bad-text", "too-large")


def test_kind_rules() -> None:
    with pytest.raises(ValueError):
        wire.sign(Content(Kind.NEWS, ALICE.key_id, T0, ""), ALICE)  # news needs text
    with pytest.raises(ValueError):
        wire.sign(Content(Kind.SAFETY, ALICE.key_id, T0, "fire"), ALICE)  # no safety fields
    with pytest.raises(ValueError):
        wire.sign(Content(Kind.CORRECTION, ALICE.key_id, T0, "fix"), ALICE)  # no ref
    with pytest.raises(ValueError):
        wire.sign(Content(Kind.NEWS, MALLORY.key_id, T0, "hi"), ALICE)  # author is not signer


def test_key_bulletins_decode() -> None:
    bob = make_identity("bob")
    for signed in (certificate(ALICE, bob), revocation(ALICE, bob), announcement(ALICE)):
        decoded = wire.decode(signed.raw)
        assert decoded.content == signed.content
        assert wire.verify(decoded, ALICE.public_key)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_decoder_never_raises_anything_else(data: bytes) -> None:
    """Attack 8: arbitrary bytes decode or raise WireError; nothing else escapes."""
    with contextlib.suppress(WireError):
        wire.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_decoder_on_mutated_valid_prefix(tail: bytes) -> None:
    raw = news(ALICE).raw
    with contextlib.suppress(WireError):
        wire.decode(raw[:14] + tail)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=20) | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=5)
            | st.dictionaries(st.integers(0, 30) | st.text(max_size=4), inner, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_strict_cbor_agrees_with_cbor2(value: object) -> None:
    encoded = cbor2.dumps(value, canonical=True)
    try:
        decoded = cbor.decode(encoded)
    except WireError as exc:
        assert exc.code in ("too-deep", "too-large")
        return
    assert decoded == value


def _strict(data: bytes) -> tuple[object, int] | str:
    """The strict decoder alone (no fast path): the item and its end, or the error code."""
    try:
        return cbor._StrictDecoder(data).item(0, depth=0)
    except WireError as exc:
        return exc.code


def _either(data: bytes) -> tuple[object, int] | str:
    try:
        return cbor.decode_prefix(data)
    except WireError as exc:
        return exc.code


_FIELD_MAP = cbor2.dumps({0: 1, 1: 21600, 3: 0, 4: 3, 5: 3, 6: 4, 7: 4, 9: [4325000, 7695000, 500]})


@given(
    st.lists(
        st.tuples(st.integers(0, len(_FIELD_MAP) + 2), st.integers(0, 255), st.booleans()),
        max_size=4,
    ),
    st.binary(max_size=6),
)
@settings(max_examples=600)
def test_cbor_fast_path_accepts_exactly_what_the_strict_decoder_accepts(
    edits: list[tuple[int, int, bool]], tail: bytes
) -> None:
    """Mutated field maps (bytes changed, inserted, a text blob after): the cbor2 fast path
    gives the strict decoder's value and end, or the strict decoder's error."""
    data = bytearray(_FIELD_MAP)
    for where, byte, insert in edits:
        where = min(where, len(data))
        if insert or where == len(data):
            data.insert(where, byte)
        else:
            data[where] = byte
    data += tail
    assert _either(bytes(data)) == _strict(bytes(data))


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("a20001000002"),  # duplicate key
        bytes.fromhex("a201000001"),  # keys out of order
        bytes.fromhex("a1001801"),  # value not in its shortest form
        bytes.fromhex("a100f5"),  # true: a simple value
        bytes.fromhex("a100f93c00"),  # a float
        bytes.fromhex("a100c249010000000000000000"),  # bignum tag (2**64)
        bytes.fromhex("a1009f01ff"),  # indefinite array
        bytes.fromhex("a10062c328"),  # invalid UTF-8
        bytes.fromhex("a1188000"),  # key 128 (two-byte head)
    ],
)
def test_cbor_fast_path_never_takes_what_strict_refuses(data: bytes) -> None:
    assert cbor._flat_map(data) is None
    assert isinstance(_strict(data), str) == isinstance(_either(data), str)
    assert _either(data) == _strict(data)
