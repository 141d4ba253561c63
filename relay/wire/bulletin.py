"""Bulletin frames (wire v1): encode, sign, decode and check signatures.

Layout (all integers big-endian)::

    offset  size  what
    0       1     frame byte = (VERSION << 4) | kind
    1       8     author key id
    9       4     created, Unix seconds on the author's clock
    13      n     field map, canonical CBOR (relay.wire.codec_fields)
    13+n    m     text blob: codec byte + payload (relay.codec), m may be 0
    end-64  64    Ed25519 signature over SIGNING_DOMAIN + bytes[0:end-64]

The bulletin id is BLAKE2b-64 of bytes[0:end-64] with personalisation ``jarshy-id-v1``.

Decoding comes in two steps so that a receiver can check the signature before it pays for the
text: :func:`parse` checks the header and the field map and keeps the text blob compressed (an
:class:`Envelope`); :func:`open_text` decodes the text and checks the kind rules. :func:`decode`
does both. The signature covers the compressed bytes, so :func:`verify` works on either.
"""

from __future__ import annotations

import hashlib
from dataclasses import InitVar, dataclass, field
from functools import lru_cache
from typing import Protocol

from relay.codec import CodecError, decode_text, encode_text
from relay.wire.codec_fields import fields_and_keys, fields_from_content
from relay.wire.errors import WireError
from relay.wire.fields import Content, Field, Kind
from relay.wire.text_rules import body_problem

VERSION = 1
HEADER_LEN = 13
SIGNATURE_LEN = 64
KEY_ID_LEN = 8
ID_LEN = 8
PACKET_MAX = 229  # a frame: the firmware's 231-byte payload less the link's 2-byte magic (§1)
MAX_BULLETIN = 16 * 216  # the most that 16 fragments carry
SIGNING_DOMAIN = b"jarshy-bulletin-v1\x00"
FRAGMENT_TYPE = 8  # frame types 8-15 are not bulletins (fragments, sync control)


class Signer(Protocol):
    """Anything that can sign as an author (relay.crypto.keys.Identity)."""

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


def bulletin_id(signed_bytes: bytes) -> bytes:
    """The 8-byte id of a bulletin from the bytes its signature covers."""
    return hashlib.blake2b(signed_bytes, digest_size=ID_LEN, person=b"jarshy-id-v1").digest()


@dataclass(frozen=True, slots=True)
class Bulletin:
    """A decoded bulletin: its typed content plus the exact bytes that were signed."""

    content: Content
    raw: bytes
    known_id: InitVar[bytes | None] = None  # the id, when the caller has computed it already
    _id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self, known_id: bytes | None) -> None:
        object.__setattr__(self, "_id", known_id or bulletin_id(self.raw[:-SIGNATURE_LEN]))

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:-SIGNATURE_LEN]

    @property
    def signature(self) -> bytes:
        return self.raw[-SIGNATURE_LEN:]

    @property
    def id(self) -> bytes:
        return self._id

    @property
    def kind(self) -> Kind:
        return self.content.kind

    @property
    def author(self) -> bytes:
        return self.content.author

    def signing_message(self) -> bytes:
        """The message the Ed25519 signature is over (domain-separated)."""
        return SIGNING_DOMAIN + self.signed_bytes


def encode_unsigned(content: Content) -> bytes:
    """Header, field map and text blob of ``content`` (what the signature will cover)."""
    if len(content.author) != KEY_ID_LEN:
        raise ValueError("author must be an 8-byte key id")
    if not 0 <= content.created < 2**32:
        raise ValueError("created must fit an unsigned 32-bit Unix time")
    header = bytes([(VERSION << 4) | int(content.kind)]) + content.author
    header += content.created.to_bytes(4, "big")
    # The codec's tie-break hint names families in lower case ("kk-latn" for kk-Latn).
    text_blob = encode_text(content.text, content.lang.lower()) if content.text else b""
    return header + fields_from_content(content) + text_blob


def sign(content: Content, signer: Signer) -> Bulletin:
    """Encode ``content`` and sign it; the author key id must be the signer's."""
    if content.author != signer.key_id:
        raise ValueError("content.author is not the signer's key id")
    unsigned = encode_unsigned(content)
    raw = unsigned + signer.sign(SIGNING_DOMAIN + unsigned)
    if len(raw) > MAX_BULLETIN:
        raise ValueError(
            f"bulletin is {len(raw)} bytes; the most a bulletin may be is {MAX_BULLETIN}"
        )
    decoded = decode(raw)  # the encoder and the decoder must agree, always
    return decoded


