"""The fast PPM decoder against a literal, slow transcription of docs/codec.md ("PPM").

The reference below recomputes every coding table from the training counts at every step (no
caches, no lookup tables, no precomputed chains), so it shares nothing with relay.codec._ppm but
the rules. Both must agree on every payload: valid ones (texts of every language, drawn from each
model's own alphabet and training lines, and beyond) and garbage (same text or same error).
"""

from __future__ import annotations

import json
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.codec import _ppm_model, codec_ids, codec_name, encode_as
from relay.codec._ppm import NON_CANONICAL_ESCAPE, PPMError
from relay.wire.vectors import escaped_ppm_payload
from tests.test_codec import _reference_counts

PPM_IDS = [i for i in codec_ids() if codec_name(i).startswith("ppm")]
CORPUS = Path(__file__).parent / "data" / "corpus" / "test.jsonl"


def _training(codec_id: int) -> str:
    name = f"ppm-{codec_name(codec_id).removeprefix('ppm3-')}.txt"
    return resources.files("relay.codec").joinpath("dictionaries", name).read_text("utf-8")


def _scaled(table: dict[str, int]) -> tuple[list[str], list[int], int]:
    syms = sorted(table)
    freqs = [table[s] for s in syms]
    esc = max(1, (len(syms) + sum(1 for f in freqs if f == 1)) // 2)
    while sum(freqs) + esc > 65535:
        freqs = [(f + 1) // 2 for f in freqs]
        esc = (esc + 1) // 2
    return syms, freqs, esc


def _reference_decode(codec_id: int, payload: bytes, max_bytes: int) -> str:
    """Decode step by step from the counts, as docs/codec.md describes; PPMError as the codec."""
    counts = _reference_counts(codec_id)
    if not payload:
        raise PPMError("empty payload")
    if payload[0] == 0:
        raise PPMError("non-canonical payload (leading zero byte)")
    if len(payload) > _ppm_model(codec_id).max_payload(max_bytes):
        raise PPMError(f"payload too long for a text of at most {max_bytes} bytes")
    x = int.from_bytes(payload, "big")
    text = ""
    for _ in range(max_bytes + 1):
        hist = "\n" + text
        sym: str | None = None
        excluded: set[str] = set()
        for k in range(min(3, len(text) + 1), -1, -1):
            table = counts.get(hist[len(hist) - k :])
            if table is None:
                continue
            syms, freqs, esc = _scaled(table)
            live = [(s, f) for s, f in zip(syms, freqs, strict=True) if s not in excluded]
            if not live:
                continue  # nothing left after exclusion: the table is skipped, no escape coded
            total = sum(f for _, f in live) + esc
            q, r = divmod(x, total)
            start = 0
            for s, f in live:
                if r < start + f:
                    sym, x = s, f * q + (r - start)
                    break
                start += f
            if sym is not None:
                break
            x = esc * q + (r - start)  # escape: start is now the sum of the live counts
            excluded.update(syms)
        if sym is None:  # order -1
            x, hi = divmod(x, 545)
            if hi == 0:
                sym = ""
            else:
                x, lo = divmod(x, 2048)
                cp = ((hi - 1) << 11) | lo
                if 0xD800 <= cp <= 0xDFFF:
                    raise PPMError("surrogate code point")
                sym = chr(cp)
            if sym in excluded:  # it would have been coded in a table of the walk
                raise PPMError(NON_CANONICAL_ESCAPE)
        if sym == "":
            if x != 1:
                raise PPMError("non-canonical payload (final state)")
            return text
        text += sym
    raise PPMError(f"text longer than {max_bytes} bytes")


def _outcome(decode: object, *args: object) -> tuple[str, str]:
    try:
        return "text", decode(*args)  # type: ignore[operator]
    except PPMError as exc:
        return "error", str(exc)


def _check(codec_id: int, text: str) -> None:
    text = unicodedata.normalize("NFC", text)
    blob = encode_as(codec_id, text)
    assert blob is not None
    payload = blob[1:]
    assert _ppm_model(codec_id).decode(payload, 4096) == text
    assert _reference_decode(codec_id, payload, 4096) == text


@pytest.mark.parametrize("codec_id", PPM_IDS)
def test_reference_decoder_decodes_what_the_codec_encodes(codec_id: int) -> None:
    # Guards the guard: the reference must itself be right on plain texts.
    for text in ("", "a", "Вода будет завтра.", "Су жоқ", "\U0001f525 fire"):
        _check(codec_id, text)


def test_fast_decoder_matches_reference_on_the_test_split() -> None:
    for line in CORPUS.read_text("utf-8").splitlines():
        text = json.loads(line)["text"]
        for codec_id in PPM_IDS:
            _check(codec_id, text)


@st.composite
def _texts_of_a_language(draw: st.DrawFn) -> tuple[int, str]:
    """A codec and a text: a mutated piece of its training text, or characters of its alphabet
    with some from anywhere (escapes down to order -1)."""
    codec_id = draw(st.sampled_from(PPM_IDS))
    training = _training(codec_id)
    if draw(st.booleans()):
        start = draw(st.integers(0, len(training) - 1))
        piece = training[start : start + draw(st.integers(0, 300))].replace("\n", " ")
        cut = draw(st.integers(0, len(piece)))
        insert = draw(st.text(max_size=3))
        return codec_id, piece[:cut] + insert + piece[cut:]
    alphabet = sorted(set(training) - {"\n"})
    chars = st.one_of(st.sampled_from(alphabet), st.characters(codec="utf-8"))
    return codec_id, draw(st.text(chars, max_size=200))


@given(_texts_of_a_language())
@settings(max_examples=300, deadline=None)
def test_fast_decoder_matches_reference_on_texts(case: tuple[int, str]) -> None:
    _check(*case)


@given(st.sampled_from(PPM_IDS), st.binary(max_size=80), st.integers(0, 200))
@settings(max_examples=300, deadline=None)
def test_fast_decoder_matches_reference_on_garbage(
    codec_id: int, payload: bytes, max_bytes: int
) -> None:
    fast = _outcome(_ppm_model(codec_id).decode, payload, max_bytes)
    assert fast == _outcome(_reference_decode, codec_id, payload, max_bytes)


def test_decoding_is_independent_of_what_was_decoded_before() -> None:
    # The decoder fills its transition caches as it goes: a fresh model must give the same texts.
    from relay.codec import _read_data_file
    from relay.codec._ppm import PPMModel

    codec_id = PPM_IDS[0]
    texts = [json.loads(line)["text"] for line in CORPUS.read_text("utf-8").splitlines()]
    payloads = [blob[1:] for blob in (encode_as(codec_id, t) for t in texts) if blob is not None]
    warm = _ppm_model(codec_id)
    fresh = PPMModel(_read_data_file(f"ppm-{codec_name(codec_id).removeprefix('ppm3-')}.txt"), 3)
    assert [fresh.decode(p, 4096) for p in reversed(payloads)] == [
        warm.decode(p, 4096) for p in reversed(payloads)
    ]


@pytest.mark.parametrize("codec_id", PPM_IDS)
@pytest.mark.parametrize(("text", "escape_at"), [("10 a", 0), ("10 a", 2), ("10 a", 4)])
def test_escape_to_order_minus_one_for_a_modelled_symbol_is_rejected(
    codec_id: int, text: str, escape_at: int
) -> None:
    """A second, longer payload for the same text (same text, another bulletin id) is refused by
    both decoders: payloads and texts stay one-to-one (docs/codec.md, "Canonical form")."""
    canonical = encode_as(codec_id, text)
    assert canonical is not None
    other = escaped_ppm_payload(codec_id, text, escape_at)
    assert other != canonical[1:] and len(other) > len(canonical) - 1
    for decode in (_ppm_model(codec_id).decode, lambda p, m: _reference_decode(codec_id, p, m)):
        with pytest.raises(PPMError, match="order -1"):
            decode(other, 4096)
    assert escaped_ppm_payload(codec_id, text, -1) == canonical[1:]  # no forced escape: the encoder
