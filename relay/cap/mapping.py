"""A CAP alert as a compose Draft: what maps, what is approximated, what Jarshy cannot carry (pure).

One CAP alert becomes one bulletin (docs/cap.md has the table):

* ``Alert`` -> a safety alert; ``Update`` -> a correction when it names the Jarshy bulletin it
  updates (its ``<references>`` hold a ``urn:jarshy:bulletin:`` identifier, or the caller passes
  ``ref``), else a new safety alert; ``Cancel`` -> a retraction of the bulletin it names.
* Only ``status`` Actual and ``scope`` Public are read: a bulletin has no status, so an exercise
  would go out as a real alert, and the mesh is public, so a restricted alert would leak.
* One ``<info>`` is read (the one in ``language`` if given, else the first); the others are listed.

Every change is a note in :class:`Imported` (``approximated``: carried differently; ``dropped``:
not carried), so that the person signing sees them before they sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from relay import vocabulary
from relay.cap import geo
from relay.cap.parse import CapAlert, CapArea, CapInfo
from relay.cap.words import (
    IDENTIFIER_PREFIX,
    JARSHY_PARAMETERS,
    PARAM_CATEGORY,
    PARAM_GEOHASH,
    clean_label,
    clean_text,
    clip_utf8,
    jarshy_language,
    parse_time,
    table_value,
)
from relay.compose import SAFETY_TEXT_FIELDS, Draft, Point
from relay.wire.codec_fields import GEOHASH
from relay.wire.fields import (
    KIND_NAMES,
    MAX_AREA_TEXT,
    MAX_LIFETIME,
    MAX_RADIUS_M,
    MAX_SHORT_TEXT,
    Kind,
    SafetyInfo,
)
from relay.wire.text_rules import label_problem

TEXT_PARTS = ("headline", "description", "instruction")  # in the order they are joined


class MappingError(ValueError):
    """A CAP alert that cannot become a Jarshy bulletin (or only with the caller's help)."""


@dataclass(frozen=True, slots=True)
class Imported:
    """A draft from a CAP alert, its text still in parts (relay.cap.fit cuts them to fit)."""

    draft: Draft
    parts: tuple[tuple[str, str], ...] = ()  # (CAP element, cleaned text), joined by blank lines
    approximated: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)  # what relay.cap.fit shortened to fit a packet


def join_parts(parts: tuple[tuple[str, str], ...]) -> str:
    """The bulletin text made of ``parts`` (empty parts left out)."""
    return "\n\n".join(text for _, text in parts if text)


def draft_params(draft: Draft) -> dict[str, Any]:
    """``draft`` as the local API's ``publish`` parameters (relay.compose.draft_from_params reads
    them back to the same draft), for a UI that previews a CAP file and then publishes it."""
    params: dict[str, Any] = {"kind": KIND_NAMES[draft.kind], "text": draft.text}
    if draft.lang is not None:
        params["lang"] = draft.lang
    if draft.lifetime is not None:
        params["expires"] = draft.lifetime
    if draft.ref is not None:
        params["ref"] = draft.ref.hex()
    if draft.safety is not None:
        safety: dict[str, Any] = {
            name: getattr(draft.safety, name)
            for name in SAFETY_TEXT_FIELDS
            if getattr(draft.safety, name) is not None
        }
        if draft.point is not None:
            p = draft.point
            safety["point"] = [p.latitude, p.longitude, p.radius_m]
        params["safety"] = safety
    return params


def draft_from_alert(
    alert: CapAlert, created: int, language: str | None = None, ref: bytes | None = None
) -> Imported:
    """The draft ``alert`` describes for a bulletin signed at ``created`` (Unix seconds).

    ``language`` picks the ``<info>`` block (a CAP language tag or its first subtag); ``ref`` names
    the Jarshy bulletin an Update corrects or a Cancel retracts when the file does not.
    """
    if alert.status != "Actual":
        raise MappingError(
            f"status {alert.status[:20]!r}: Jarshy bulletins carry no status, so this would go"
            " out as a real alert; only status Actual is imported"
        )
    if alert.scope != "Public":
        raise MappingError(
            f"scope {alert.scope[:20]!r}: the mesh is public; only scope Public is imported"
        )
    if alert.msg_type not in ("Alert", "Update", "Cancel"):
        raise MappingError(f"msgType {alert.msg_type[:20]!r} is not an alert, update or cancel")
    if alert.msg_type == "Alert" and ref is not None:
        raise MappingError("this is a new Alert: --ref is only for an Update or a Cancel")
    result = Imported(Draft(Kind.SAFETY))
    dropped = result.dropped
    dropped.extend([f"<{name}>" for name in ("identifier", "sender", "sent")])
    dropped.extend([f"<{name}>" for name in alert.others])
    named = _jarshy_reference(alert.references)
    ref = ref if ref is not None else named
    if alert.references and named is None:
        dropped.append("<references> (to alerts that are not Jarshy bulletins)")
    info = _choose_info(alert.infos, language, dropped)
    if alert.msg_type == "Cancel":
        return _retraction(alert, info, ref, created, result)
    if info is None:
        raise MappingError(f"a CAP {alert.msg_type} without <info> has nothing to publish")
    lifetime = _lifetime(info, created, result)
    lang, lang_note = jarshy_language(info.language)
    if lang_note:
        result.approximated.append(lang_note)
    parts = _text_parts(info, result) or (("event", clean_label(info.event)[0]),)
    if alert.note:
        dropped.append("<note>")
    if alert.msg_type == "Update" and ref is not None:
        dropped.append("the safety fields of the update (a correction carries only its text)")
        draft = Draft(Kind.CORRECTION, join_parts(parts), lang, lifetime, ref)
        return replace(result, draft=draft, parts=parts)
    if alert.msg_type == "Update":
        result.approximated.append(
            "an Update that names no Jarshy bulletin becomes a new safety alert"
            " (give --ref ID to make it a correction of your earlier bulletin)"
        )
    safety, point = _safety(info, result)
    draft = Draft(Kind.SAFETY, join_parts(parts), lang, lifetime, None, safety, point)
    return replace(result, draft=draft, parts=parts)


