"""UI strings in English, Russian and Kazakh (switchable at run time)."""

from __future__ import annotations

import locale
import os

LANGUAGES = ("en", "ru", "kk")

MESSAGES: dict[str, dict[str, str]] = {
    "trusted": {"en": "TRUSTED", "ru": "ДОВЕРЕН", "kk": "СЕНІМДІ"},
    "unknown_key": {"en": "UNKNOWN KEY", "ru": "НЕИЗВ. КЛЮЧ", "kk": "БЕЙТАНЫС КІЛТ"},
    "pending_key": {"en": "PENDING", "ru": "ОЖИДАЕТ", "kk": "КҮТУДЕ"},
    "revoked": {"en": "REVOKED", "ru": "ОТОЗВАН", "kk": "КЕРІ АЛЫНҒАН"},
    "invalid": {"en": "FORGED", "ru": "ПОДДЕЛКА", "kk": "ЖАЛҒАН"},
    "feed": {"en": "Feed", "ru": "Лента", "kk": "Лента"},
    "compose": {"en": "Compose", "ru": "Написать", "kk": "Жазу"},
    "keys": {"en": "Keys & trust", "ru": "Ключи и доверие", "kk": "Кілттер мен сенім"},
    "mesh": {"en": "Mesh", "ru": "Сеть", "kk": "Желі"},
    "help": {"en": "Help", "ru": "Справка", "kk": "Анықтама"},
    "search": {"en": "Search text…", "ru": "Поиск…", "kk": "Іздеу…"},
    "daemon_lost": {
        "en": "Daemon not reachable — reconnecting…",
        "ru": "Нет связи с демоном — переподключение…",
        "kk": "Демонмен байланыс жоқ — қайта қосылуда…",
    },
    "simulated": {"en": "SIMULATED MESH", "ru": "СИМУЛЯЦИЯ СЕТИ", "kk": "ЖЕЛІ СИМУЛЯЦИЯСЫ"},
    "counts": {
        "en": "{shown} shown · {trusted} trusted · {alerts} active alerts",
        "ru": "показано {shown} · доверенных {trusted} · тревог {alerts}",
        "kk": "көрсетілген {shown} · сенімді {trusted} · дабыл {alerts}",
    },
    "filters": {
        "en": "kind: {kind} · lang: {lang} · severity ≥ {severity} · trusted only: {trusted}",
        "ru": "вид: {kind} · язык: {lang} · важность ≥ {severity} · только доверенные: {trusted}",
        "kk": "түрі: {kind} · тіл: {lang} · маңыздылық ≥ {severity} · тек сенімді: {trusted}",
    },
    "all": {"en": "all", "ru": "все", "kk": "барлығы"},
    "yes": {"en": "yes", "ru": "да", "kk": "иә"},
    "no": {"en": "no", "ru": "нет", "kk": "жоқ"},
    "claims": {"en": "claims", "ru": "называет себя", "kk": "өзін атайды"},
    "why": {"en": "Why", "ru": "Почему", "kk": "Неге"},
    "send": {"en": "Sign & send", "ru": "Подписать и отправить", "kk": "Қол қойып жіберу"},
    "fits": {"en": "fits one packet", "ru": "в один пакет", "kk": "бір пакетке сияды"},
    "not_fits": {"en": "{n} packets", "ru": "{n} пакетов", "kk": "{n} пакет"},
    "passphrase": {"en": "Passphrase", "ru": "Пароль", "kk": "Құпия сөз"},
    "add_root": {"en": "Trust this key", "ru": "Доверять ключу", "kk": "Кілтке сену"},
}

HELP = {
    "en": """[b]Badges[/b] — every bulletin carries its author's signature:
  ✔ TRUSTED      signed by a key you trust, or one certified by it (the name comes from the certificate)
  ? UNKNOWN KEY  the signature is valid, but nobody you trust vouches for this key — treat as rumour
  … PENDING      the author's key has not arrived yet; it will be checked when it does
  ✖ REVOKED      signed by a key its owner or issuer withdrew — do not trust
  ✖ FORGED       the signature does not match: someone altered or faked it
A name shown as "claims: X" is what an unknown key says about itself. Anyone can claim any name.

[b]Keys[/b]  f feed · c compose · y keys & trust · m mesh · ? help · g language · h contrast
  Feed: enter opens a bulletin · / search · t trusted only · k kind · l language · s severity
  q quits · ctrl+p command palette""",
    "ru": """[b]Значки[/b] — каждый бюллетень подписан автором:
  ✔ ДОВЕРЕН       подписан ключом, которому вы доверяете, или заверенным им ключом
  ? НЕИЗВ. КЛЮЧ   подпись верна, но за ключ никто из доверенных не ручается — считайте слухом
  … ОЖИДАЕТ       ключ автора ещё не получен; проверка будет, когда он придёт
  ✖ ОТОЗВАН       ключ отозван владельцем или выдавшим — не доверяйте
  ✖ ПОДДЕЛКА      подпись не совпадает: текст изменён или подделан
«называет себя: X» — так неизвестный ключ называет сам себя. Назваться может кто угодно.

[b]Клавиши[/b]  f лента · c написать · y ключи · m сеть · ? справка · g язык · h контраст
  Лента: enter — открыть · / поиск · t только доверенные · k вид · l язык · s важность · q выход""",
    "kk": """[b]Белгілер[/b] — әр бюллетень авторының қолтаңбасымен келеді:
  ✔ СЕНІМДІ        сіз сенетін кілтпен немесе ол куәландырған кілтпен қол қойылған
  ? БЕЙТАНЫС КІЛТ  қолтаңба дұрыс, бірақ бұл кілтке сенімді ешкім кепіл емес — қауесет деп санаңыз
  … КҮТУДЕ         автордың кілті әлі келген жоқ; келгенде тексеріледі
  ✖ КЕРІ АЛЫНҒАН   кілтті иесі немесе берушісі кері алған — сенбеңіз
  ✖ ЖАЛҒАН         қолтаңба сәйкес емес: мәтін өзгертілген немесе жалған
«өзін атайды: X» — бейтаныс кілттің өзі туралы айтқаны. Кез келген адам кез келген атпен атала алады.

[b]Пернелер[/b]  f лента · c жазу · y кілттер · m желі · ? анықтама · g тіл · h контраст
  Лента: enter — ашу · / іздеу · t тек сенімді · k түрі · l тіл · s маңыздылық · q шығу""",
}


def t(key: str, ui: str, /, **values: object) -> str:
    """The message ``key`` in the UI language ``ui`` (English when missing)."""
    table = MESSAGES.get(key, {})
    text = table.get(ui) or table.get("en") or key
    return text.format(**values) if values else text


def default_language() -> str:
    """From JARSHY_LANG or the locale: ru, kk or en."""
    wanted = (
        os.environ.get("JARSHY_LANG") or (locale.getlocale()[0] or "") or os.environ.get("LANG", "")
    )
    code = wanted[:2].lower()
    return code if code in LANGUAGES else "en"
