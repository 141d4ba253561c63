"""The field map of a bulletin: typed :class:`Content` <-> canonical CBOR map, strictly checked."""

from __future__ import annotations

import re
from typing import Any

from relay.wire import cbor
from relay.wire.errors import WireError
from relay.wire.fields import (
    CATEGORIES,
    CERTAINTIES,
    EVENTS,
    LANGUAGES,
    MAX_AREA_TEXT,
    MAX_GEOHASH,
    MAX_LAT_E5,
    MAX_LIFETIME,
    MAX_LON_E5,
    MAX_RADIUS_M,
    MAX_SHORT_TEXT,
    REVOCATION_REASONS,
    SEVERITIES,
    URGENCIES,
    Content,
    Field,
    Kind,
    SafetyInfo,
)
from relay.wire.text_rules import label_problem

# A text-valued language: BCP 47 language[-Script][-REGION] in its canonical letter case.
LANG_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")
GEOHASH = re.compile(rf"[0-9b-hjkmnp-z]{{1,{MAX_GEOHASH}}}")

_SAFETY_CODES = {
    Field.SEVERITY: SEVERITIES,
    Field.URGENCY: URGENCIES,
    Field.CERTAINTY: CERTAINTIES,
}


def _code_or_text(value: str, table: tuple[str, ...]) -> int | str:
    """Wire value of ``value``: its index in ``table`` if listed, else the text itself."""
    return table.index(value) if value in table else value


def fields_from_content(content: Content) -> bytes:
    """Canonical CBOR map of every field of ``content`` that is set (text travels apart)."""
    fields: dict[int, Any] = {}
    if content.lang != "und":
        fields[Field.LANG] = _code_or_text(content.lang, LANGUAGES)
    if content.lifetime is not None:
        fields[Field.LIFETIME] = content.lifetime
    if content.ref is not None:
        fields[Field.REF] = content.ref
    safety = content.safety
    if safety is not None:
        fields[Field.EVENT] = _code_or_text(safety.event, EVENTS)
        fields[Field.CATEGORY] = _code_or_text(safety.category, CATEGORIES)
        fields[Field.SEVERITY] = SEVERITIES.index(safety.severity)
        fields[Field.URGENCY] = URGENCIES.index(safety.urgency)
        fields[Field.CERTAINTY] = CERTAINTIES.index(safety.certainty)
        if safety.area is not None:
            fields[Field.AREA] = safety.area
        if safety.point is not None:
            fields[Field.POINT] = list(safety.point)
        if safety.geohash is not None:
            fields[Field.GEOHASH] = safety.geohash
    if content.subject_key is not None:
        fields[Field.SUBJECT_KEY] = content.subject_key
    if content.name is not None:
        fields[Field.NAME] = content.name
    if content.kinds is not None:
        fields[Field.KINDS] = content.kinds
    if content.revoked is not None:
        fields[Field.REVOKED] = content.revoked
    if content.reason is not None:
        fields[Field.REASON] = REVOCATION_REASONS.index(content.reason)
    encoded = cbor.encode({int(key): value for key, value in fields.items()})
    # Validate by decoding: whatever we send must pass our own receiver's checks.
    content_from_fields(content.kind, content.author, content.created, encoded)
    return encoded


def content_from_fields(
    kind: Kind, author: bytes, created: int, body: bytes
) -> tuple[Content, int]:
    """Decode the field map at the start of ``body``; return content (no text) and map length."""
    content, end, _ = fields_and_keys(kind, author, created, body)
    return content, end