def _jarshy_reference(references: str) -> bytes | None:
    """The last Jarshy bulletin id named in ``sender,identifier,sent`` triples, or None."""
    found = None
    for triple in references.split():
        pieces = triple.split(",")
        if len(pieces) == 3 and pieces[1].startswith(IDENTIFIER_PREFIX):
            try:
                candidate = bytes.fromhex(pieces[1][len(IDENTIFIER_PREFIX) :])
            except ValueError:
                continue
            found = candidate if len(candidate) == 8 else found
    return found


def _choose_info(
    infos: tuple[CapInfo, ...], language: str | None, dropped: list[str]
) -> CapInfo | None:
    if not infos:
        return None
    chosen = infos[0]
    if language:
        wanted = language.lower()
        matching = [i for i in infos if (i.language or "en-US").lower() == wanted]
        matching = matching or [
            i for i in infos if (i.language or "en-US").lower().split("-")[0] == wanted
        ]
        if not matching:
            have = ", ".join(sorted({i.language or "en-US" for i in infos}))
            raise MappingError(f"no <info> in language {language[:20]!r} (the file has {have})")
        chosen = matching[0]
    for other in infos:
        if other is not chosen:
            dropped.append(f"<info> in {other.language or 'en-US'} ({other.event.strip()[:40]})")
    return chosen


def _retraction(
    alert: CapAlert, info: CapInfo | None, ref: bytes | None, created: int, result: Imported
) -> Imported:
    if ref is None:
        raise MappingError(
            "a Cancel withdraws an earlier bulletin: name yours with --ref ID"
            " (its <references> name no Jarshy bulletin)"
        )
    lifetime = None if info is None or info.expires is None else _lifetime(info, created, result)
    parts: tuple[tuple[str, str], ...] = ()
    if alert.note.strip():
        parts = (("note", _clean_text("note", alert.note, result)),)
    elif info is not None:
        parts = _text_parts(info, result)
    if info is not None:
        result.dropped.append(
            "the safety fields of the cancel (a retraction carries only its text)"
        )
    lang, lang_note = jarshy_language(info.language if info else None)
    if lang_note and parts:
        result.approximated.append(lang_note)
    draft = Draft(Kind.RETRACTION, join_parts(parts), lang, lifetime, ref)
    return replace(result, draft=draft, parts=parts)


def _lifetime(info: CapInfo, created: int, result: Imported) -> int | None:
    for name in ("effective", "onset"):
        if name in info.others:
            result.dropped.append(f"<{name}> (a bulletin is current from when it is received)")
    if info.expires is None:
        result.approximated.append("no <expires>: the safety default of 24 hours applies")
        return None
    try:
        expires = parse_time(info.expires)
    except ValueError as exc:
        raise MappingError(f"<expires>: {exc}") from None
    lifetime = expires - created
    if lifetime <= 0:
        raise MappingError(f"this alert has expired (<expires> {info.expires[:40]})")
    if lifetime < 60:
        result.approximated.append("<expires> less than a minute away: lifetime set to 1 minute")
        return 60
    if lifetime > MAX_LIFETIME:
        result.approximated.append("<expires> more than 400 days away: lifetime set to 400 days")
        return MAX_LIFETIME
    return lifetime


def _clean_text(name: str, text: str, result: Imported) -> str:
    cleaned, removed = clean_text(text)
    if removed:
        result.dropped.append(f"{removed} characters of <{name}> that bulletins cannot hold")
    return cleaned


def _text_parts(info: CapInfo, result: Imported) -> tuple[tuple[str, str], ...]:
    texts = {"headline": info.headline, "description": info.description,
             "instruction": info.instruction}  # fmt: skip
    parts = tuple((name, _clean_text(name, texts[name], result)) for name in TEXT_PARTS)
    return tuple((name, text) for name, text in parts if text)


