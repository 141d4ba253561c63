"""Test vectors of wire format v1, reproducible from fixed seeds (`python -m relay.wire.vectors`).

docs/protocol.md lists the output; tests/test_vectors.py fails if code and document disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind, SafetyInfo
from relay.wire.fragments import split

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z


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
    keys = {
        name: {"seed": ident.seed.hex(), "public_key": ident.public_key.hex(),
               "key_id": ident.key_id.hex()}
        for name, ident in (("root", root), ("alice", alice), ("mallory", mallory))
    }  # fmt: skip
    return [{"keys": keys}, *out]


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
