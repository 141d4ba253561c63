"""The catalogs (relay/i18n): complete in three languages, English when a message is missing,
local times and durations from Babel's locale data, limits in characters and packets."""

from __future__ import annotations

import string
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest

from relay.compose import Draft
from relay.i18n import (
    LANGUAGES,
    choose_language,
    decimal,
    duration,
    local_time,
    messages,
    relative,
    translate,
)
from relay.i18n.limits import measure, one_packet_characters
from relay.wire.fields import Kind
from tests.helpers import T0


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    english = messages("en")
    assert len(english) > 250
    for key, text in english.items():
        assert messages(lang).get(key), f"{key} missing in {lang}"
        assert placeholders(messages(lang)[key]) == placeholders(text), (key, lang)


def test_a_missing_translation_falls_back_to_english_and_never_crashes(tmp_path: Path) -> None:
    assert translate("no-such-key", "kk") == "no-such-key"  # a gap shows
    assert translate("trusted", "de") == "TRUSTED"  # a language we lack
    assert translate("trusted", "kk") == "СЕНІМДІ"
    # values the message does not name, or a message without the values it names
    assert translate("st_roots", "ru", n=2, extra="x") == "доверенных ключей: 2"
    assert translate("st_roots", "ru") == "доверенных ключей: {n}"
    messages("ru")["st_roots"] = "broken {typo}"  # a slip in one catalog
    try:
        assert translate("st_roots", "ru", n=3) == "trusted roots: 3"
    finally:
        messages.cache_clear()
    assert translate("st_roots", "ru", n=3) == "доверенных ключей: 3"


def test_language_from_jarshy_lang_then_the_locale() -> None:
    assert choose_language(["kk_KZ.UTF-8", "ru_RU.UTF-8"]) == "kk"
    assert choose_language([None, "ru_RU.UTF-8"]) == "ru"
    assert choose_language([None, None, "de_DE.UTF-8"]) == "en"
    assert choose_language(["", "C.UTF-8", "kk"]) == "kk"  # C says nothing: look further
    assert choose_language([None, None]) == "en"


def test_local_times_and_durations_in_each_language() -> None:
    almaty = timezone(timedelta(hours=5))
    moment = 1_796_461_380  # 2026-12-05 09:03 UTC = 14:03 in Almaty
    assert local_time(moment, "en", almaty, now=moment) == "5 Dec 14:03"
    assert local_time(moment, "ru", almaty, now=moment) == "5 дек. 14:03"
    assert local_time(moment, "kk", almaty, now=moment) == "5 жел. 14:03"
    assert local_time(T0 - 60, "en", UTC, now=moment) == "31 Dec 2025 23:59"  # last year
    assert [duration(s, "en") for s in (5, 720, 3 * 3600 + 300, 3 * 86400)] == [
        "5 s", "12 min", "3 h 5 min", "3 d",
    ]  # fmt: skip
    assert duration(3 * 3600 + 300, "ru") == "3 ч 5 мин"
    assert duration(2 * 86400 + 4 * 3600, "kk") == "2 күн 4 сағ"
    assert relative(3 * 3600, "en") == "in 3 hours"
    assert relative(3 * 3600, "ru") == "через 3 часа"
    assert relative(3 * 3600, "kk") == "3 сағаттан кейін"
    assert relative(-600, "ru") == "10 минут назад"
    assert translate("expires_when", "en", when=relative(3 * 3600, "en")) == "expires in 3 hours"
    assert (decimal(4.06, "en"), decimal(4.06, "ru")) == ("4.1", "4,1")


LONG_TEXT = (
    "Жители Алмалинского района! Завтра с 10:00 до 18:00 нет холодной воды: Толе би 45–120, "
    "Абая 10–88, Байтурсынова 1–64, Шарипова 70–142. Машины с водой: школа №25 (12:00), ЦОН на "
    "Жандосова (16:00). Берите чистые ёмкости, не больше двух на семью; старшим соседям воду "
    "поднимут волонтёры — 8-727-300-15-22. Ржавую воду не пейте 2–3 часа. QX-7 Z9 w4 JJ88."
)


def test_the_limit_of_one_packet_is_given_in_characters_of_this_text() -> None:
    draft = Draft(Kind.NEWS, LONG_TEXT, "ru")
    whole = measure(draft, T0)
    assert whole.packets > 1 and whole.characters == len(LONG_TEXT)
    assert whole.airtime_s > 1.0  # LONG_FAST: seconds, not milliseconds
    fits = one_packet_characters(draft, T0)
    assert 50 < fits < len(LONG_TEXT)
    assert measure(Draft(Kind.NEWS, LONG_TEXT[:fits], "ru"), T0).packets == 1
    assert measure(Draft(Kind.NEWS, LONG_TEXT[: fits + 1], "ru"), T0).packets > 1
    short = Draft(Kind.NEWS, "Су жоқ.", "kk")
    assert one_packet_characters(short, T0) == len("Су жоқ.")
