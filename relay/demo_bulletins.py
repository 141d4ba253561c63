"""What the simulated mesh publishes: a varied feed drawn from the project's bulletin corpus.

Every trusted demo text is a corpus text (``tests/data/corpus/train.jsonl``, fictional events
written for the project; the id says which) behind a marker that says it is a simulation, so a
screenshot of the demo is never taken for news. Three authors publish: the simulated newsroom
(the root the simulated mesh trusts), a field reporter and a civil protection office it certifies
(:data:`CERTIFIED`); in Russian, Kazakh and English; news, safety alerts of every severity with
their areas, and corrections of earlier items. Untrusted voices: a stranger's rumours, a visitor's
forgeries in the newsroom's name, and a noisy neighbour's flood of adverts (the spam brake's demo).
The bytes are pure functions of a time slot (:func:`slot_bulletin`), the day
(:func:`key_bulletins`) or ten minutes (:func:`flood`): a restarted simulation sends the very same
bulletins again, never new copies. relay.simulated decides which radio sends what, and when.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from relay.wire.fields import KIND_BY_NAME, Content, Kind, SafetyInfo

DESK, REPORTER, CIVIL = "desk", "reporter", "civil"

MARKERS = {"ru": "Симуляция: ", "kk": "Симуляция: ", "en": "Simulation: "}


@dataclass(frozen=True)
class DemoItem:
    """One trusted demo bulletin; ``corrects`` is the corpus id of the item it corrects
    (published earlier in the same round)."""

    corpus_id: str
    author: str
    kind: str  # news, safety, correction
    lang: str
    text: str  # the corpus text, verbatim
    severity: str | None = None
    event: str | None = None
    area: str | None = None
    corrects: str | None = None

    @property
    def shown(self) -> str:
        """The text as published: the simulation marker, then the corpus text."""
        return MARKERS[self.lang] + self.text


# Certified by the simulated newsroom: (name, kinds it may publish).
CERTIFIED = {
    REPORTER: ("Field reporter (simulated)", ("news", "correction")),
    CIVIL: ("Civil protection (simulated)", ("safety", "correction")),
}

_ = DemoItem
DEMO: tuple[DemoItem, ...] = (
    _("ru-news-19", DESK, "news", "ru", "Акимат Алматы: с 08.01 частично запустят автобусы, через центр маршруты пока не пойдут. Метро закрыто."),
    _("ru-safety-33", CIVIL, "safety", "ru", "❗Срочно кровь 0(I) отрицательная в ГКБ №7! Доноры — с удостоверением.", "severe", "medical", "ГКБ №7"),
    _("kk-news-21", REPORTER, "news", "kk", "Доллар айырбастау пункттерінде 480–520 теңге."),
    _("en-safety-11", CIVIL, "safety", "en", "Power cut in Turksib district since 10:20. No estimate yet. Keep freezers shut, have a torch ready.", "moderate", "power", "Turksib district"),
    _("kk-news-38", DESK, "news", "kk", "Ұлттық банк: банктер 11.01-де ашылады."),
    _("ru-safety-4", CIVIL, "safety", "ru", "14:10 стрельба у пл. Республики. Обходите Желтоксан – Сатпаева, держитесь подальше от окон.", "extreme", "violence", "пл. Республики"),
    _("en-news-16", REPORTER, "news", "en", "Almaty Zoo staff say the animals are fed and safe; the zoo on Yesenberlin st stays closed to visitors."),
    _("kk-safety-1", CIVIL, "safety", "kk", "Коменданттық сағат: 23:00–07:00. Түнде көшеге шықпаңыз.", "severe", "curfew", "Алматы"),
    _("ru-news-52", DESK, "news", "ru", "Газ в Мангистау снова 50 тг за литр."),
    _("ru-news-14", REPORTER, "news", "ru", "Тараз: ночь прошла спокойно, задержаний не было."),
    _("kk-safety-14", CIVIL, "safety", "kk", "Абай даңғылы Байтұрсынұлы көшесінен жоғары жабық!", "severe", "roads", "Абай даңғылы"),
    _("en-news-9", DESK, "news", "en", "Rumour that foreign troops have 'taken over' Almaty is false. Soldiers seen near the airport belong to the CSTO contingent announced by the government."),
    _("ru-correction-14", REPORTER, "correction", "ru", "Исправляем: трасса на Талгар открыта с 12:00, мы ошибочно писали «закрыта».", corrects="ru-news-14"),
    _("en-safety-20", CIVIL, "safety", "en", "Heavy smoke near Panfilov st, building on fire. No fire crews seen yet; keep windows facing the centre closed.", "severe", "fire", "Panfilov st"),
    _("kk-news-29", DESK, "news", "kk", "Ресми арна: ҰҚК бұрынғы төрағасы ұсталды."),
    _("kk-news-7", REPORTER, "news", "kk", "Орал: нан мен сүт дүкендерде бар, бағасы 10–15% өсті. Жанармай бекеттерінде кезек жоқ."),
    _("ru-news-39", DESK, "news", "ru", "Нацбанк по ТВ: банки откроются 11.01."),
    _("ru-safety-2", CIVIL, "safety", "ru", "Блокпост на пр. Аль-Фараби / Навои, проверяют документы, машины разворачивают обратно.", "severe", "checkpoint", "пр. Аль-Фараби / Навои"),
    _("en-news-7", REPORTER, "news", "en", "Pavlodar and Ust-Kamenogorsk: quiet night, shops open, no protests reported by our stringers."),
    _("kk-safety-10", CIVIL, "safety", "kk", "Іле ауданы, Өтеген батыр кенті: дәріхана ашық, 9:00–15:00, тек қолма-қол ақша. Балалар дәрісі бар.", "minor", "medical", "Өтеген батыр"),
    _("kk-news-49", DESK, "news", "kk", "ТЖ режимі бүкіл елге 19.01-ге дейін таратылды."),
    _("ru-news-26", REPORTER, "news", "ru", "Актобе: с 08.01 открылись продуктовые рынки. Мясо подорожало на 15–20%, овощи почти в прежних ценах."),
    _("kk-safety-61", CIVIL, "safety", "kk", "Абай–Розыбакиев қиылысында бронетехника тұр. Түнде тоқтамаған көлікке оқ атылды.", "extreme", "violence", "Абай–Розыбакиев"),
    _("ru-news-1", DESK, "news", "ru", "Правительство отправлено в отставку. Министры работают как исполняющие обязанности."),
    _("ru-news-59", REPORTER, "news", "ru", "Ночь в Шымкенте без происшествий."),
    _("kk-news-32", DESK, "news", "kk", "Талдықорғанда орталық алаңдағы ескерткіш құлатылды. Расталды."),
    _("ru-news-43", REPORTER, "news", "ru", "Новые задержания у ТЦ Dostyk Plaza. Подробности позже."),
    _("en-notice-5", DESK, "news", "en", "New node on the 12th floor of a tower in Samal-2, covers Dostyk down to Abay. Callsign SML-12."),
    _("kk-news-37", REPORTER, "news", "kk", "Қызылорда: сұйытылған газ бағасы литріне 85 теңгеге түсірілді деп облыс әкімдігі хабарлады."),
    _("ru-news-36", DESK, "news", "ru", "Официальных данных о погибших мирных жителях нет."),
    _("en-notice-8", REPORTER, "news", "en", "Link to Shymkent restored via the Taraz hop. Expect delays of up to 15 minutes while the backlog clears."),
)  # fmt: skip

STRANGER_TEXTS = (
    "Слышал, что завтра отключат воду во всём городе. Передайте всем!",
    "Ертең барлық дүкендер жабылады дейді.",
    "Someone said the bridge on Ryskulov is mined. Share!",
)
FORGED_TEXTS = (
    "OFFICIAL: evacuate the whole city now, all roads open.",
    "ОФИЦИАЛЬНО: всем собраться на площади Республики в 15:00.",
    "РЕСМИ: барлық тұрғындар қаладан дереу кетсін.",
)
FLOOD_TEXT = "Обмен валюты по лучшему курсу, доставка бензина на дом! Звоните 8 700 000 00 {n:02d}"


def _identity(name: str, seed: bytes) -> Identity:
    return Identity(name, hashlib.sha256(b"jarshy-demo:" + seed).digest())


DEMO_NEWSROOM = _identity("Simulated newsroom", b"newsroom")
DEMO_REPORTER = _identity(CERTIFIED[REPORTER][0], b"reporter")
DEMO_CIVIL = _identity(CERTIFIED[CIVIL][0], b"civil")
DEMO_STRANGER = _identity("Stranger", b"stranger")
DEMO_FORGER = _identity("Forger", b"forger")
DEMO_FLOODER = _identity("Noisy neighbour", b"flooder")
AUTHORS = {DESK: DEMO_NEWSROOM, REPORTER: DEMO_REPORTER, CIVIL: DEMO_CIVIL}

_INDEX = {item.corpus_id: n for n, item in enumerate(DEMO)}
STRANGER_SLOT = len(DEMO)  # positions in a round after the trusted items
FORGERY_SLOT = len(DEMO) + 1
ROUND = len(DEMO) + 2  # slots in a round: every item once, a rumour, a forgery
FLOOD = 21  # untrusted bulletins from the noisy neighbour: over the spam brake's 20
MIN_LIFETIME = 600  # seconds
DAY = 86_400
HOUR = 3_600
BURST = 600  # the spam demo's bulletins are the same within these ten minutes of wall clock


def lifetime_for(interval: float) -> int:
    """A demo bulletin's lifetime: one round (its text comes back then), at least 10 minutes."""
    return max(MIN_LIFETIME, int(ROUND * interval + 0.999))