def _label(name: str, text: str, max_bytes: int, result: Imported) -> str:
    label, removed = clean_label(text)
    if removed:
        result.dropped.append(f"{removed} characters of <{name}> that labels cannot hold")
    clipped = clip_utf8(label, max_bytes)
    if clipped != label:
        result.dropped.append(f"<{name}> cut to {max_bytes} bytes")
    return clipped


def _safety(info: CapInfo, result: Imported) -> tuple[SafetyInfo, Point | None]:
    words = {}
    for name, table in (("severity", vocabulary.SEVERITIES), ("urgency", vocabulary.URGENCIES),
                        ("certainty", vocabulary.CERTAINTIES)):  # fmt: skip
        given = getattr(info, name)
        value = table_value(given, table)
        if value is None and name == "certainty" and given.lower() == "very likely":
            value = "likely"  # CAP 1.0's value; CAP 1.2 says to read it as Likely
            result.approximated.append("<certainty> Very Likely read as Likely (CAP 1.2)")
        if value is None:
            result.approximated.append(f"<{name}> {given[:20]!r} is not CAP 1.2's: unknown")
        words[name] = value or "unknown"
    event = _label("event", info.event, MAX_SHORT_TEXT, result) or "other"
    event = table_value(event, vocabulary.EVENTS) or event
    parameters = dict(reversed(info.parameters))  # the first of a name counts
    category = _category(info, parameters.get(PARAM_CATEGORY), result)
    geohash = parameters.get(PARAM_GEOHASH)
    if geohash is not None and not GEOHASH.fullmatch(geohash):
        result.dropped.append(f"parameter {PARAM_GEOHASH} {geohash[:20]!r} (not a geohash)")
        geohash = None
    result.dropped.extend([f"<parameter> {name[:40]}" for name, _ in info.parameters
                       if name not in JARSHY_PARAMETERS])  # fmt: skip
    result.dropped.extend(
        [f"<{name}>" for name in info.others if name not in ("effective", "onset")]
    )
    area = _area_label(info.areas, result)
    point, geohash = _geometry(info.areas, geohash, result)
    safety = SafetyInfo(event, category, words["severity"], words["urgency"],
                        words["certainty"], area, None, geohash)  # fmt: skip
    return safety, point


def _category(info: CapInfo, label: str | None, result: Imported) -> str:
    value = table_value(info.categories[0], vocabulary.CATEGORIES)
    if value is None:
        result.approximated.append(f"<category> {info.categories[0][:20]!r} is not CAP's: other")
    if value == "other" and label:
        clean, _ = clean_label(label)
        if clean and label_problem(clean, MAX_SHORT_TEXT) is None:
            value = table_value(clean, vocabulary.CATEGORIES) or clean
    result.dropped.extend([f"<category> {c[:20]} (one is carried)" for c in info.categories[1:]])
    return value or "other"


def _area_label(areas: tuple[CapArea, ...], result: Imported) -> str | None:
    descs = []
    for area in areas:
        label, removed = clean_label(area.desc)
        if removed:
            result.dropped.append(f"{removed} characters of <areaDesc> that labels cannot hold")
        if label and label not in descs:
            descs.append(label)
        result.dropped.extend([f"<area> <{name}>" for name in area.others])
    joined = "; ".join(descs)
    clipped = clip_utf8(joined, MAX_AREA_TEXT)
    if clipped != joined:
        result.dropped.append(f"<areaDesc> cut to {MAX_AREA_TEXT} bytes")
    return clipped or None


def _geometry(
    areas: tuple[CapArea, ...], geohash: str | None, result: Imported
) -> tuple[Point | None, str | None]:
    """One point covering every circle and polygon (a polygon that is the geohash's own cell,
    written by Jarshy's export, is the geohash); a geohash when one circle cannot cover them."""
    shapes: list[geo.Circle] = []
    exact = True
    for area in areas:
        for text in area.circles:
            try:
                shapes.append(geo.parse_circle(text))
            except geo.GeoError as exc:
                result.dropped.append(f"<circle>: {exc}")
        for text in area.polygons:
            try:
                points = geo.parse_polygon(text)
            except geo.GeoError as exc:
                result.dropped.append(f"<polygon>: {exc}")
                continue
            if geohash is not None and geo.is_cell_polygon(points, geohash):
                continue
            shapes += [geo.Circle(lat, lon, 0.0) for lat, lon in points]
            exact = False
    if not shapes:
        return None, geohash
    if len(shapes) == 1 and exact:
        circle = shapes[0]
    else:
        circle = geo.covering_circle(shapes)
        result.approximated.append(
            f"the area's shapes as one circle covering them all ({circle.radius_m / 1000:.1f} km)"
        )
    if circle.radius_m <= MAX_RADIUS_M:
        return Point(circle.lat, circle.lon, round(circle.radius_m)), geohash
    covering = geohash or geo.covering_geohash(*geo.bounding_box(shapes))
    result.approximated.append(
        f"the area is wider than a 1000 km circle: carried as geohash {covering}"
        if covering
        else "the area is wider than any geohash cell: no point or geohash carried"
    )
    return None, covering
