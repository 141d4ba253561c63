"""A safety bulletin, or its correction or retraction, as an OASIS CAP 1.2 alert (pure).

:func:`alert_xml` is what the CLI (``jarshy export --cap``) and the daemon's API call. A safety
alert is a CAP ``Alert``; a correction an ``Update`` and a retraction a ``Cancel``, each with
``<references>`` to the alert it changes and that alert's ``<info>`` fields (CAP consumers replace
the alert they hold), the correction's text as the description, the retraction's as the note.

Jarshy's ids become CAP identifiers: ``sender`` = ``urn:jarshy:key:<author key id>``,
``identifier`` = ``urn:jarshy:bulletin:<bulletin id>``; ``sent`` is the author's ``created``
and ``expires`` is ``created + lifetime``. What CAP has no element for travels as parameters
(``jarshy-geohash``, ``jarshy-category``) so that importing the file gives the same bulletin,
and ``jarshy-bulletin`` holds the signed bytes for anyone to verify. docs/cap.md has the table.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from relay import vocabulary
from relay.cap import geo
from relay.cap.parse import CAP_12
from relay.cap.words import (
    CAP_CATEGORY,
    IDENTIFIER_PREFIX,
    PARAM_BULLETIN,
    PARAM_CATEGORY,
    PARAM_GEOHASH,
    SENDER_PREFIX,
    cap_event,
    cap_language,
    cap_word,
    format_time,
)
from relay.wire.bulletin import Bulletin
from relay.wire.fields import Content, Kind, SafetyInfo

SCHEMA_PATH = Path(__file__).with_name("CAP-v1.2.xsd")  # the OASIS schema, for validators
MSG_TYPES = {Kind.SAFETY: "Alert", Kind.CORRECTION: "Update", Kind.RETRACTION: "Cancel"}


class CapExportError(ValueError):
    """A bulletin that has no CAP form (not a safety alert, or its alert is not at hand)."""


def alert_xml(
    bulletin: Bulletin, refers_to: Bulletin | None = None, sender_name: str | None = None
) -> bytes:
    """``bulletin`` as a CAP 1.2 document (UTF-8 bytes with an XML declaration).

    ``refers_to`` is the safety alert a correction or retraction changes (required for those, as
    CAP's references name its sent time); ``sender_name`` the author's certified name, if any.
    """
    content = bulletin.content
    if content.kind not in MSG_TYPES:
        raise CapExportError(f"a {vocabulary.KIND_NAMES[content.kind]} bulletin has no CAP form")
    alert = ET.Element(f"{{{CAP_12}}}alert")
    _sub(alert, "identifier", identifier(bulletin.id))
    _sub(alert, "sender", SENDER_PREFIX + content.author.hex())
    _sub(alert, "sent", format_time(content.created))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", MSG_TYPES[content.kind])
    _sub(alert, "scope", "Public")
    safety = content.safety
    if content.kind is not Kind.SAFETY:
        original = _original(content, refers_to)
        safety = original.content.safety
        if content.kind is Kind.RETRACTION and content.text:
            _sub(alert, "note", content.text)
        _sub(alert, "references", references(original))
    assert safety is not None  # a safety alert's kind rules require its fields
    _info(alert, content, safety, bulletin, sender_name)
    ET.indent(alert)
    body: bytes = ET.tostring(alert, encoding="utf-8", xml_declaration=True,
                              default_namespace=CAP_12)  # fmt: skip
    return body + b"\n"


def identifier(bulletin_id: bytes) -> str:
    """The CAP identifier of a Jarshy bulletin."""
    return IDENTIFIER_PREFIX + bulletin_id.hex()


def references(original: Bulletin) -> str:
    """CAP's ``sender,identifier,sent`` of ``original``."""
    c = original.content
    return f"{SENDER_PREFIX}{c.author.hex()},{identifier(original.id)},{format_time(c.created)}"


def _original(content: Content, refers_to: Bulletin | None) -> Bulletin:
    if refers_to is None or refers_to.id != content.ref:
        ref = content.ref.hex() if content.ref else "?"
        raise CapExportError(f"the alert it changes ({ref}) is not at hand")
    if refers_to.content.kind is not Kind.SAFETY or refers_to.content.safety is None:
        raise CapExportError("it changes a bulletin that is not a safety alert")
    if refers_to.content.author != content.author:
        raise CapExportError("it is not by the author of the alert it changes")
    return refers_to


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{CAP_12}}}{name}")
    if text is not None:
        child.text = text
    return child


def _info(
    alert: ET.Element,
    content: Content,
    safety: SafetyInfo,
    bulletin: Bulletin,
    sender_name: str | None,
) -> None:
    info = _sub(alert, "info")
    language = cap_language(content.lang) if content.text else None
    if language is not None:
        _sub(info, "language", language)
    in_table = safety.category in vocabulary.CATEGORIES
    _sub(info, "category", CAP_CATEGORY[safety.category] if in_table else "Other")
    _sub(info, "event", cap_event(safety.event))
    _sub(info, "urgency", cap_word(safety.urgency))
    _sub(info, "severity", cap_word(safety.severity))
    _sub(info, "certainty", cap_word(safety.certainty))
    if content.lifetime is not None:
        _sub(info, "expires", format_time(content.created + content.lifetime))
    if sender_name:
        _sub(info, "senderName", sender_name)
    if content.text and content.kind is not Kind.RETRACTION:
        _sub(info, "description", content.text)
    parameters = [(PARAM_BULLETIN, bulletin.raw.hex())]
    if not in_table:
        parameters.append((PARAM_CATEGORY, safety.category))
    if safety.geohash:
        parameters.append((PARAM_GEOHASH, safety.geohash))
    for name, value in parameters:
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    if safety.area or safety.point or safety.geohash:
        area = _sub(info, "area")
        _sub(area, "areaDesc", safety.area or "")
        if safety.geohash:
            _sub(area, "polygon", geo.geohash_polygon(safety.geohash))
        if safety.point:
            _sub(area, "circle", geo.format_circle(*safety.point))