def slot_bulletin(slot: int, interval: float) -> bytes:
    """The bulletin of time slot ``slot`` (``wall // interval``): a trusted item, a stranger's
    rumour or a forgery, by the slot's position in its round."""
    created = int(slot * interval)
    position = slot % ROUND
    if position == STRANGER_SLOT:
        text = STRANGER_TEXTS[(slot // ROUND) % len(STRANGER_TEXTS)]
        content = Content(Kind.NEWS, DEMO_STRANGER.key_id, created, text, "ru")
        return wire.sign(content, DEMO_STRANGER).raw
    if position == FORGERY_SLOT:
        return forgery(created, slot // ROUND)
    item = DEMO[position]
    ref = None
    if item.corrects is not None:  # the corrected item went out earlier in this round
        index = _INDEX[item.corrects]
        ref = _signed(DEMO[index], slot - (position - index), interval).id
    return _signed(item, slot, interval, ref).raw


def _signed(item: DemoItem, slot: int, interval: float, ref: bytes | None = None) -> wire.Bulletin:
    author = AUTHORS[item.author]
    created = int(slot * interval)
    life = lifetime_for(interval)
    if item.kind == "safety":
        info = SafetyInfo(
            item.event or "other", "safety", item.severity or "unknown", "immediate", "observed",
            item.area,
        )  # fmt: skip
        content = Content(Kind.SAFETY, author.key_id, created, item.shown, item.lang, life,
                          safety=info)  # fmt: skip
    elif item.kind == "correction":
        content = Content(Kind.CORRECTION, author.key_id, created, item.shown, item.lang, life,
                          ref=ref)  # fmt: skip
    else:
        content = Content(Kind.NEWS, author.key_id, created, item.shown, item.lang, life)
    return wire.sign(content, author)


def forgery(created: int, which: int) -> bytes:
    """An alert in the newsroom's name signed by the forger's key (fails the signature check)."""
    info = SafetyInfo("evacuation", "safety", "extreme")
    text = FORGED_TEXTS[which % len(FORGED_TEXTS)]
    content = Content(Kind.SAFETY, DEMO_NEWSROOM.key_id, created, text, "en", HOUR, safety=info)
    unsigned = wire.encode_unsigned(content)
    return unsigned + DEMO_FORGER.sign(wire.SIGNING_DOMAIN + unsigned)


def key_bulletins(wall: float) -> list[bytes]:
    """The day's key material: the newsroom's certificates of the reporter and the civil
    protection office (a week long), and the stranger's and the noisy neighbour's
    self-announcements, so that their bulletins can be checked (and found untrusted)."""
    day = int(wall // DAY * DAY)
    out = []
    for role, (name, kinds) in CERTIFIED.items():
        subject = AUTHORS[role]
        mask = 0
        for kind in kinds:
            mask |= 1 << int(KIND_BY_NAME[kind])
        content = Content(Kind.CERTIFICATE, DEMO_NEWSROOM.key_id, day, lifetime=7 * DAY,
                          subject_key=subject.public_key, name=name, kinds=mask)  # fmt: skip
        out.append(wire.sign(content, DEMO_NEWSROOM).raw)
    for ident in (DEMO_STRANGER, DEMO_FLOODER):
        content = Content(Kind.ANNOUNCEMENT, ident.key_id, day, subject_key=ident.public_key,
                          name=ident.name)  # fmt: skip
        out.append(wire.sign(content, ident).raw)
    return out


def flood(wall: float) -> list[bytes]:
    """The noisy neighbour's flood of these ten minutes (:data:`BURST`): :data:`FLOOD` valid,
    untrusted adverts."""
    hour = int(wall // BURST * BURST)
    return [
        wire.sign(
            Content(Kind.NEWS, DEMO_FLOODER.key_id, hour + n, FLOOD_TEXT.format(n=n), "ru", HOUR),
            DEMO_FLOODER,
        ).raw
        for n in range(FLOOD)
    ]
