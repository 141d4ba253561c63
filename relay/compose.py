"""Building a bulletin's content from what an author asks for (pure; shared by the CLI and the API).

A :class:`Draft` carries typed values (a lifetime in seconds, a point in degrees, a reference as
bytes); :func:`build` checks them as a receiver would and returns the :class:`Content` to sign.
Problems are :class:`DraftError` with a field name and plain words, so the CLI can name its flag
and the API its parameter without one borrowing the other's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from relay import vocabulary
from relay.language import guess_language
from relay.wire.fields import KIND_BY_NAME, Content, Kind, SafetyInfo

SAFETY_TEXT_FIELDS = ("event", "category", "severity", "urgency", "certainty", "area", "geohash")

COMPOSE_KINDS = tuple(KIND_BY_NAME[name] for name in vocabulary.COMPOSE_KINDS)
SAFETY_LIFETIME = 24 * 3600  # a safety alert without an end of its own expires after a day


class DraftError(ValueError):
    """A draft that cannot become a bulletin: which field, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Point:
    """A circle in degrees and metres, as people give it."""

    latitude: float
    longitude: float
    radius_m: int

    def encoded(self) -> tuple[int, int, int]:
        """The wire's form (1e-5 degrees); raises DraftError when out of range."""
        lat, lon = round(self.latitude * 1e5), round(self.longitude * 1e5)
        if not (-9_000_000 <= lat <= 9_000_000 and -18_000_000 <= lon < 18_000_000):
            raise DraftError("point", "latitude must be within ±90 and longitude within -180..180")
        if not 0 <= self.radius_m <= 10**6:
            raise DraftError("point", "radius must be 0 to 1,000,000 metres")
        return lat, lon, int(self.radius_m)


@dataclass(frozen=True, slots=True)
class Draft:
    """What an author asks for: a kind, a text, and the fields of that kind."""

    kind: Kind
    text: str = ""
    lang: str | None = None  # None: guessed from the text
    lifetime: int | None = None  # seconds
    ref: bytes | None = None  # the id a correction or retraction refers to
    safety: SafetyInfo | None = None  # its point, if any, is given apart in degrees:
    point: Point | None = None


def build(draft: Draft, author: bytes, created: int) -> Content:
    """The content ``draft`` describes, signed by ``author`` at ``created`` (not yet signed)."""
    kind = draft.kind
    if kind not in COMPOSE_KINDS:
        raise DraftError("kind", "kind must be news, safety, correction or retraction")
    text = draft.text.strip()
    if kind is not Kind.RETRACTION and not text:
        raise DraftError("text", "a text is required")
    if draft.lifetime is not None and draft.lifetime <= 0:
        raise DraftError("expires", "the lifetime must be positive")
    lifetime = draft.lifetime
    safety = None
    if kind is Kind.SAFETY:
        safety = draft.safety or SafetyInfo()
        if draft.point is not None:
            safety = replace(safety, point=draft.point.encoded())
        lifetime = lifetime or SAFETY_LIFETIME
    elif draft.safety is not None or draft.point is not None:
        raise DraftError("safety", "safety fields are only for safety alerts")
    if kind in (Kind.CORRECTION, Kind.RETRACTION):
        if draft.ref is None or len(draft.ref) != 8:
            raise DraftError("ref", "the id (16 hex digits) of the bulletin it corrects is needed")
    elif draft.ref is not None:
        raise DraftError("ref", "only corrections and retractions refer to another bulletin")
    lang = (draft.lang or guess_language(text)) if text else "und"  # a lang goes with a text only
    return Content(kind, author, created, text, lang, lifetime, draft.ref, safety)


def parse_ref(text: str | None) -> bytes | None:
    """A bulletin id from its 16 hex digits (None stays None); DraftError otherwise."""
    if text is None or text == "":
        return None
    try:
        ref = bytes.fromhex(text)
    except ValueError:
        ref = b""
    if len(ref) != 8:
        raise DraftError("ref", "a bulletin id is 16 hex digits")
    return ref


def draft_from_params(params: dict[str, Any]) -> Draft:
    """A draft from the local API's JSON parameters, every type checked (DraftError otherwise)."""
    kind = KIND_BY_NAME.get(str(params.get("kind", "news")))
    if kind not in COMPOSE_KINDS:
        raise DraftError("kind", "kind must be news, safety, correction or retraction")
    expires = params.get("expires")
    if expires is not None and (
        isinstance(expires, bool) or not isinstance(expires, int | float) or not 0 < expires < 2**31
    ):
        raise DraftError("expires", "expires is a number of seconds")
    safety, point = None, None
    if kind is Kind.SAFETY:
        given = params.get("safety") or {}
        if not isinstance(given, dict):
            raise DraftError("safety", "safety is an object")
        point = _point_from_params(given.get("point"))
        values = {k: given[k] for k in SAFETY_TEXT_FIELDS if given.get(k) is not None}
        if any(not isinstance(v, str) for v in values.values()):
            raise DraftError("safety", "safety fields are text")
        safety = SafetyInfo(**values)
    ref = params.get("ref") if kind in (Kind.CORRECTION, Kind.RETRACTION) else None
    if ref is not None and not isinstance(ref, str):
        raise DraftError("ref", "ref is a bulletin id in hex")
    lang = params.get("lang")
    return Draft(
        kind,
        str(params.get("text", "")),
        lang if isinstance(lang, str) and lang else None,
        None if expires is None else int(expires),
        parse_ref(ref),
        safety,
        point,
    )


def _point_from_params(point: object) -> Point | None:
    if point is None:
        return None
    if not isinstance(point, list) or len(point) != 3:
        raise DraftError("point", "point is [latitude, longitude, radius in metres]")
    try:
        parsed = Point(float(point[0]), float(point[1]), int(point[2]))
        if not all(abs(v) < 1e9 for v in (parsed.latitude, parsed.longitude)):
            raise ValueError(parsed)
    except (TypeError, ValueError, OverflowError):
        raise DraftError("point", "point values must be numbers") from None
    return parsed
