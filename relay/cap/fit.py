"""Cutting an imported CAP alert to fit one radio packet, saying what was cut (pure).

A CAP description is often a page; a Jarshy bulletin that fits one packet (229 bytes on air with
its signature, docs/protocol.md §1) reaches everyone in one transmission. The parts are cut in
this order, each at a word boundary with ``…``, only as far as needed: the description, the
instruction, the area description, the headline. The size is measured by encoding the bulletin as
the signer will (the signature is always 64 bytes), so what is shown is what goes on air.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

from relay.cap.mapping import Imported, MappingError, join_parts
from relay.cap.words import ELLIPSIS
from relay.compose import Draft, DraftError, build
from relay.wire.bulletin import PACKET_MAX, SIGNATURE_LEN, encode_unsigned

MAGIC_LEN = 2  # docs/protocol.md §1: the two bytes FE 4A before every frame on the air
ONE_PACKET = PACKET_MAX - MAGIC_LEN  # 229: the longest frame one packet carries
CUT_ORDER = ("description", "instruction", "note", "area", "headline", "event")


def on_air_size(draft: Draft, created: int) -> int:
    """Bytes of the signed bulletin ``draft`` makes (DraftError if it makes none)."""
    content = build(draft, bytes(8), created)
    return len(encode_unsigned(content)) + SIGNATURE_LEN


def fit_one_packet(imported: Imported, created: int) -> Imported:
    """``imported`` with parts cut until its bulletin fits one packet; what was cut is listed
    in ``cut``. MappingError if even the shortest form does not fit."""
    fitting = _Fitting(imported.draft, dict(imported.parts), created)
    cut: list[str] = []
    for name in CUT_ORDER:
        if fitting.fits():
            break
        original = fitting.area if name == "area" else fitting.parts.get(name)
        if not original:
            continue
        shortened = _shorten(original, partial(fitting.fits, name))
        fitting.set(name, shortened)
        label = "<areaDesc>" if name == "area" else f"<{name}>"
        kept = len(shortened.removesuffix(ELLIPSIS))
        cut.append(
            f"{label} cut from {len(original)} to {kept} characters"
            if shortened
            else f"{label} left out ({len(original)} characters)"
        )
    final = fitting.draft()
    try:
        size = on_air_size(final, created)
    except DraftError as exc:
        raise MappingError(f"cannot make a bulletin of this alert: {exc.message}") from None
    if size > ONE_PACKET:
        raise MappingError(f"does not fit one packet even cut down ({size} bytes)")
    kept_parts = tuple((k, v) for k, v in fitting.parts.items() if v)
    return replace(imported, draft=final, parts=kept_parts, cut=[*imported.cut, *cut])


class _Fitting:
    """A draft whose text parts and area description can be swapped while measuring."""

    def __init__(self, draft: Draft, parts: dict[str, str], created: int) -> None:
        self.base, self.parts, self.created = draft, parts, created
        self.area = draft.safety.area if draft.safety is not None else None

    def set(self, name: str, text: str) -> None:
        if name == "area":
            self.area = text or None
        else:
            self.parts[name] = text

    def draft(self, name: str | None = None, text: str | None = None) -> Draft:
        parts, area = self.parts, self.area
        if name == "area":
            area = text or None
        elif name is not None:
            parts = {**parts, name: text or ""}
        safety = self.base.safety
        if safety is not None:
            safety = replace(safety, area=area)
        return replace(self.base, text=join_parts(tuple(parts.items())), safety=safety)

    def fits(self, name: str | None = None, text: str | None = None) -> bool:
        try:
            return on_air_size(self.draft(name, text), self.created) <= ONE_PACKET
        except DraftError:
            return False


def _shorten(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of ``text`` (ending ``…``, at a word boundary when one is near) that
    ``fits``; "" when none does."""
    if fits(text):
        return text
    low, high = 0, len(text)  # a prefix of ``low`` characters fits (0: nothing); ``high`` not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(_prefix(text, middle)):
            low = middle
        else:
            high = middle
    best = _prefix(text, low)
    space = best.rfind(" ", 0, len(best) - 1)
    if space > len(best) * 2 // 3:
        at_word = _prefix(text, space)
        if fits(at_word):
            return at_word
    return best


def _prefix(text: str, length: int) -> str:
    head = text[:length].rstrip()
    return head + ELLIPSIS if head else ""
