"""Bulletin kinds, field keys, code tables and the typed content of a bulletin (wire v1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from relay import vocabulary

# The code tables: a value's code is its position (relay.vocabulary defines them once).
from relay.vocabulary import CATEGORIES as CATEGORIES
from relay.vocabulary import CERTAINTIES as CERTAINTIES
from relay.vocabulary import EVENTS as EVENTS
from relay.vocabulary import REVOCATION_REASONS as REVOCATION_REASONS
from relay.vocabulary import SEVERITIES as SEVERITIES
from relay.vocabulary import URGENCIES as URGENCIES


class Kind(IntEnum):
    """Bulletin kind: the low nibble of the frame byte (values 0-7)."""

    NEWS = 0
    SAFETY = 1
    CORRECTION = 2
    RETRACTION = 3
    CERTIFICATE = 4
    REVOCATION = 5
    ANNOUNCEMENT = 6


KIND_NAMES = {kind: vocabulary.KIND_NAMES[kind] for kind in Kind}
KIND_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}


class Field(IntEnum):
    """CBOR map keys of the field map (all < 24, so each key is one byte)."""

    LANG = 0
    LIFETIME = 1
    REF = 2
    EVENT = 3
    CATEGORY = 4
    SEVERITY = 5
    URGENCY = 6
    CERTAINTY = 7
    AREA = 8
    POINT = 9
    GEOHASH = 10
    SUBJECT_KEY = 11
    NAME = 12
    KINDS = 13
    REVOKED = 14
    REASON = 15


# Code tables: index = wire value.  Text values outside a table travel as CBOR text.
LANGUAGES = ("und", "ru", "kk", "kk-Latn", "en", "mixed")

# Bit k of a certificate's KINDS mask allows kind k; CERTIFY_BIT allows issuing certificates.
CERTIFY_BIT = 1 << int(Kind.CERTIFICATE)
ALL_CONTENT_KINDS = (
    (1 << Kind.NEWS) | (1 << Kind.SAFETY) | (1 << Kind.CORRECTION) | (1 << Kind.RETRACTION)
)

MAX_SHORT_TEXT = 64  # bytes of UTF-8 in names and text-valued events and categories
MAX_AREA_TEXT = 160
MAX_GEOHASH = 12  # characters of the geohash alphabet
MAX_LAT_E5 = 9_000_000  # latitude in 1e-5 degrees: -90..90
MAX_LON_E5 = 18_000_000  # longitude in 1e-5 degrees: -180 (included)..180 (excluded)
MAX_RADIUS_M = 1_000_000
MAX_LIFETIME = 400 * 24 * 3600  # seconds; certificates may live about a year


@dataclass(frozen=True, slots=True)
class SafetyInfo:
    """CAP-aligned fields of a safety alert (the description is the bulletin text)."""

    event: str = "other"
    category: str = "safety"
    severity: str = "unknown"
    urgency: str = "unknown"
    certainty: str = "unknown"
    area: str | None = None
    point: tuple[int, int, int] | None = None  # latitude e5, longitude e5, radius in metres
    geohash: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """Everything an author signs, in typed form (see docs/protocol.md for the byte layout)."""

    kind: Kind
    author: bytes  # 8-byte key id
    created: int  # Unix seconds on the author's clock
    text: str = ""
    lang: str = "und"
    lifetime: int | None = None  # seconds after ``created``; None = does not expire
    ref: bytes | None = None  # id of the bulletin corrected or retracted
    safety: SafetyInfo | None = None
    subject_key: bytes | None = None  # certificate / announcement: the 32-byte public key
    name: str | None = None  # certificate: issuer-asserted name; announcement: self-claimed
    kinds: int | None = None  # certificate: bitmask of allowed kinds
    revoked: bytes | None = None  # revocation: the key id revoked
    reason: str | None = None  # revocation reason
