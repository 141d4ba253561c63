"""Limits in the user's units for `compose` and `send`: a text that needs more than one radio
packet is announced before it goes, with its packets, its airtime and how many characters of it
one packet holds (relay.i18n.limits measures; the size in bytes means little to a person)."""

from __future__ import annotations

import time
from typing import Any

from relay.cli.human import language, tr
from relay.compose import Draft, DraftError, draft_from_params
from relay.i18n import decimal
from relay.i18n.limits import Measure, measure, one_packet_characters
from relay.lora import DEFAULT_PRESET


def note(draft: Draft, bytes_: int, packets: int, seconds: float, preset: str) -> str:
    """The announcement of a text that needs ``packets`` (> 1) radio packets."""
    chars = one_packet_characters(draft, int(time.time()))
    return tr("multi_packet", packets=packets, bytes=bytes_, preset=preset, chars=chars,
              seconds=decimal(seconds, language()))  # fmt: skip


def draft_note(draft: Draft) -> str | None:
    """For an offline draft: the announcement, or None when it fits one packet."""
    size: Measure = measure(draft, int(time.time()))
    if size.packets <= 1:
        return None
    return note(draft, size.bytes, size.packets, size.airtime_s, DEFAULT_PRESET.name)


def multi_packet_note(params: dict[str, Any], size: dict[str, Any]) -> str:
    """For `send`: the announcement from the daemon's ``size`` answer (its radio's preset)."""
    preset = str(size.get("preset") or DEFAULT_PRESET.name)
    airtime_ms = (size.get("airtime_ms") or {}).get(preset, 0)
    try:
        draft = draft_from_params({**params, "ref": params.get("ref") or "00" * 8})
    except DraftError:  # the daemon measured it, so this does not happen; say the rest anyway
        draft = Draft(DEFAULT_KIND, "")
    return note(draft, int(size.get("bytes") or 0), int(size.get("packets") or 0),
                airtime_ms / 1000, preset)  # fmt: skip


DEFAULT_KIND = draft_from_params({}).kind