def fields_and_keys(
    kind: Kind, author: bytes, created: int, body: bytes
) -> tuple[Content, int, frozenset[int]]:
    """:func:`content_from_fields`, and the keys the map holds (every one was read).

    Fields are read in key order, so that of two problems the lower key's is reported; a key
    that is absent costs one membership test."""
    value, end = cbor.decode_prefix(body)
    if not isinstance(value, dict):
        raise WireError("bad-type", "field map must be a CBOR map")
    reader = _FieldReader(value)
    # The common values are taken inline; anything else goes through the reader, which checks
    # it (and says what is wrong) exactly as for every other field.
    code = value.get(0)
    if code is None:
        lang = "und"
    elif type(code) is int and 0 < code < len(LANGUAGES):
        lang = LANGUAGES[code]
    else:
        lang = reader.lang()
    lifetime = value.get(1)
    if lifetime is not None and not (type(lifetime) is int and 0 <= lifetime <= MAX_LIFETIME):
        lifetime = reader.uint(Field.LIFETIME, MAX_LIFETIME)
    ref = reader.fixed_bytes(Field.REF, 8) if 2 in value else None
    safety = _safety(reader) if not _NO_SAFETY.isdisjoint(value) else None
    subject_key = reader.fixed_bytes(Field.SUBJECT_KEY, 32) if 11 in value else None
    name = reader.label(Field.NAME, MAX_SHORT_TEXT) if 12 in value else None
    kinds = reader.uint(Field.KINDS, 0xFF) if 13 in value else None
    revoked = reader.fixed_bytes(Field.REVOKED, 8) if 14 in value else None
    reason_code = reader.uint(Field.REASON, len(REVOCATION_REASONS) - 1) if 15 in value else None
    keys = frozenset(value)
    if not keys <= _KNOWN:
        unknown = [key for key in value if key not in _KNOWN]
        raise WireError("unknown-field", f"unknown field key(s) {sorted(map(str, unknown))}")
    content = Content(
        kind, author, created, "", lang, lifetime, ref, safety, subject_key, name, kinds, revoked,
        None if reason_code is None else REVOCATION_REASONS[reason_code],
    )  # fmt: skip
    return content, end, keys


_KNOWN = frozenset(int(key) for key in Field)  # every one is read when present
_NO_SAFETY = frozenset(range(Field.EVENT, Field.GEOHASH + 1))  # keys of a safety alert


def _safety(reader: _FieldReader) -> SafetyInfo | None:
    safety_keys = (Field.EVENT, Field.CATEGORY, Field.SEVERITY, Field.URGENCY, Field.CERTAINTY)
    present = [key for key in safety_keys if key in reader.fields]
    optional = (Field.AREA, Field.POINT, Field.GEOHASH)
    if not present:
        if any(key in reader.fields for key in optional):
            raise WireError("bad-fields", "area fields without a safety alert")
        return None
    if len(present) != len(safety_keys):
        raise WireError(
            "bad-fields", "safety alert lacks event/category/severity/urgency/certainty"
        )
    fields = reader.fields
    event = _listed(fields, Field.EVENT, EVENTS) or reader.coded(
        Field.EVENT, EVENTS, MAX_SHORT_TEXT
    )
    category = _listed(fields, Field.CATEGORY, CATEGORIES) or reader.coded(
        Field.CATEGORY, CATEGORIES, MAX_SHORT_TEXT
    )
    severity = (
        _listed(fields, Field.SEVERITY, SEVERITIES)
        or SEVERITIES[reader.uint(Field.SEVERITY, len(SEVERITIES) - 1) or 0]
    )
    urgency = (
        _listed(fields, Field.URGENCY, URGENCIES)
        or URGENCIES[reader.uint(Field.URGENCY, len(URGENCIES) - 1) or 0]
    )
    certainty = (
        _listed(fields, Field.CERTAINTY, CERTAINTIES)
        or CERTAINTIES[reader.uint(Field.CERTAINTY, len(CERTAINTIES) - 1) or 0]
    )
    point = reader.point(Field.POINT) if Field.POINT in fields else None
    area = reader.label(Field.AREA, MAX_AREA_TEXT) if Field.AREA in fields else None
    geohash = reader.geohash(Field.GEOHASH) if Field.GEOHASH in fields else None
    return SafetyInfo(
        event or "other", category or "other", severity, urgency, certainty, area, point, geohash
    )


