"""relay.cap.mapping and relay.cap.fit: a CAP alert as a draft, every change said, one packet."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.cap import geo
from relay.cap.fit import ONE_PACKET, fit_one_packet, on_air_size
from relay.cap.mapping import MappingError, draft_from_alert, draft_params
from relay.cap.parse import CAP_12, parse_alert
from relay.cap.words import clean_label, clean_text, jarshy_language, parse_time
from relay.compose import build, draft_from_params
from relay.wire.fields import Kind
from relay.wire.text_rules import body_problem, label_problem

SENT = "2026-01-05T08:30:00+06:00"
CREATED = parse_time(SENT)


def cap(info: str = "", header: dict[str, str] | None = None, extra: str = "") -> bytes:
    fields = {"identifier": "x", "sender": "s", "sent": SENT, "status": "Actual",
              "msgType": "Alert", "scope": "Public"} | (header or {})  # fmt: skip
    head = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f'<alert xmlns="{CAP_12}">{head}{extra}{info}</alert>'.encode()


def info(body: str = "", **words: str) -> str:
    values = {"language": "en", "category": "Met", "event": "Storm", "urgency": "Expected",
              "severity": "Severe", "certainty": "Likely"} | words  # fmt: skip
    head = "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v)
    return f"<info>{head}<description>Strong wind.</description>{body}</info>"


def imported(data: bytes, **kw: object):  # type: ignore[no-untyped-def]
    return fit_one_packet(draft_from_alert(parse_alert(data), CREATED, **kw), CREATED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ({"status": "Exercise"}, "status 'Exercise'"),
        ({"status": "Test"}, "only status Actual"),
        ({"scope": "Restricted"}, "only scope Public"),
        ({"msgType": "Ack"}, "msgType 'Ack'"),
    ],
)
def test_alerts_that_must_not_become_public_bulletins_are_refused(
    header: dict[str, str], words: str
) -> None:
    with pytest.raises(MappingError, match=words):
        draft_from_alert(parse_alert(cap(info(), header)), CREATED)


def test_cap_words_map_to_jarshys_and_unknown_ones_are_said() -> None:
    result = imported(cap(info(severity="Extreme", urgency="Whenever", certainty="Very Likely")))
    safety = result.draft.safety
    assert safety is not None
    assert (safety.severity, safety.urgency, safety.certainty) == ("extreme", "unknown", "likely")
    assert any("Very Likely read as Likely" in note for note in result.approximated)
    assert any("<urgency> 'Whenever'" in note for note in result.approximated)


@pytest.mark.parametrize(
    ("event", "expected"),
    [("Flood", "flood"), ("FIRE", "fire"), ("Missing Person", "missing-person"),
     ("Winter Storm Warning", "Winter Storm Warning"), ("  Сель\n ", "Сель")],
)  # fmt: skip
def test_events_in_the_table_become_codes_others_stay_labels(event: str, expected: str) -> None:
    safety = imported(cap(info(event=event))).draft.safety
    assert safety is not None and safety.event == expected


def test_expires_becomes_the_lifetime_from_signing_and_an_expired_alert_is_refused() -> None:
    result = imported(cap(info("<expires>2026-01-05T11:30:00+06:00</expires>")))
    assert result.draft.lifetime == 3 * 3600
    with pytest.raises(MappingError, match="expired"):
        draft_from_alert(
            parse_alert(cap(info("<expires>2026-01-05T08:00:00+06:00</expires>"))), CREATED
        )
    none = imported(cap(info()))
    assert none.draft.lifetime is None and any("24 hours" in n for n in none.approximated)


def test_one_language_is_read_and_the_others_are_listed() -> None:
    data = cap(info(language="kk-KZ", event="Су тасқыны") + info(language="ru-RU", event="Паводок"))
    first = imported(data)
    assert first.draft.lang == "kk" and any("<info> in ru-RU" in d for d in first.dropped)
    russian = imported(data, language="ru")
    assert russian.draft.lang == "ru" and russian.draft.safety.event == "Паводок"  # type: ignore[union-attr]
    with pytest.raises(MappingError, match="no <info> in language 'de'"):
        imported(data, language="de")


@pytest.mark.parametrize(
    ("tag", "lang"),
    [("ru", "ru"), ("ru-RU", "ru"), ("kk-KZ", "kk"), ("kk-Latn-KZ", "kk-Latn"), ("en-US", "en"),
     ("mul", "mixed"), ("de-DE", "de-DE"), ("uz-cyrl", "uz-Cyrl"), (None, None), ("x!", None)],
)  # fmt: skip
def test_languages_map_to_the_wire_table_or_a_tag_it_accepts(
    tag: str | None, lang: str | None
) -> None:
    assert jarshy_language(tag)[0] == lang


def test_a_circle_is_the_point_and_polygons_become_a_circle_covering_them() -> None:
    circle = imported(
        cap(info("<area><areaDesc>Market</areaDesc><circle>43.238,76.945 0.5</circle></area>"))
    )
    assert circle.draft.point is not None and circle.draft.point.radius_m == 500
    assert not any("circle" in note for note in circle.approximated)
    polygon = "43.10,76.95 43.10,77.10 43.20,77.10 43.20,76.95 43.10,76.95"
    covered = imported(
        cap(info(f"<area><areaDesc>Gorge</areaDesc><polygon>{polygon}</polygon></area>"))
    )
    point = covered.draft.point
    assert point is not None and any("covering" in note for note in covered.approximated)
    for lat, lon in geo.parse_polygon(polygon):  # every vertex inside the circle carried
        assert geo.distance_m(point.latitude, point.longitude, lat, lon) <= point.radius_m


def test_an_area_wider_than_1000_km_goes_as_a_geohash_cell_containing_it() -> None:
    polygon = "46.0,50.0 46.0,80.0 60.0,80.0 60.0,50.0 46.0,50.0"  # northern Kazakhstan and more
    result = imported(
        cap(info(f"<area><areaDesc>North</areaDesc><polygon>{polygon}</polygon></area>"))
    )
    safety = result.draft.safety
    assert result.draft.point is None and safety is not None and safety.geohash is not None
    south, north, west, east = geo.geohash_cell(safety.geohash)
    assert south <= 46.0 and north >= 60.0 and west <= 50.0 and east >= 80.0
    assert any("wider than a 1000 km circle" in note for note in result.approximated)
    across = "40.0,50.0 40.0,80.0 55.0,80.0 55.0,50.0 40.0,50.0"  # across the 45th parallel
    wide = imported(cap(info(f"<area><areaDesc>Wide</areaDesc><polygon>{across}</polygon></area>")))
    assert wide.draft.point is None and wide.draft.safety.geohash is None  # type: ignore[union-attr]
    assert any("no point or geohash carried" in note for note in wide.approximated)


def test_labels_and_texts_lose_what_the_wire_forbids_and_say_so() -> None:
    label, removed = clean_label("Evil\u202e event\x07  name")
    assert label == "Evil event name" and removed == 2 and label_problem(label, 64) is None
    text, removed = clean_text("  Line one\r\n\tindented\u2028third\x1b[2J\n\n\n\nlast  ")
    assert text == "Line one\nindented\nthird[2J\n\nlast" and removed == 1
    assert body_problem(text) is None
    result = imported(cap(info(event="Storm\u202e")))
    assert any("characters of <event>" in note for note in result.dropped)


def test_a_long_area_description_is_cut_to_the_wire_bound() -> None:
    areas = "".join(
        f"<area><areaDesc>District number {n} of the city</areaDesc></area>" for n in range(12)
    )
    result = draft_from_alert(parse_alert(cap(info(areas))), CREATED)
    area = result.draft.safety.area  # type: ignore[union-attr]
    assert area is not None and len(area.encode()) <= 160 and area.endswith("…")
    assert any("<areaDesc> cut to 160 bytes" in note for note in result.dropped)


def test_a_long_alert_is_cut_description_first_and_always_fits_one_packet() -> None:
    long = " ".join(f"Road {n} is closed near kilometre {n * 37 % 101}." for n in range(60))
    body = (f"<headline>Storm warning</headline><description>{long}</description>"
            "<instruction>Stay home.</instruction>")  # fmt: skip
    data = cap(info().replace("<description>Strong wind.</description>", body))
    result = imported(data)
    assert on_air_size(result.draft, CREATED) <= ONE_PACKET
    assert result.draft.text.startswith("Storm warning\n\n") and result.draft.text.endswith(
        "Stay home."
    )
    assert result.cut and result.cut[0].startswith("<description>")
    build(result.draft, bytes(8), CREATED)  # still a valid bulletin


def test_an_update_naming_no_jarshy_bulletin_is_a_new_alert_unless_given_ref() -> None:
    refs = "<references>s,OTHER-1,2026-01-05T08:00:00+06:00</references>"
    data = cap(info(), {"msgType": "Update"}, refs)
    alone = imported(data)
    assert alone.draft.kind is Kind.SAFETY and any(
        "new safety alert" in n for n in alone.approximated
    )
    correction = imported(data, ref=bytes(range(8)))
    assert correction.draft.kind is Kind.CORRECTION and correction.draft.ref == bytes(range(8))
    assert correction.draft.text == "Strong wind." and correction.draft.safety is None


def test_a_new_alert_refuses_a_ref() -> None:
    with pytest.raises(MappingError, match="only for an Update or a Cancel"):
        draft_from_alert(parse_alert(cap(info())), CREATED, ref=bytes(8))


def test_a_cancel_needs_the_bulletin_it_withdraws() -> None:
    data = cap(info(), {"msgType": "Cancel"}, "<note>All clear.</note>")
    with pytest.raises(MappingError, match="--ref"):
        draft_from_alert(parse_alert(data), CREATED)
    named = cap("", {"msgType": "Cancel"},
                "<references>urn:jarshy:key:00,urn:jarshy:bulletin:0102030405060708,"
                f"{SENT}</references>")  # fmt: skip
    result = imported(named)
    assert result.draft.kind is Kind.RETRACTION and result.draft.ref == bytes(range(1, 9))
    assert result.draft.text == ""


def test_an_alert_without_any_text_uses_its_event() -> None:
    data = cap(info().replace("<description>Strong wind.</description>", ""))
    assert imported(data).draft.text == "Storm"


def test_geohash_cells_round_trip_and_cover_their_points() -> None:
    assert geo._encode(57.64911, 10.40744, 11) == "u4pruydqqvj"  # the textbook example
    south, north, west, east = geo.geohash_cell("u4pruydqqvj")
    assert south <= 57.64911 <= north and west <= 10.40744 <= east
    assert geo.covering_geohash(57.649, 57.6492, 10.4074, 10.4075) == "u4pruyd"
    assert geo.is_cell_polygon(geo.parse_polygon(geo.geohash_polygon("u4pr")), "u4pr")
    assert geo.format_circle(-4323800, -18000000, 1500) == "-43.23800,-180.00000 1.5"


@pytest.mark.parametrize(
    "name", ["weather-warning.xml", "evacuation.xml", "multi-language.xml", "mudflow-ru.xml"]
)
def test_a_draft_from_cap_travels_as_publish_parameters_unchanged(name: str) -> None:
    data = (Path(__file__).parent / "data" / "cap" / name).read_bytes()
    created = parse_time(parse_alert(data).sent)
    draft = fit_one_packet(draft_from_alert(parse_alert(data), created), created).draft
    assert draft_from_params(draft_params(draft)) == draft
