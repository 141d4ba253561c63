"""relay.compose: one pure builder for the CLI and the API, with errors in neither's vocabulary."""

from __future__ import annotations

import pytest

from relay.compose import Draft, DraftError, Point, build, parse_ref
from relay.wire import bulletin as wire
from relay.wire.fields import Kind, SafetyInfo
from tests.conftest import make_identity
from tests.helpers import T0

AUTHOR = make_identity("editor")


def test_safety_alert_gets_a_day_and_its_point_in_wire_units() -> None:
    draft = Draft(Kind.SAFETY, " Пожар на рынке ", safety=SafetyInfo(
        severity="severe", event="fire"), point=Point(43.238, 76.945, 500))  # fmt: skip
    content = build(draft, AUTHOR.key_id, T0)
    assert content.text == "Пожар на рынке" and content.lifetime == 24 * 3600
    assert content.safety is not None and content.safety.point == (4323800, 7694500, 500)
    assert wire.decode(wire.sign(content, AUTHOR).raw).content == content


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (Draft(Kind.NEWS, "  "), "text"),
        (Draft(Kind.CORRECTION, "fixed"), "ref"),
        (Draft(Kind.NEWS, "x", ref=bytes(8)), "ref"),
        (Draft(Kind.NEWS, "x", lifetime=0), "expires"),
        (Draft(Kind.NEWS, "x", safety=SafetyInfo()), "safety"),
        (Draft(Kind.CERTIFICATE, "x"), "kind"),
        (Draft(Kind.SAFETY, "x", point=Point(91.0, 0.0, 1)), "point"),
        (Draft(Kind.SAFETY, "x", point=Point(0.0, 180.0, 1)), "point"),
    ],
)
def test_drafts_that_cannot_be_bulletins_name_their_field(draft: Draft, field: str) -> None:
    with pytest.raises(DraftError) as caught:
        build(draft, AUTHOR.key_id, T0)
    assert caught.value.field == field and "--" not in caught.value.message


def test_parse_ref() -> None:
    assert parse_ref("00ff00ff00ff00ff") == bytes.fromhex("00ff00ff00ff00ff")
    assert parse_ref(None) is None
    for bad in ("xyz", "00ff", "00" * 9):
        with pytest.raises(DraftError):
            parse_ref(bad)


def test_one_vocabulary() -> None:
    """Kinds, verdicts and CAP fields are defined once (relay.vocabulary) and agree everywhere."""
    from relay import vocabulary
    from relay.trust import Status
    from relay.wire.fields import KIND_NAMES, SEVERITIES
    from tui import state

    assert tuple(Status) == vocabulary.STATUSES == state.STATUSES
    assert tuple(KIND_NAMES.values()) == vocabulary.KIND_NAMES == state.KINDS[1:]
    assert SEVERITIES is vocabulary.SEVERITIES and state.URGENCIES[0] == "immediate"