def _listed(fields: dict[Any, Any], key: int, table: tuple[str, ...]) -> str | None:
    """The table value a valid code stands for; None for anything the reader must check."""
    code = fields[key]
    if type(code) is int and 0 <= code < len(table):
        return table[code]
    return None


class _FieldReader:
    """Typed, bounded access to the decoded map (the caller checks for keys no one reads)."""

    def __init__(self, fields: dict[Any, Any]) -> None:
        self.fields = fields

    def _get(self, key: Field) -> Any:
        return self.fields.get(key)  # a Field hashes and compares as its integer key

    def _bad(self, key: Field, what: str) -> WireError:
        return WireError("bad-field", f"field {key.name.lower()} ({int(key)}): {what}")

    def uint(self, key: Field, maximum: int) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, int) or not 0 <= value <= maximum:
            raise self._bad(key, f"expected an integer 0..{maximum}")
        return value

    def label(self, key: Field, max_bytes: int) -> str | None:
        """A single-line text of 1..max_bytes bytes under the label rules (relay.wire.text_rules).

        A bad ``name`` is ``bad-name`` (what a trust decision shows); any other ``bad-field``."""
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(key, f"expected text of 1..{max_bytes} bytes")
        problem = label_problem(value, max_bytes)
        if problem is not None:
            if key is Field.NAME:
                raise WireError("bad-name", f"name: {problem}")
            raise self._bad(key, problem)
        return value

    def coded(self, key: Field, table: tuple[str, ...], max_bytes: int) -> str | None:
        """A table code, or a label that is no table value in any ASCII letter case."""
        value = self.fields.get(key)
        if isinstance(value, int):
            code = self.uint(key, len(table) - 1)
            return None if code is None else table[code]
        text = self.label(key, max_bytes)
        if text is not None and text.isascii() and text.lower() in table:
            raise self._bad(key, "a listed value must travel as its code")
        return text

    def lang(self) -> str:
        """Key 0: a code 1..5, or a language tag not in the table; absent means ``und``."""
        key = Field.LANG
        value = self._get(key)
        if value is None:
            return "und"
        if isinstance(value, int):
            if not 1 <= value < len(LANGUAGES):
                raise self._bad(key, f"expected a code 1..{len(LANGUAGES) - 1} (und: omit the key)")
            return LANGUAGES[value]
        if not isinstance(value, str) or LANG_TAG.fullmatch(value) is None:
            raise self._bad(key, "expected a code or a tag like 'de', 'uz-Cyrl' or 'es-419'")
        if value.lower() in {name.lower() for name in LANGUAGES}:
            raise self._bad(key, "a listed language must travel as its code")
        return value

    def geohash(self, key: Field) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or GEOHASH.fullmatch(value) is None:
            raise self._bad(key, f"expected 1..{MAX_GEOHASH} lower-case geohash characters")
        return value

    def fixed_bytes(self, key: Field, length: int) -> bytes | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, bytes) or len(value) != length:
            raise self._bad(key, f"expected {length} bytes")
        return value

    def point(self, key: Field) -> tuple[int, int, int] | None:
        value = self._get(key)
        if value is None:
            return None
        ok = isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value)
        if not ok:
            raise self._bad(key, "expected [latitude e5, longitude e5, radius m]")
        if not -MAX_LAT_E5 <= value[0] <= MAX_LAT_E5:
            raise self._bad(key, "latitude must be -9000000..9000000 (x 1e-5 degrees)")
        if not -MAX_LON_E5 <= value[1] < MAX_LON_E5:
            raise self._bad(key, "longitude must be -18000000..17999999 (180 E is -18000000)")
        if not 0 <= value[2] <= MAX_RADIUS_M:
            raise self._bad(key, f"radius must be 0..{MAX_RADIUS_M} m")
        return (value[0], value[1], value[2])
