"""Building a bulletin's content from what an author asks for (pure; shared by the CLI and the API).

A :class:`Draft` carries typed values (a lifetime in seconds, a point in degrees, a reference as
bytes); :func:`build` checks them as a receiver would and returns the :class:`Content` to sign.
Problems are :class:`DraftError` with a field name and plain words, so the CLI can name its flag
and the API its parameter without one borrowing the other's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay import vocabulary
from relay.language import guess_language
from relay.wire.fields import KIND_BY_NAME, Content, Kind, SafetyInfo

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
class SafetyDraft:
    event: str = "other"
    category: str = "safety"
    severity: str = "unknown"
    urgency: str = "unknown"
    certainty: str = "unknown"
    area: str | None = None
    point: Point | None = None
    geohash: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """What an author asks for: a kind, a text, and the fields of that kind."""

    kind: Kind
    text: str = ""
    lang: str | None = None  # None: guessed from the text
    lifetime: int | None = None  # seconds
    ref: bytes | None = None  # the id a correction or retraction refers to
    safety: SafetyDraft | None = None


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
        given = draft.safety or SafetyDraft()
        safety = SafetyInfo(
            event=given.event,
            category=given.category,
            severity=given.severity,
            urgency=given.urgency,
            certainty=given.certainty,
            area=given.area,
            point=None if given.point is None else given.point.encoded(),
            geohash=given.geohash,
        )
        lifetime = lifetime or SAFETY_LIFETIME
    elif draft.safety is not None:
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
