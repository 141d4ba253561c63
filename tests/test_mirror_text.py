"""The mirror's words: codes, parts within the payload limit, Cyrillic and grapheme boundaries."""

from __future__ import annotations

import hashlib

import pytest

from relay.mirror_text import (
    TEXT_LIMIT,
    MirrorSource,
    clean,
    code_prefix,
    codes_in,
    matches,
    mirror_code,
    mirror_texts,
    normalize_code,
)

ID = hashlib.sha256(b"bulletin").digest()


def test_code_is_base32_of_the_first_30_bits() -> None:
    assert mirror_code(bytes([0, 0, 0, 0])) == "AAAAAA"
    assert mirror_code(bytes([0xFF] * 4)) == "777777"
    code = mirror_code(ID)
    bits = int.from_bytes(ID[:4], "big") >> 2
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert code == "".join(alphabet[(bits >> (5 * (5 - i))) & 31] for i in range(6))
    prefix, known = code_prefix(code)
    assert known == 30 and prefix[:3] == ID[:3] and matches(ID, code)


def test_codes_as_people_type_them() -> None:
    code = mirror_code(ID)
    assert normalize_code("#" + code.lower()) == code
    assert normalize_code(" O0I1 B8 ".replace(" ", "")[:6]) == "OOIIBB"
    assert normalize_code("#ABC") is None and normalize_code("ABCDE9") is None
    assert codes_in(f"x #{code} 1/2 and #{code}X no") == [code]


def test_short_bulletin_is_one_message_with_name_and_code() -> None:
    [text] = mirror_texts(MirrorSource(ID, "news", "Newsroom", "Water back at 18:00", "en"))
    assert text == f"Newsroom: Water back at 18:00 #{mirror_code(ID)}"


def test_correction_says_what_it_corrects_in_its_language() -> None:
    ref = hashlib.sha256(b"old").digest()
    [ru] = mirror_texts(MirrorSource(ID, "correction", "Редакция", "Вода в 19:00", "ru", ref))
    assert f"Исправление к #{mirror_code(ref)}" in ru and ru.endswith(f"#{mirror_code(ID)}")
    [en] = mirror_texts(MirrorSource(ID, "retraction", "N", "", "en", ref))
    assert en == f"N: Retraction of #{mirror_code(ref)} #{mirror_code(ID)}"


@pytest.mark.parametrize(
    "lang,word", [("ru", "Вода будет завтра в восемь. "), ("kk", "Су ертең болады. ")]
)
def test_cyrillic_splits_between_words_within_the_byte_limit(lang: str, word: str) -> None:
    body = word * 30
    texts = mirror_texts(MirrorSource(ID, "news", "Редакция", body, lang))
    code = mirror_code(ID)
    assert len(texts) > 2
    for i, text in enumerate(texts, 1):
        assert len(text.encode()) <= TEXT_LIMIT
        assert text.endswith(f"#{code} {i}/{len(texts)}")
        text.encode().decode()  # whole characters
    assert texts[0].startswith("Редакция: ")
    pieces = [t.removeprefix("Редакция: ").rsplit(" #", 1)[0] for t in texts]
    assert " ".join(pieces).split() == body.split()  # nothing lost, no word cut


def test_no_space_still_cuts_between_letters_never_inside_a_grapheme() -> None:
    accented = "й" + "е\u0301" * 200  # e + combining acute, 3 bytes each cluster
    texts = mirror_texts(MirrorSource(ID, "news", "N", accented, "ru"))
    for text in texts:
        body = text.removeprefix("N: ").rsplit(" #", 1)[0]
        assert not body.startswith("\u0301") and len(text.encode()) <= TEXT_LIMIT
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 40
    for text in mirror_texts(MirrorSource(ID, "news", "N", family, "en")):
        body = text.removeprefix("N: ").rsplit(" #", 1)[0]
        assert body.startswith("\U0001f468") and body.endswith("\U0001f467")


def test_controls_and_bidi_overrides_are_removed() -> None:
    assert clean("a\x1b[2Jb\u202ec\u200dd\ne", one_line=True) == "a[2Jbc\u200dd e"
    [text] = mirror_texts(MirrorSource(ID, "news", "Evil\u202e\nName", "hi\u2066", "en"))
    assert text.startswith("Evil Name: hi #")
