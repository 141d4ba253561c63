"""Reading a CAP 1.2 alert from bytes, hostile XML refused (pure: bytes in, typed alert out).

A CAP file comes from outside, so it is read with ``defusedxml``: a document type declaration
(DTD), entity declarations (the "billion laughs" expansion) and external entities or references
(which would read local files or fetch URLs) are refused before anything is expanded, and a file
over :data:`MAX_CAP_BYTES` is refused before it is parsed. Every such refusal, and every document
that is not a CAP alert, is a :class:`CapError` with one plain sentence.

The result keeps CAP's own words (``"Severe"``, ``"Update"``); relay.cap.mapping turns them into
Jarshy's. Elements Jarshy has no field for are kept by name only, so that the person importing can
be told what will not travel.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as SafeET

CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_11 = "urn:oasis:names:tc:emergency:cap:1.1"  # same elements for what Jarshy reads
NAMESPACES = (CAP_12, CAP_11)
MAX_CAP_BYTES = 1024 * 1024  # real alerts are a few kB; polygons with thousands of points ~100 kB
MAX_INFOS = 64
MAX_AREAS = 256


class CapError(ValueError):
    """A file that is not a CAP alert Jarshy will read: why, in one sentence."""


@dataclass(frozen=True, slots=True)
class CapArea:
    """One ``<area>``: its description and shapes as CAP writes them."""

    desc: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # geocode, altitude, ceiling: present but not carried


@dataclass(frozen=True, slots=True)
class CapInfo:
    """One ``<info>`` block (one language, one event)."""

    language: str | None
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    expires: str | None = None
    headline: str = ""
    description: str = ""
    instruction: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    areas: tuple[CapArea, ...] = ()
    others: tuple[str, ...] = ()  # responseType, audience, onset, web, ...: not carried


@dataclass(frozen=True, slots=True)
class CapAlert:
    """An ``<alert>``: its header, the blocks Jarshy reads, and the names of the rest."""

    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    scope: str
    note: str = ""
    references: str = ""
    infos: tuple[CapInfo, ...] = ()
    others: tuple[str, ...] = ()  # source, addresses, code, incidents, Signature, ...


def parse_alert(data: bytes) -> CapAlert:
    """The CAP alert in ``data``; CapError for hostile, oversized, malformed or non-CAP XML."""
    if len(data) > MAX_CAP_BYTES:
        raise CapError(f"{len(data)} bytes is more than the {MAX_CAP_BYTES} a CAP alert may be")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise CapError(
            "refused: the XML declares a DTD (<!DOCTYPE>), which CAP never needs"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise CapError("refused: the XML declares entities (a possible expansion bomb)") from None
    except defusedxml.ExternalReferenceForbidden:
        raise CapError("refused: the XML refers to an external file or URL") from None
    except defusedxml.DefusedXmlException as exc:
        raise CapError(f"refused: unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise CapError(f"not well-formed XML ({exc})") from None
    except (LookupError, UnicodeError) as exc:  # an encoding Python lacks, or bytes it refuses
        raise CapError(f"cannot read its text encoding ({str(exc)[:80]})") from None
    if not isinstance(root, ET.Element):  # pragma: no cover - fromstring returns an element
        raise CapError("not an XML document")
    namespace, name = _split(root.tag)
    if name != "alert" or namespace not in NAMESPACES:
        found = f"{{{namespace}}}{name}" if namespace else name
        raise CapError(f"not a CAP 1.2 alert: the root element is {found[:80]!r}")
    return _alert(root, namespace)


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _children(element: ET.Element, namespace: str) -> list[tuple[str, ET.Element]]:
    """(local name, child) for CAP children; others are named ``ns:name`` by their local name."""
    out = []
    for child in element:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        ns, name = _split(child.tag)
        out.append((name if ns == namespace else f"{name} ({ns or 'no namespace'})", child))
    return out


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _alert(root: ET.Element, namespace: str) -> CapAlert:
    values: dict[str, str] = {}
    infos: list[CapInfo] = []
    others: list[str] = []
    for name, child in _children(root, namespace):
        if name == "info":
            if len(infos) == MAX_INFOS:
                raise CapError(f"more than {MAX_INFOS} <info> blocks")
            infos.append(_info(child, namespace))
        elif name in ALERT_FIELDS and name not in values:
            values[name] = _text(child).strip()
        else:
            others.append(name)
    for required in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        if not values.get(required):
            raise CapError(f"the alert has no <{required}>")
    return CapAlert(
        values["identifier"],
        values["sender"],
        values["sent"],
        values["status"],
        values["msgType"],
        values["scope"],
        values.get("note", ""),
        values.get("references", ""),
        tuple(infos),
        tuple(others),
    )


ALERT_FIELDS = ("identifier", "sender", "sent", "status", "msgType", "scope", "note", "references")
INFO_FIELDS = (
    "language", "event", "urgency", "severity", "certainty", "expires", "headline",
    "description", "instruction",
)  # fmt: skip


def _info(element: ET.Element, namespace: str) -> CapInfo:
    values: dict[str, str] = {}
    categories: list[str] = []
    parameters: list[tuple[str, str]] = []
    areas: list[CapArea] = []
    others: list[str] = []
    for name, child in _children(element, namespace):
        if name == "category":
            categories.append(_text(child).strip())
        elif name == "parameter":
            parameters.append(_value_pair(child, namespace))
        elif name == "area":
            if len(areas) == MAX_AREAS:
                raise CapError(f"more than {MAX_AREAS} <area> blocks in one <info>")
            areas.append(_area(child, namespace))
        elif name in INFO_FIELDS and name not in values:
            values[name] = _text(child)
        else:
            others.append(name)
    for required in ("event", "urgency", "severity", "certainty"):
        if not values.get(required, "").strip():
            raise CapError(f"an <info> block has no <{required}>")
    if not categories:
        raise CapError("an <info> block has no <category>")
    language = values.get("language", "").strip()
    return CapInfo(
        language or None,
        tuple(categories),
        values["event"],
        values["urgency"].strip(),
        values["severity"].strip(),
        values["certainty"].strip(),
        values.get("expires", "").strip() or None,
        values.get("headline", ""),
        values.get("description", ""),
        values.get("instruction", ""),
        tuple(parameters),
        tuple(areas),
        tuple(others),
    )


def _value_pair(element: ET.Element, namespace: str) -> tuple[str, str]:
    found = dict(_children(element, namespace))
    name, value = found.get("valueName"), found.get("value")
    return (
        "" if name is None else _text(name).strip(),
        "" if value is None else _text(value).strip(),
    )


def _area(element: ET.Element, namespace: str) -> CapArea:
    desc = None
    polygons: list[str] = []
    circles: list[str] = []
    others: list[str] = []
    for name, child in _children(element, namespace):
        if name == "areaDesc" and desc is None:
            desc = _text(child)
        elif name == "polygon":
            polygons.append(_text(child).strip())
        elif name == "circle":
            circles.append(_text(child).strip())
        else:
            others.append(name)
    if desc is None:
        raise CapError("an <area> has no <areaDesc>")
    return CapArea(desc, tuple(polygons), tuple(circles), tuple(others))