@dataclass(frozen=True, slots=True)
class Envelope:
    """A bulletin parsed up to its text: header and field map checked, text blob not decoded.

        ``content`` has every field but the text (``text`` is ""); ``text_blob`` is the encoded text
        (b"" for none). The kind's field rules hold (whether there is a text is whether there is a
    blob); nothing here says the text decodes: ``open_text`` (the read path, docs/protocol.md §7).
    """

    content: Content
    text_blob: bytes
    raw: bytes
    id: bytes

    @property
    def author(self) -> bytes:
        return self.content.author

    @property
    def kind(self) -> Kind:
        return self.content.kind

    def textless(self) -> Bulletin:
        """A :class:`Bulletin` whose text is "" whatever the blob holds, for the checks that never
        read the text (key lookup, trust verdict, learning keys); never show or store it."""
        return Bulletin(self.content, self.raw, self.id)


def decode(raw: bytes) -> Bulletin:
    """Parse and validate the structure of a bulletin (not its signature: see ``verify``)."""
    return open_text(parse(raw))


def parse(raw: bytes) -> Envelope:
    """Check the header and the field map of a bulletin, leaving its text blob undecoded."""
    if len(raw) > MAX_BULLETIN:
        raise WireError("too-large", f"bulletin of {len(raw)} bytes exceeds {MAX_BULLETIN}")
    if len(raw) < HEADER_LEN + 1 + SIGNATURE_LEN:
        raise WireError("truncated", f"bulletin of {len(raw)} bytes is too short")
    frame = raw[0]
    if frame >> 4 != VERSION:
        raise WireError("unknown-version", f"format version {frame >> 4} is not supported")
    kind_value = frame & 0x0F
    if kind_value >= FRAGMENT_TYPE:
        raise WireError("not-a-bulletin", f"frame type {kind_value} is not a bulletin")
    kind = _KINDS.get(kind_value)
    if kind is None:
        raise WireError("unknown-kind", f"bulletin kind {kind_value} is not defined")
    author = bytes(raw[1:9])
    created = int.from_bytes(raw[9:13], "big")
    body = raw[HEADER_LEN:-SIGNATURE_LEN]
    content_without_text, text_offset, keys = fields_and_keys(kind, author, created, body)
    _check_kind_rules(content_without_text, keys, has_text=text_offset < len(body))
    raw = bytes(raw)
    return Envelope(
        content_without_text, bytes(body[text_offset:]), raw, bulletin_id(raw[:-SIGNATURE_LEN])
    )


def open_text(envelope: Envelope) -> Bulletin:
    """Decode the text of a parsed bulletin and check the kind rules: the full :func:`decode`."""
    blob = envelope.text_blob
    text = ""
    if blob:
        try:
            text = decode_text(blob)
        except CodecError as exc:
            raise WireError("bad-text", f"text does not decode: {exc}") from None
    content = _with_text(envelope.content, text)
    if blob:
        problem = body_problem(text)
        if problem is not None:
            raise WireError("bad-text", f"text: {problem}")
    return Bulletin(content, envelope.raw, envelope.id)


def verify(bulletin: Bulletin | Envelope, public_key: bytes) -> bool:
    """True if the signature is the author's; the key must hash to the author key id.

    The signature covers the encoded text, so an :class:`Envelope` (text not decoded) verifies
    exactly as the decoded :class:`Bulletin` does.
    """
    from relay.crypto.keys import verify as verify_signature

    if not isinstance(public_key, bytes) or _author_of(public_key) != bulletin.author:
        return False
    raw = bulletin.raw
    signed = raw[:-SIGNATURE_LEN]
    return verify_signature(public_key, SIGNING_DOMAIN + signed, raw[-SIGNATURE_LEN:])


def _with_text(content: Content, text: str) -> Content:
    from dataclasses import replace

    return replace(content, text=text)


