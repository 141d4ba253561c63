"""Text codec for bulletins: a self-describing blob of one codec-id byte plus a payload.

encode_text() NFC-normalises the text, tries every codec that can carry it and returns the
smallest blob; decode_text() is bounded (never yields more than max_bytes of UTF-8, never inflates
past it) and raises only CodecError on bad input. Codec ids, charsets, dictionaries and models are
wire format: see docs/codec.md. Pure: the only I/O is reading shipped package data files, lazily.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from relay.codec._deflate import MAX_ZDICT, DeflateError, deflate, inflate
from relay.codec._ppm import PPMError, PPMModel
from relay.codec._registry import FAMILIES, SPECS, CodecSpec, Kind

__all__ = [
    "MAX_TEXT_BYTES",
    "CodecError",
    "codec_ids",
    "codec_name",
    "decode_text",
    "encode_as",
    "encode_text",
]

MAX_TEXT_BYTES = 4096


class CodecError(ValueError):
    """A blob that cannot be decoded, or a text that cannot be encoded; the message says why."""


def codec_ids() -> tuple[int, ...]:
    """Every codec id this implementation can decode, ascending."""
    return tuple(sorted(SPECS))


def codec_name(codec_id: int) -> str:
    spec = SPECS.get(codec_id)
    if spec is None:
        raise CodecError(f"unknown codec id {codec_id}")
    return spec.name


def encode_text(text: str, lang: str | None = None) -> bytes:
    """NFC-normalise text and return the smallest blob over all codecs.

    lang ("ru", "kk", "kk-latn", "en", "mixed") is only a hint: on a tie in size, a codec of that
    family wins, then the lowest id. Raises CodecError if the text is not valid Unicode (lone
    surrogates) or longer than MAX_TEXT_BYTES of UTF-8.
    """
    text = unicodedata.normalize("NFC", text)
    _check_text(text)
    best: bytes | None = None
    best_key: tuple[int, int, int] | None = None
    for codec_id in codec_ids():
        blob = _encode_checked(SPECS[codec_id], text)
        if blob is None:
            continue
        key = (len(blob), 0 if lang is not None and SPECS[codec_id].family == lang else 1, codec_id)
        if best_key is None or key < best_key:
            best, best_key = blob, key
    assert best is not None  # codec 0 carries every valid text
    return best


def encode_as(codec_id: int, text: str) -> bytes | None:
    """The blob for text (NFC-normalised) under one codec, or None if that codec cannot carry it."""
    spec = SPECS.get(codec_id)
    if spec is None:
        raise CodecError(f"unknown codec id {codec_id}")
    text = unicodedata.normalize("NFC", text)
    _check_text(text)
    return _encode_checked(spec, text)


def decode_text(blob: bytes, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Decode a blob into NFC text of at most max_bytes UTF-8 bytes (capped at MAX_TEXT_BYTES)."""
    if max_bytes < 0:
        raise CodecError("max_bytes must not be negative")
    max_bytes = min(max_bytes, MAX_TEXT_BYTES)
    if not blob:
        raise CodecError("empty blob")
    spec = SPECS.get(blob[0])
    if spec is None:
        raise CodecError(f"unknown codec id {blob[0]}")
    payload = bytes(blob[1:])
    try:
        text = _decode_payload(spec, payload, max_bytes)
    except (DeflateError, PPMError) as exc:
        raise CodecError(f"{spec.name}: {exc}") from None
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise CodecError(f"text longer than {max_bytes} bytes")
    if not unicodedata.is_normalized("NFC", text):
        raise CodecError("text is not NFC")
    return text


def _check_text(text: str) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise CodecError("text contains lone surrogates") from None
    if size > MAX_TEXT_BYTES:
        raise CodecError(f"text longer than {MAX_TEXT_BYTES} bytes")


def _encode_checked(spec: CodecSpec, text: str) -> bytes | None:
    if spec.kind is Kind.PPM:
        return bytes([spec.codec_id]) + _ppm_model(spec.codec_id).encode(text)
    assert spec.charset is not None
    try:
        raw = text.encode(spec.charset)
    except UnicodeEncodeError:
        return None
    if spec.kind is Kind.STORED:
        return bytes([spec.codec_id]) + raw
    return bytes([spec.codec_id]) + deflate(raw, _zdict(spec.codec_id))


def _decode_payload(spec: CodecSpec, payload: bytes, max_bytes: int) -> str:
    if spec.kind is Kind.PPM:
        # rANS payloads and texts are in bijection (docs/codec.md), so no re-encode check.
        return _ppm_model(spec.codec_id).decode(payload, max_bytes)
    assert spec.charset is not None
    if spec.kind is Kind.STORED:
        # Every charset here takes at least one byte per character of at least one UTF-8 byte.
        if len(payload) > max_bytes:
            raise CodecError(f"text longer than {max_bytes} bytes")
        raw = payload
    else:
        raw = inflate(payload, _zdict(spec.codec_id), max_bytes)
    try:
        return raw.decode(spec.charset)
    except UnicodeDecodeError:
        raise CodecError(f"{spec.name}: invalid {spec.charset} bytes") from None


def _read_data_file(name: str) -> str:
    path = resources.files("relay.codec").joinpath("dictionaries", name)
    return path.read_bytes().decode("utf-8")


@cache
def _zdict(codec_id: int) -> bytes:
    spec = SPECS[codec_id]
    assert spec.data_file is not None and spec.charset is not None
    zdict = _read_data_file(spec.data_file).encode(spec.charset)
    if len(zdict) > MAX_ZDICT:
        raise RuntimeError(f"dictionary {spec.data_file} exceeds {MAX_ZDICT} bytes")
    return zdict


@cache
def _ppm_model(codec_id: int) -> PPMModel:
    spec = SPECS[codec_id]
    assert spec.data_file is not None
    return PPMModel(_read_data_file(spec.data_file), spec.order)


assert set(FAMILIES) >= {s.family for s in SPECS.values() if s.family is not None}
