"""CAP -> Jarshy -> CAP and Jarshy -> CAP -> Jarshy keep every field Jarshy carries; every CAP
document Jarshy writes is valid against the OASIS CAP 1.2 schema shipped in relay/cap."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import xmlschema

from relay.cap import geo
from relay.cap.export import SCHEMA_PATH, CapExportError, alert_xml, identifier
from relay.cap.fit import fit_one_packet
from relay.cap.mapping import draft_from_alert
from relay.cap.parse import CapAlert, parse_alert
from relay.cap.words import parse_time
from relay.compose import build
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind, SafetyInfo
from tests.conftest import make_identity
from tests.helpers import T0

DATA = Path(__file__).parent / "data" / "cap"
SCHEMA = xmlschema.XMLSchema(SCHEMA_PATH)
AGENCY = make_identity("agency")
OTHER = make_identity("other")
ALERTS = ["weather-warning.xml", "evacuation.xml", "multi-language.xml", "mudflow-ru.xml"]


def valid(document: bytes) -> bytes:
    SCHEMA.validate(document.decode("utf-8"))
    return document


def signed_from(alert: CapAlert, created: int, **kw: object) -> wire.Bulletin:
    imported = fit_one_packet(draft_from_alert(alert, created, **kw), created)  # type: ignore[arg-type]
    return wire.sign(build(imported.draft, AGENCY.key_id, created), AGENCY)


def reimported(document: bytes, created: int, **kw: object) -> Content:
    imported = fit_one_packet(draft_from_alert(parse_alert(document), created, **kw), created)  # type: ignore[arg-type]
    return build(imported.draft, AGENCY.key_id, created)


@pytest.mark.parametrize("name", ALERTS)
def test_cap_to_jarshy_to_cap_keeps_every_field_jarshy_carries(name: str) -> None:
    original = parse_alert((DATA / name).read_bytes())
    created = parse_time(original.sent)
    bulletin = signed_from(original, created)
    document = valid(alert_xml(bulletin, sender_name="Agency"))
    again = parse_alert(document)
    before, after = original.infos[0], again.infos[0]
    assert (after.severity, after.urgency, after.certainty) == (
        before.severity, before.urgency, before.certainty)  # fmt: skip
    assert after.categories[0] == before.categories[0]
    assert after.event.lower() == before.event.strip().lower()
    assert (after.language or "").split("-")[0] == (before.language or "").split("-")[0]
    assert parse_time(after.expires or "") == parse_time(before.expires or "")
    assert after.areas[0].desc == "; ".join(a.desc for a in before.areas)
    if before.areas[0].circles:  # a circle travels exactly (to Jarshy's 1e-5 degrees)
        was, now = (
            geo.parse_circle(before.areas[0].circles[0]),
            geo.parse_circle(after.areas[0].circles[0]),
        )
        assert (round(now.lat, 5), round(now.lon, 5), now.radius_m) == (
            round(was.lat, 5), round(was.lon, 5), was.radius_m)  # fmt: skip
    assert bulletin.content.text in after.description
    assert reimported(document, created) == bulletin.content  # and back: the same bulletin


def test_a_cancel_becomes_a_retraction_and_goes_back_out_as_a_cancel_naming_it() -> None:
    evacuation = parse_alert((DATA / "evacuation.xml").read_bytes())
    alert = signed_from(evacuation, parse_time(evacuation.sent))
    cancel = parse_alert((DATA / "cancel.xml").read_bytes())
    created = parse_time(cancel.sent)
    retraction = signed_from(cancel, created, ref=alert.id)
    assert retraction.content.kind is Kind.RETRACTION
    assert retraction.content.text == "The gas leak is repaired. Residents may return home."
    document = valid(alert_xml(retraction, alert))
    out = parse_alert(document)
    assert (out.msg_type, out.note) == ("Cancel", retraction.content.text)
    assert identifier(alert.id) in out.references and out.references.endswith("-00:00")
    assert reimported(document, created) == retraction.content  # no --ref needed any more


def safety_content(created: int = T0, **fields: object) -> Content:
    info = SafetyInfo(event="fire", category="fire", severity="severe", urgency="immediate",
                      certainty="observed", area="Алматы, Абай даңғылы",
                      point=(4323800, 7694500, 500))  # fmt: skip
    return Content(Kind.SAFETY, AGENCY.key_id, created, "Пожар. Не подходите.", "ru", 3600,
                   safety=replace(info, **fields))  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    "content",
    [
        safety_content(),
        safety_content(category="Гражданская оборона", event="Учебная тревога"),
        safety_content(point=None, geohash="txwt"),
        safety_content(point=(-3390000, -17999999, 1_000_000), geohash="7"),
        safety_content(area=None, point=None),
        safety_content(area=None, point=(0, 0, 0)),
        replace(safety_content(), text="Қала <орталығы> & «Медеу»\nекінші жол", lang="kk"),
        replace(safety_content(), text="Su jok. Ertenge deiin kutiniz.", lang="kk-Latn"),
        replace(safety_content(), text="Су жоқ. Вода будет завтра.", lang="mixed"),
        replace(safety_content(), text="Wasser fehlt.", lang="de-AT", lifetime=None),
    ],
)
def test_jarshy_to_cap_to_jarshy_is_the_same_bulletin(content: Content) -> None:
    if content.lifetime is None:
        content = replace(content, lifetime=24 * 3600)  # what a safety alert without one gets
    bulletin = wire.sign(content, AGENCY)
    assert reimported(valid(alert_xml(bulletin)), content.created) == content


def test_a_correction_is_an_update_with_the_alerts_fields_and_comes_back_a_correction() -> None:
    alert = wire.sign(safety_content(geohash="txwt"), AGENCY)
    fix = Content(Kind.CORRECTION, AGENCY.key_id, T0 + 600, "Не 5, а 7 этаж.", "ru", 1800, alert.id)
    correction = wire.sign(fix, AGENCY)
    document = valid(alert_xml(correction, alert, sender_name="ДЧС"))
    out = parse_alert(document)
    assert out.msg_type == "Update" and identifier(alert.id) in out.references
    assert out.infos[0].event == "Fire" and out.infos[0].description == fix.text
    assert reimported(document, fix.created) == fix
    quiet = wire.sign(Content(Kind.RETRACTION, AGENCY.key_id, T0 + 900, ref=alert.id), AGENCY)
    assert reimported(valid(alert_xml(quiet, alert)), T0 + 900) == quiet.content


def test_what_has_no_cap_form_is_refused_plainly() -> None:
    alert = wire.sign(safety_content(), AGENCY)
    news = wire.sign(Content(Kind.NEWS, AGENCY.key_id, T0, "Вода будет завтра.", "ru"), AGENCY)
    fix = wire.sign(
        Content(Kind.CORRECTION, AGENCY.key_id, T0, "Исправление.", "ru", ref=alert.id), AGENCY
    )
    with pytest.raises(CapExportError, match="news bulletin has no CAP form"):
        alert_xml(news)
    with pytest.raises(CapExportError, match="not at hand"):
        alert_xml(fix)
    with pytest.raises(CapExportError, match="not at hand"):
        alert_xml(fix, news)
    foreign = wire.sign(replace(safety_content(), author=OTHER.key_id), OTHER)
    stolen = wire.sign(replace(fix.content, ref=foreign.id), AGENCY)
    with pytest.raises(CapExportError, match="not by the author"):
        alert_xml(stolen, foreign)


def test_the_signed_bytes_travel_in_the_cap_document_for_anyone_to_verify() -> None:
    bulletin = wire.sign(safety_content(), AGENCY)
    parameters = dict(parse_alert(alert_xml(bulletin)).infos[0].parameters)
    raw = bytes.fromhex(parameters["jarshy-bulletin"])
    assert raw == bulletin.raw and wire.verify(wire.decode(raw), AGENCY.public_key)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.xml")), ids=lambda p: p.name)
def test_the_samples_are_valid_cap_and_the_schema_refuses_what_cap_forbids(path: Path) -> None:
    valid(path.read_bytes())
    broken = path.read_bytes().replace(b"<status>Actual</status>", b"<status>Real</status>")
    assert not SCHEMA.is_valid(broken.decode("utf-8"))
    zulu = alert_xml(wire.sign(safety_content(), AGENCY)).replace(b"-00:00</sent>", b"Z</sent>")
    assert not SCHEMA.is_valid(zulu.decode("utf-8"))  # CAP 1.2 writes UTC as -00:00