# Field keys each kind requires and allows besides them (docs/protocol.md section 3, "Rules per
# kind"); every other key is forbidden. Text: required, optional or forbidden. Key 0 (lang)
# describes the text, so it is allowed exactly when the bulletin has a text.
_SAFETY = frozenset({Field.EVENT, Field.CATEGORY, Field.SEVERITY, Field.URGENCY, Field.CERTAINTY})
_AREA = frozenset({Field.AREA, Field.POINT, Field.GEOHASH})
_KIND_RULES: dict[Kind, tuple[frozenset[Field], frozenset[Field], str]] = {
    Kind.NEWS: (frozenset(), frozenset({Field.LIFETIME}), "required"),
    Kind.SAFETY: (_SAFETY | {Field.LIFETIME}, _AREA, "required"),
    Kind.CORRECTION: (frozenset({Field.REF}), frozenset({Field.LIFETIME}), "required"),
    Kind.RETRACTION: (frozenset({Field.REF}), frozenset({Field.LIFETIME}), "optional"),
    Kind.CERTIFICATE: (
        frozenset({Field.SUBJECT_KEY, Field.NAME, Field.KINDS, Field.LIFETIME}),
        frozenset(),
        "forbidden",
    ),
    Kind.REVOCATION: (frozenset({Field.REVOKED, Field.REASON}), frozenset(), "forbidden"),
    Kind.ANNOUNCEMENT: (
        frozenset({Field.SUBJECT_KEY, Field.NAME}),
        frozenset({Field.LIFETIME}),
        "forbidden",
    ),
}


def present_fields(content: Content) -> frozenset[Field]:
    """The field keys ``content`` puts in its field map."""
    safety = content.safety
    keys = {
        Field.LANG: content.lang != "und",
        Field.LIFETIME: content.lifetime is not None,
        Field.REF: content.ref is not None,
        Field.AREA: safety is not None and safety.area is not None,
        Field.POINT: safety is not None and safety.point is not None,
        Field.GEOHASH: safety is not None and safety.geohash is not None,
        Field.SUBJECT_KEY: content.subject_key is not None,
        Field.NAME: content.name is not None,
        Field.KINDS: content.kinds is not None,
        Field.REVOKED: content.revoked is not None,
        Field.REASON: content.reason is not None,
    }
    present = {key for key, there in keys.items() if there}
    return frozenset(present | (_SAFETY if safety is not None else set()))


def _check_kind_rules(content: Content, present: frozenset[int], has_text: bool) -> None:
    """Which fields each kind requires and forbids (docs/protocol.md, 'Rules per kind');
    ``present``: the keys of the field map. Combinations that passed are remembered (a few dozen
    exist); an announcement's key is checked every time."""
    kind = content.kind
    if (kind, present, has_text) in _RULES_PASSED:
        if kind is Kind.ANNOUNCEMENT:
            _check_announcement(content)
        return
    required, optional, text_rule = _KIND_RULES[kind]

    def bad(what: str) -> WireError:
        return WireError("bad-fields", f"{kind.name.lower()}: {what}")

    def names(keys: frozenset[int]) -> str:
        return ", ".join(f"{Field(key).name.lower()} ({key})" for key in sorted(keys))

    if text_rule == "required" and not has_text:
        raise bad("text required")
    if text_rule == "forbidden" and has_text:
        raise bad("no text allowed")
    if not required <= present:
        raise bad(f"missing {names(required - present)}")
    allowed = required | optional | ({Field.LANG} if has_text else set())
    if not present <= allowed:
        raise bad(f"not allowed: {names(present - allowed)}")
    if kind is Kind.ANNOUNCEMENT:
        _check_announcement(content)
    _RULES_PASSED.add((kind, present, has_text))


_RULES_PASSED: set[tuple[Kind, frozenset[int], bool]] = set()  # bounded: only valid combinations
_KINDS = {int(kind): kind for kind in Kind}


def _check_announcement(content: Content) -> None:
    assert content.subject_key is not None
    if _key_id(content.subject_key) != content.author:
        raise WireError("bad-fields", "announcement: key 11 is not the author's key")


@lru_cache(maxsize=256)
def _author_of(public_key: bytes) -> bytes:
    """The key id of ``public_key`` (relay.crypto.keys.key_id), remembered for the few keys a
    node checks signatures with."""
    return _key_id(public_key)


def _key_id(public_key: bytes) -> bytes:
    """relay.crypto.keys.key_id, without importing the crypto layer into the wire format."""
    return hashlib.blake2b(public_key, digest_size=KEY_ID_LEN, person=b"jarshy-key-v1").digest()
