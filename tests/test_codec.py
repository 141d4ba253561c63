"""Tests for relay.codec: round trips, bounds, hostile input, pinned wire-format data files."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import random
import unicodedata
import zlib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.codec import (
    MAX_TEXT_BYTES,
    CodecError,
    _ppm_model,
    codec_ids,
    codec_name,
    decode_text,
    encode_as,
    encode_text,
)

CORPUS = Path(__file__).parent / "data" / "corpus" / "test.jsonl"

# Wire format: a changed file is a new codec id, never an edit. Keep in step with docs/codec.md.
PINNED_SHA256 = {
    "deflate-en.txt": "ce13ee6d2af40b72e5c0092e0c5d22c1c8ddeedd7ba98dedfda66264bf42c424",
    "deflate-kk-latn.txt": "ad4427070da2a18903142b12409a231bf82ca544505d68bd4177c8f43aaac6bf",
    "deflate-kk.txt": "2efb4498a067e410ebc7212606c068ea9dde4a1e622eea4b38311dba7496d0b5",
    "deflate-mixed.txt": "65f685b9fb9057de2186661bbf85e4003ad5a1a11e5acd33919ffe481114bc71",
    "deflate-ru.txt": "7eb12c705a58b2741b5adadb6157be1f510bef09c5f3eeb2a3e8d39f8aa648df",
    "ppm-en.txt": "a879f34661be53c7db56a7aec4963a467c1000ce8eb51d765a59f3a44f5a33f7",
    "ppm-kk-latn.txt": "778747697a73c30aff9227b289f3165d1eed165f255f8112103dbe05e2d51101",
    "ppm-kk.txt": "6f13816bea00c3147bcc373432f2b6f5f5840117b2d1002841b129cd62c050d2",
    "ppm-mixed.txt": "4c3ea0c538a1ecfbbd0292d0c78f7a31aae1cb86534a72580e4b0ebd608772cc",
    "ppm-ru.txt": "27c9912137224f17ecc7ca6cc5a2b5b6679e3f786d931f87217636869ab1dcf5",
}

FROZEN_NAMES = {
    0: "utf8",
    1: "kz1048",
    2: "deflate-ru-kz1048",
    3: "deflate-kk-kz1048",
    4: "deflate-en-kz1048",
    5: "deflate-mixed-kz1048",
    6: "deflate-ru-utf8",
    7: "deflate-kk-utf8",
    8: "deflate-en-utf8",
    9: "deflate-mixed-utf8",
    10: "deflate-kk-latn-utf8",
    16: "ppm3-ru",
    17: "ppm3-kk",
    18: "ppm3-kk-latn",
    19: "ppm3-en",
    20: "ppm3-mixed",
}

SAMPLES = [
    "",
    "Срочно! Нужна донорская кровь, больница №7, до 18:00.",
    "Шұғыл: Алматыда жарық өшірілді, 23:00–07:00 көшеге шықпаңыз.",
    "Şymkent: jañalyqtar, äuejai jabyq, ūşaqtar ūşpaidy.",
    "Road to the airport closed. Stay indoors «please» — 5 °C.",
    "Бүгін акимат сказал: свет будет в 20:00 ⚠️ 🙂",
    "é e\u0301 Ω \U0001f1f0\U0001f1ff \x00\x7f",
]

small_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Alphabets that reach every codec: Cyrillic (KZ-1048), Kazakh Latin, ASCII, emoji.
mixed_chars = st.sampled_from(
    list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіАҚҢ ,.!?:;-–—№«»0123456789")
    + list("äöüūışğñÄÖÜŪIŞĞÑabcdefghijklmnopqrstuvwxyz")
    + ["🙂", "⚠", "\ufe0f", "\U0001f1f0", "\n", "\x00", "€", "\u0301"]
)


def _pinned_names() -> list[str]:
    return sorted(PINNED_SHA256)


@given(st.text(max_size=300))
@small_settings
def test_round_trip_arbitrary_unicode(text: str) -> None:
    blob = encode_text(text)
    assert decode_text(blob) == unicodedata.normalize("NFC", text)


@given(st.text(mixed_chars, max_size=200))
@small_settings
def test_round_trip_script_mixtures(text: str) -> None:
    blob = encode_text(text)
    assert decode_text(blob) == unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("codec_id", sorted(FROZEN_NAMES))
@pytest.mark.parametrize("text", SAMPLES)
def test_every_codec_round_trips(codec_id: int, text: str) -> None:
    blob = encode_as(codec_id, text)
    if blob is None:
        # Only charset-limited codecs may refuse, and only texts outside their charset.
        assert codec_name(codec_id).endswith("kz1048")
        with pytest.raises(UnicodeEncodeError):
            unicodedata.normalize("NFC", text).encode("kz1048")
        return
    assert blob[0] == codec_id
    assert decode_text(blob) == unicodedata.normalize("NFC", text)


def test_codec_ids_and_names_are_frozen() -> None:
    assert set(codec_ids()) == set(FROZEN_NAMES)
    for codec_id, name in FROZEN_NAMES.items():
        assert codec_name(codec_id) == name


def test_encode_normalises_to_nfc() -> None:
    decomposed = "Казахстан: e\u0301, \u0418\u0306"  # é and Й written decomposed
    text = decode_text(encode_text(decomposed))
    assert text == unicodedata.normalize("NFC", decomposed)
    assert text != decomposed


def test_decode_rejects_non_nfc() -> None:
    blob = bytes([0]) + "e\u0301".encode()
    with pytest.raises(CodecError, match="NFC"):
        decode_text(blob)


@given(st.text(mixed_chars, max_size=120), st.sampled_from([None, "ru", "kk", "en"]))
@settings(max_examples=60, deadline=None)
def test_encoder_picks_the_smallest_codec(text: str, lang: str | None) -> None:
    blob = encode_text(text, lang)
    sizes = [len(b) for c in codec_ids() if (b := encode_as(c, text)) is not None]
    assert len(blob) == min(sizes)


def test_compression_beats_kz1048_on_a_bulletin() -> None:
    text = "Внимание! В Алматы комендантский час с 23:00 до 07:00. Не выходите на улицу."
    assert len(encode_text(text)) < 0.45 * len(text.encode("utf-8"))


def test_deflate_bomb_rejected() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = comp.compress(b"A" * 1_000_000) + comp.flush()
    assert len(bomb) < 2000
    with pytest.raises(CodecError, match="bomb"):
        decode_text(bytes([6]) + bomb)


def test_max_bytes_bound() -> None:
    text = "ы" * 100  # 200 UTF-8 bytes
    for codec_id in codec_ids():
        blob = encode_as(codec_id, text)
        assert blob is not None
        assert decode_text(blob, max_bytes=200) == text
        with pytest.raises(CodecError, match="longer"):
            decode_text(blob, max_bytes=199)


def test_text_over_max_text_bytes_refused_both_ways() -> None:
    with pytest.raises(CodecError, match="longer"):
        encode_text("a" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(CodecError, match="longer"):
        decode_text(bytes([0]) + b"a" * (MAX_TEXT_BYTES + 1), max_bytes=10**9)
    assert decode_text(encode_text("a" * MAX_TEXT_BYTES)) == "a" * MAX_TEXT_BYTES


def test_unknown_codec_id() -> None:
    with pytest.raises(CodecError, match="unknown codec id 99"):
        decode_text(bytes([99, 1, 2]))
    with pytest.raises(CodecError, match="unknown codec id 11"):
        codec_name(11)


def test_empty_blob_and_bad_charset_bytes() -> None:
    with pytest.raises(CodecError, match="empty"):
        decode_text(b"")
    with pytest.raises(CodecError, match="kz1048"):
        decode_text(bytes([1, 0x41, 0x98]))  # 0x98 is undefined in KZ-1048
    with pytest.raises(CodecError, match="utf-8"):
        decode_text(bytes([0, 0xFF]))


@pytest.mark.parametrize("codec_id", [c for c in sorted(FROZEN_NAMES) if c >= 2])
def test_truncated_and_extended_blobs_rejected(codec_id: int) -> None:
    text = SAMPLES[1] if codec_id != 10 and codec_id != 18 else SAMPLES[3]
    blob = encode_as(codec_id, text)
    assert blob is not None
    with pytest.raises(CodecError):
        decode_text(blob + b"\x00")
    with pytest.raises(CodecError):
        decode_text(blob + b"\x55")
    for cut in range(1, len(blob)):
        try:
            got = decode_text(blob[:cut])
        except CodecError:
            continue
        # A prefix may be the canonical code of another (shorter) text, never of this one.
        assert codec_id >= 16
        assert got != text
        assert encode_as(codec_id, got) == blob[:cut]


def test_ppm_rejects_non_canonical_padding() -> None:
    blob = encode_as(16, SAMPLES[1])
    assert blob is not None
    with pytest.raises(CodecError, match="non-canonical"):
        decode_text(blob[:1] + b"\x00" + blob[1:])  # leading zero byte: same number, other bytes
    with pytest.raises(CodecError):
        decode_text(blob + b"\x00\x00")
    with pytest.raises(CodecError, match="empty payload"):
        decode_text(bytes([16]))


# Wire-format vectors for the PPM ids (payload after the codec byte, hex). Keep in docs/codec.md.
PPM_VECTORS = {
    16: "797ca3fdc7ec262571991d4ba17cc87debc4d0",
    20: "e3b2a176b17340ac56a0769cff4ddb7c0313c954",
}
PPM_EMPTY = {16: "01b6", 17: "0194", 18: "0171", 19: "015a", 20: "02b2"}


@pytest.mark.parametrize("codec_id", sorted(PPM_VECTORS))
def test_ppm_vectors(codec_id: int) -> None:
    blob = bytes([codec_id]) + bytes.fromhex(PPM_VECTORS[codec_id])
    assert encode_as(codec_id, SAMPLES[1]) == blob
    assert decode_text(blob) == SAMPLES[1]


@pytest.mark.parametrize("codec_id", sorted(PPM_EMPTY))
def test_ppm_empty_text_vectors(codec_id: int) -> None:
    blob = bytes([codec_id]) + bytes.fromhex(PPM_EMPTY[codec_id])
    assert encode_as(codec_id, "") == blob
    assert decode_text(blob) == ""


def test_ppm_final_state_must_be_one() -> None:
    payload = bytes.fromhex(PPM_VECTORS[16])
    x = int.from_bytes(payload, "big")
    # The decoder undoes encoder steps; a different starting state decodes the same text but
    # leaves a final state != 1, so it is rejected (payloads and texts are in bijection).
    bumped = (x + 1).to_bytes((x.bit_length() + 8) // 8, "big").lstrip(b"\x00")
    try:
        text = decode_text(bytes([16]) + bumped)
    except CodecError:
        return
    assert encode_as(16, text) == bytes([16]) + bumped


def test_ppm_payload_length_bound() -> None:
    model = _ppm_model(16)
    limit = model.max_payload(10)
    with pytest.raises(CodecError, match="too long"):
        decode_text(bytes([16]) + b"\x01" * (limit + 1), max_bytes=10)
    # The bound is never hit by a real text: the worst text per byte (fresh code points only).
    worst = "\U0010fffd" * 2 + "\u07ff"  # 4 + 4 + 2 bytes, all coded at order -1
    blob = encode_as(16, worst)
    assert blob is not None and len(blob) - 1 <= limit
    assert decode_text(blob, max_bytes=10) == worst


def test_ppm_caches_stay_bounded_on_garbage() -> None:
    model = _ppm_model(19)
    rng = random.Random(7)
    for _ in range(300):
        payload = bytes([rng.randrange(1, 256)]) + rng.randbytes(rng.randrange(0, 120))
        with contextlib.suppress(CodecError):
            decode_text(bytes([19]) + payload, max_bytes=400)
    assert len(model._states) <= len(model._contexts) + 1
    assert len(model._nodes) <= 2 * len(model._contexts)


# --- A literal, slow transcription of docs/codec.md "PPM", checked against the fast codec. ---


@functools.cache
def _reference_counts(codec_id: int) -> dict[str, dict[str, int]]:
    name = f"ppm-{codec_name(codec_id).removeprefix('ppm3-')}.txt"
    training = resources.files("relay.codec").joinpath("dictionaries", name).read_text("utf-8")
    counts: dict[str, dict[str, int]] = {}
    for line in training.split("\n"):
        if not line:
            continue
        hist = "\n" + line
        for i, sym in enumerate([*line, ""]):  # "" = EOS, sorts first
            for k in range(min(3, i + 1) + 1):
                table = counts.setdefault(hist[i + 1 - k : i + 1], {})
                table[sym] = table.get(sym, 0) + 1
    return counts


def _reference_encode(codec_id: int, text: str) -> bytes:
    counts = _reference_counts(codec_id)
    hist = "\n" + text
    steps: list[tuple[int, int, int]] = []  # (start, freq, total)
    for i, sym in enumerate([*text, ""]):
        excluded: set[str] = set()
        for k in range(min(3, i + 1), -1, -1):
            table = counts.get(hist[i + 1 - k : i + 1])
            if table is None:
                continue
            syms = sorted(table)
            freqs = [table[s] for s in syms]
            esc = max(1, (len(syms) + sum(1 for f in freqs if f == 1)) // 2)
            while sum(freqs) + esc > 65535:
                freqs = [(f + 1) // 2 for f in freqs]
                esc = (esc + 1) // 2
            live = [(s, f) for s, f in zip(syms, freqs, strict=True) if s not in excluded]
            if not live:
                continue
            total = sum(f for _, f in live) + esc
            start = 0
            for s, f in live:
                if s == sym:
                    steps.append((start, f, total))
                    break
                start += f
            else:
                steps.append((start, esc, total))
                excluded.update(syms)
                continue
            break
        else:
            if sym == "":
                steps.append((0, 1, 545))
            else:
                steps.append((1 + (ord(sym) >> 11), 1, 545))
                steps.append((ord(sym) & 2047, 1, 2048))
    x = 1
    for start, freq, total in reversed(steps):
        x = (x // freq) * total + start + x % freq
    return bytes([codec_id]) + x.to_bytes((x.bit_length() + 7) // 8, "big")


@pytest.mark.parametrize("codec_id", sorted(PPM_EMPTY))
def test_ppm_matches_reference_on_samples(codec_id: int) -> None:
    for text in SAMPLES:
        text = unicodedata.normalize("NFC", text)
        assert encode_as(codec_id, text) == _reference_encode(codec_id, text)


@given(st.sampled_from(sorted(PPM_EMPTY)), st.text(mixed_chars, max_size=80))
@settings(max_examples=150, deadline=None)
def test_ppm_matches_reference(codec_id: int, text: str) -> None:
    text = unicodedata.normalize("NFC", text)
    assert encode_as(codec_id, text) == _reference_encode(codec_id, text)


@given(st.binary(max_size=300))
@settings(max_examples=500, deadline=None)
def test_garbage_raises_only_codec_error(data: bytes) -> None:
    try:
        text = decode_text(data)
    except CodecError:
        return
    assert len(text.encode("utf-8")) <= MAX_TEXT_BYTES
    assert unicodedata.is_normalized("NFC", text)


@given(st.sampled_from(sorted(FROZEN_NAMES)), st.binary(max_size=200))
@settings(max_examples=500, deadline=None)
def test_garbage_payload_for_each_codec(codec_id: int, payload: bytes) -> None:
    try:
        text = decode_text(bytes([codec_id]) + payload, max_bytes=300)
    except CodecError:
        return
    assert len(text.encode("utf-8")) <= 300
    assert encode_as(codec_id, text) == bytes([codec_id]) + payload or codec_id < 16


@pytest.mark.parametrize("name", _pinned_names())
def test_data_files_pinned(name: str) -> None:
    data = resources.files("relay.codec").joinpath("dictionaries", name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == PINNED_SHA256[name]


def test_no_unpinned_data_files() -> None:
    folder = resources.files("relay.codec").joinpath("dictionaries")
    names = {p.name for p in folder.iterdir() if p.name.endswith(".txt")}
    assert names == set(PINNED_SHA256)


def test_docs_pin_the_same_hashes() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "codec.md").read_text(encoding="utf-8")
    for name, digest in PINNED_SHA256.items():
        assert f"`{name}`" in doc and digest in doc


def test_test_split_is_compressed() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    cyrillic = [r["text"] for r in rows if r["lang"] in ("ru", "kk")]
    ratios = sorted(len(encode_text(t)) / len(t.encode("utf-8")) for t in cyrillic)
    assert ratios[len(ratios) // 2] <= 0.35


def test_ppm_tables_are_bounded_and_coding_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built PPM states are capped (they grew past 100 MB over a few hundred texts); dropping
    them never changes what is coded."""
    from relay.codec import _ppm_model

    model = _ppm_model(16)
    texts = [f"Вода будет {i} числа, район {i * 7}, улица Абая {i * 13}" for i in range(40)]
    expected = [model.encode(t) for t in texts]
    monkeypatch.setattr(model, "max_states", 64)
    model._drop_tables()
    dropped = model.dropped
    for text, payload in zip(texts, expected, strict=True):
        assert model.encode(text) == payload
        assert model.decode(payload, 4096) == text
        assert len(model._states) <= 64
    assert model.dropped > dropped
