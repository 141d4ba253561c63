"""Test vectors of wire format v1, reproducible from fixed seeds (`python -m relay.wire.vectors`).

docs/protocol.md lists the output; tests/test_vectors.py fails if code and document disagree.
Verdicts hold at the receiver time ``NOW`` (the first item's ``now``): trust depends on the
receiver's clock (a certificate expires), so a verdict without a time means nothing.

Besides well-formed bulletins the list holds validly signed bulletins that a receiver must reject
(``"error"``: the WireError code), one for each rule an independent decoder is likely to miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from relay.codec import _ppm_model, encode_as
from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from relay.wire import cbor
from relay.wire.fields import Content, Field, Kind, SafetyInfo
from relay.wire.fragments import split

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = CREATED + 600  # the receiver's clock at which every verdict below holds


def vector_identity(name: str) -> Identity:
    """Identity whose Ed25519 seed is SHA-256("jarshy-vector:" + name)."""
    return Identity(name, hashlib.sha256(b"jarshy-vector:" + name.encode()).digest())


def vectors() -> list[dict[str, object]]:
    """Every vector: inputs, exact bytes and the expected verdict with ``root`` trusted."""
    root = vector_identity("root")
    alice = vector_identity("alice")
    mallory = vector_identity("mallory")
    cert = wire.sign(
        Content(
            Kind.CERTIFICATE, root.key_id, CREATED, subject_key=alice.public_key,
            name="Alice", kinds=0b1111, lifetime=90 * 86400,
        ),
        root,
    )  # fmt: skip
    news = wire.sign(
        Content(Kind.NEWS, alice.key_id, CREATED + 60, "Вода будет завтра с 10:00 до 14:00.", "ru"),
        alice,
    )
    alert = wire.sign(
        Content(
            Kind.SAFETY, root.key_id, CREATED + 120, "Өрт! Ғимараттан шығыңыз.", "kk",
            lifetime=6 * 3600,
            safety=SafetyInfo("fire", "fire", "extreme", "immediate", "observed",
                              "Алматы, Абай 10", (4323800, 7694500, 300)),
        ),
        root,
    )  # fmt: skip
    forged_unsigned = wire.encode_unsigned(
        Content(Kind.SAFETY, root.key_id, CREATED + 180, "Evacuate the city now.", "en",
                lifetime=3600, safety=SafetyInfo(severity="extreme"))
    )  # fmt: skip
    forged = forged_unsigned + mallory.sign(wire.SIGNING_DOMAIN + forged_unsigned)
    tampered = bytearray(news.raw)
    tampered[20] ^= 0x01
    long_text = "Жаңалықтар: " + " ".join(f"{i * 7919 % 10007}" for i in range(120))
    long = wire.sign(replace(news.content, text=long_text, created=CREATED + 240), alice)
    out: list[dict[str, object]] = [
        {"name": "certificate root->alice", "bytes": cert.raw.hex(), "id": cert.id.hex(),
         "verdict": "trusted"},
        {"name": "news by alice", "bytes": news.raw.hex(), "id": news.id.hex(),
         "text": news.content.text, "verdict": "trusted (after the certificate)"},
        {"name": "safety alert by root", "bytes": alert.raw.hex(), "id": alert.id.hex(),
         "text": alert.content.text, "verdict": "trusted"},
        {"name": "forged: names root, signed by mallory", "bytes": forged.hex(),
         "verdict": "invalid (bad signature)"},
        {"name": "news by alice with bit 0 of byte 20 flipped", "bytes": bytes(tampered).hex(),
         "verdict": "invalid (bad signature)"},
        {"name": "fragmented news by alice", "id": long.id.hex(),
         "packets": [packet.hex() for packet in split(long.raw)], "text": long_text,
         "verdict": "trusted (after the certificate)"},
    ]  # fmt: skip
    out += _rejected(root, alice, mallory, news.id)
    keys = {
        name: {"seed": ident.seed.hex(), "public_key": ident.public_key.hex(),
               "key_id": ident.key_id.hex()}
        for name, ident in (("root", root), ("alice", alice), ("mallory", mallory))
    }  # fmt: skip
    return [{"now": NOW, "keys": keys}, *out]


def _signed(signer: Identity, kind: Kind, created: int, fields: dict[int, Any], blob: bytes) -> str:
    """A bulletin signed by ``signer`` with exactly these field map entries and text blob."""
    unsigned = bytes([0x10 | kind]) + signer.key_id + created.to_bytes(4, "big")
    unsigned += cbor.encode(fields) + blob
    return (unsigned + signer.sign(wire.SIGNING_DOMAIN + unsigned)).hex()


def _rejected(
    root: Identity, alice: Identity, mallory: Identity, news_id: bytes
) -> list[dict[str, object]]:
    """Validly signed bulletins that break one rule of sections 3-4 each."""
    t = CREATED + 300
    text = "Вода будет завтра."
    blob = encode_as(16, text)
    assert blob is not None
    alert: dict[int, Any] = {
        Field.LIFETIME: 3600, Field.EVENT: 2, Field.CATEGORY: 6, Field.SEVERITY: 4,
        Field.URGENCY: 4, Field.CERTAINTY: 4,
    }  # fmt: skip
    certificate: dict[int, Any] = {
        Field.LIFETIME: 86400, Field.SUBJECT_KEY: mallory.public_key, Field.NAME: "Mallory",
        Field.KINDS: 1,
    }  # fmt: skip
    cases: list[tuple[str, str, str]] = [
        ("news with key 15 (reason), which only a revocation may carry", "bad-fields",
         _signed(alice, Kind.NEWS, t, {Field.LANG: 1, Field.REASON: 1}, blob)),
        ("certificate with the safety keys 3-7", "bad-fields",
         _signed(root, Kind.CERTIFICATE, t, {**alert, **certificate}, b"")),
        ("news with lang code 0 (und is spelled by leaving key 0 out)", "bad-field",
         _signed(alice, Kind.NEWS, t, {Field.LANG: 0}, blob)),
        ("news with lang text 'RU' (code 1 in another letter case)", "bad-field",
         _signed(alice, Kind.NEWS, t, {Field.LANG: "RU"}, blob)),
        ("safety alert at longitude +180 (written -18000000)", "bad-field",
         _signed(root, Kind.SAFETY, t, {**alert, Field.POINT: [4323800, 18000000, 300]},
                 encode_as(0, "Fire.") or b"")),
        ("retraction whose text blob holds the empty text (no text is no blob)", "bad-text",
         _signed(alice, Kind.RETRACTION, t, {Field.REF: news_id}, b"\x00")),
        ("news whose text holds a carriage return", "bad-text",
         _signed(alice, Kind.NEWS, t, {Field.LANG: 4}, encode_as(0, "Line\r\nbreak") or b"")),
        ("certificate whose name holds U+202E (right-to-left override)", "bad-name",
         _signed(root, Kind.CERTIFICATE, t, {**certificate, Field.NAME: "\u202eyrollaM"}, b"")),
        ("news whose PPM payload escapes a modelled symbol to order -1 (second spelling)",
         "bad-text",
         _signed(alice, Kind.NEWS, t, {Field.LANG: 1},
                 bytes([16]) + escaped_ppm_payload(16, text, 0))),
    ]  # fmt: skip
    return [
        {
            "name": name,
            "bytes": raw,
            # a bad text does not change a verdict: the bulletin is admitted and read as
            # unreadable (docs/protocol.md §4, "When the text is checked")
            "verdict": "trusted, text unreadable" if error == "bad-text" else "invalid",
            "error": error,
        }
        for name, error, raw in cases
    ]


def escaped_ppm_payload(codec_id: int, text: str, escape_at: int) -> bytes:
    """The PPM payload of ``text`` except that symbol ``escape_at`` (``len(text)``: EOS) escapes
    every table of its walk and is coded at order -1: the second, longer spelling that decoders
    must refuse (docs/codec.md, "Canonical form"). ``escape_at`` -1: the encoder's payload."""
    from relay.codec._ppm import EOS, STATE_START

    model = _ppm_model(codec_id)
    steps: list[tuple[int, int, int]] = []
    state = model._root
    for position, ch in enumerate((*text, EOS)):
        forced = position == escape_at
        for node in state.chain:
            i = node.find(ch)
            if i >= 0 and not forced:
                freq = node.freqs[i]
                steps.append((node.ends[i] - freq, freq, node.total))
                break
            steps.append((node.sym_total, node.esc, node.total))
        else:
            if ch == EOS:
                steps.append((0, 1, 545))
            else:
                steps += [(1 + (ord(ch) >> 11), 1, 545), (ord(ch) & 0x7FF, 1, 2048)]
        state = model._advance(state, ch) if ch else state
    x = STATE_START
    for start, freq, total in reversed(steps):
        x = (x // freq) * total + start + x % freq
    return x.to_bytes((x.bit_length() + 7) // 8, "big")


def update_document(path: str = "docs/protocol.md") -> None:
    """Rewrite the vectors block of docs/protocol.md from the code."""
    import re
    from pathlib import Path

    doc = Path(path)
    block = json.dumps(vectors(), ensure_ascii=False, indent=1)
    text = re.sub(
        r"<!-- vectors:begin -->.*<!-- vectors:end -->",
        lambda _: f"<!-- vectors:begin -->\n```json\n{block}\n```\n<!-- vectors:end -->",
        doc.read_text(encoding="utf-8"),
        flags=re.S,
    )
    doc.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--update-docs" in sys.argv:
        update_document()
    else:
        print(json.dumps(vectors(), ensure_ascii=False, indent=1))
