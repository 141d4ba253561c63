"""relay.inert: untrusted strings lose every control, format and line-break character."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from relay.inert import inert_block, inert_line, quoted

FORBIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
NASTY = (
    "\x1b[2K\r\x1b[1A✔ TRUSTED\x07\x7f\x9b31m\u202eevil\u202c\u2066\u2069\u200e\u200f\u061c"
    "\u2028\u2029\x85\x00\ufeff\u00ad\u200b"
)
# Every character any of the threats uses, plus ordinary text, so hypothesis hits them often.
texts = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(NASTY), st.sampled_from("ҚқӘәЖж \n\t"))
)


def shown(s: str) -> set[str]:
    return {unicodedata.category(ch) for ch in s}


@given(texts, st.one_of(st.none(), st.integers(min_value=0, max_value=80)))
def test_inert_line_has_no_control_and_no_line_break(s: str, max_len: int | None) -> None:
    out = inert_line(s, max_len)
    assert not shown(out) & FORBIDDEN
    assert "\n" not in out and len(out.splitlines()) <= 1
    if max_len is not None:
        assert len(out) <= max_len


@given(texts)
def test_inert_block_lines_are_inert_lines(s: str) -> None:
    lines = inert_block(s)
    assert lines
    for line in lines:
        assert not shown(line) & FORBIDDEN and "\n" not in line


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_ordinary_text_is_unchanged(s: str) -> None:
    assert inert_line(s) == s


def test_the_scheme() -> None:
    assert inert_line("a\x1b[2Kb") == "a\\u{1b}[2Kb"
    assert inert_line("\u202eevil") == "\\u{202e}evil"
    assert inert_line("one\ntwo\r\nthree\u2028four") == "one↵two↵three↵four"
    assert inert_line("tab\there\x7f\x9b") == "tab here\\u{7f}\\u{9b}"
    assert (
        inert_line("Вода будет завтра. Су ертең болады.") == "Вода будет завтра. Су ертең болады."
    )
    assert inert_block("first\n\x1b[1A✔ TRUSTED\n\n") == ["first", "\\u{1b}[1A✔ TRUSTED"]
    assert inert_block("") == [""]
    assert quoted('Almaty\u202e "x"') == '"Almaty\\u{202e} "x""'


def test_clipping_never_cuts_an_escape() -> None:
    assert inert_line("abcdef", 4) == "abc…"
    assert inert_line("ab\x1bcdef", 6) == "ab…"
    assert inert_line("ab\x1bcdef", 9) == "ab\\u{1b}…"
    assert inert_line("abc", 3) == "abc" and inert_line("abc", 0) == ""
