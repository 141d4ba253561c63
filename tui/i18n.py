"""UI strings in English, Russian and Kazakh, as one plain dict (switchable at run time).

``t(key, ui_lang, **values)`` looks a message up and formats it; a missing translation falls back
to English, a missing key to the key itself (so a gap shows, never crashes).
"""

from __future__ import annotations

import locale
import os

from tui.i18n_help import HELP

LANGUAGES = ("en", "ru", "kk")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}

# fmt: off
MESSAGES: dict[str, dict[str, str]] = {
    # badges
    "trusted": {"en": "TRUSTED", "ru": "ДОВЕРЕН", "kk": "СЕНІМДІ"},
    "unknown_key": {"en": "UNKNOWN KEY", "ru": "НЕИЗВ. КЛЮЧ", "kk": "БЕЙТАНЫС КІЛТ"},
    "pending_key": {"en": "PENDING", "ru": "ОЖИДАЕТ", "kk": "КҮТУДЕ"},
    "revoked": {"en": "REVOKED", "ru": "ОТОЗВАН", "kk": "КЕРІ АЛЫНҒАН"},
    "invalid": {"en": "FORGED", "ru": "ПОДДЕЛКА", "kk": "ЖАЛҒАН"},
    "claims": {"en": "claims", "ru": "называет себя", "kk": "өзін атайды"},
    "key": {"en": "key", "ru": "ключ", "kk": "кілт"},
    # screens and key bindings
    "feed": {"en": "Feed", "ru": "Лента", "kk": "Лента"},
    "bulletin": {"en": "Bulletin", "ru": "Бюллетень", "kk": "Бюллетень"},
    "compose": {"en": "Compose", "ru": "Написать", "kk": "Жазу"},
    "keys": {"en": "Keys", "ru": "Ключи", "kk": "Кілттер"},
    "keys_trust": {"en": "Keys & trust", "ru": "Ключи и доверие", "kk": "Кілттер мен сенім"},
    "mesh": {"en": "Mesh", "ru": "Сеть", "kk": "Желі"},
    "help": {"en": "Help", "ru": "Справка", "kk": "Анықтама"},
    "quit": {"en": "Quit", "ru": "Выход", "kk": "Шығу"},
    "back": {"en": "Back", "ru": "Назад", "kk": "Артқа"},
    "open": {"en": "Open", "ru": "Открыть", "kk": "Ашу"},
    "search_key": {"en": "Search", "ru": "Поиск", "kk": "Іздеу"},
    "ui_language": {"en": "Language", "ru": "Язык", "kk": "Тіл"},
    "contrast": {"en": "High contrast", "ru": "Контраст", "kk": "Контраст"},
    "trusted_only": {"en": "Trusted only", "ru": "Только доверенные", "kk": "Тек сенімді"},
    "cycle_kind": {"en": "Kind filter", "ru": "Фильтр вида", "kk": "Түр сүзгісі"},
    "cycle_lang": {"en": "Language filter", "ru": "Фильтр языка", "kk": "Тіл сүзгісі"},
    "cycle_severity": {"en": "Severity filter", "ru": "Фильтр важности", "kk": "Маңыздылық сүзгісі"},
    "clear_filters": {"en": "Clear filters", "ru": "Сбросить фильтры", "kk": "Сүзгілерді тазалау"},
    "send_key": {"en": "Sign & send", "ru": "Подписать и отправить", "kk": "Қол қойып жіберу"},
    "remove": {"en": "Remove", "ru": "Удалить", "kk": "Жою"},
    # feed
    "search": {"en": "Search text… (enter to return)", "ru": "Поиск… (enter — назад)", "kk": "Іздеу… (enter — артқа)"},
    "filters": {
        "en": "kind: {kind} · lang: {lang} · severity ≥ {severity} · trusted only: {trusted}",
        "ru": "вид: {kind} · язык: {lang} · важность ≥ {severity} · только доверенные: {trusted}",
        "kk": "түрі: {kind} · тіл: {lang} · маңыздылық ≥ {severity} · тек сенімді: {trusted}",
    },
    "counts": {
        "en": "{shown} of {total} shown · ✔ {trusted} · ?… {unknown} · ✖ {bad} · {alerts} active alerts",
        "ru": "показано {shown} из {total} · ✔ {trusted} · ?… {unknown} · ✖ {bad} · тревог {alerts}",
        "kk": "{total} ішінен {shown} · ✔ {trusted} · ?… {unknown} · ✖ {bad} · дабыл {alerts}",
    },
    "empty": {"en": "No bulletins match.", "ru": "Нет подходящих бюллетеней.", "kk": "Сәйкес бюллетень жоқ."},
    "all": {"en": "all", "ru": "все", "kk": "барлығы"},
    "yes": {"en": "yes", "ru": "да", "kk": "иә"},
    "no": {"en": "no", "ru": "нет", "kk": "жоқ"},
    "sev_unknown": {"en": "any", "ru": "любая", "kk": "кез келген"},
    "sev_minor": {"en": "minor", "ru": "низкая", "kk": "төмен"},
    "sev_moderate": {"en": "moderate", "ru": "средняя", "kk": "орташа"},
    "sev_severe": {"en": "severe", "ru": "высокая", "kk": "жоғары"},
    "sev_extreme": {"en": "extreme", "ru": "крайняя", "kk": "өте жоғары"},
    "ago_s": {"en": "{n} s ago", "ru": "{n} с назад", "kk": "{n} с бұрын"},
    "ago_min": {"en": "{n} min ago", "ru": "{n} мин назад", "kk": "{n} мин бұрын"},
    "ago_h": {"en": "{n} h ago", "ru": "{n} ч назад", "kk": "{n} сағ бұрын"},
    # connection and status line
    "daemon_lost": {
        "en": "⚠ Daemon not reachable — retrying in {s} s (attempt {n})",
        "ru": "⚠ Нет связи с демоном — повтор через {s} с (попытка {n})",
        "kk": "⚠ Демонмен байланыс жоқ — {s} с кейін қайталау ({n}-әрекет)",
    },
    "connecting": {"en": "connecting to the daemon…", "ru": "подключение к демону…", "kk": "демонға қосылуда…"},
    "simulated": {"en": "SIMULATED MESH", "ru": "СИМУЛЯЦИЯ СЕТИ", "kk": "ЖЕЛІ СИМУЛЯЦИЯСЫ"},
    "real_radio": {"en": "REAL RADIO", "ru": "РАДИО", "kk": "РАДИО"},
    "status_line": {
        "en": "link {state} · {region} {preset} · {nodes} nodes",
        "ru": "связь: {state} · {region} {preset} · узлов: {nodes}",
        "kk": "байланыс: {state} · {region} {preset} · {nodes} түйін",
    },
    "link_up": {"en": "up", "ru": "есть", "kk": "бар"},
    "link_down": {"en": "down", "ru": "нет", "kk": "жоқ"},
    "link_connecting": {"en": "connecting", "ru": "подключение", "kk": "қосылуда"},
    # bulletin
    "why": {"en": "Why", "ru": "Почему", "kk": "Неге"},
    "author": {"en": "Author", "ru": "Автор", "kk": "Автор"},
    "key_id": {"en": "key id", "ru": "ID ключа", "kk": "кілт ID"},
    "chain": {"en": "Certificate chain", "ru": "Цепочка сертификатов", "kk": "Сертификат тізбегі"},
    "chain_none": {"en": "none (no one you trust vouches for this key)", "ru": "нет (никто из доверенных не ручается за ключ)", "kk": "жоқ (сенімді ешкім бұл кілтке кепіл емес)"},
    "written": {"en": "Written (author's clock)", "ru": "Написано (часы автора)", "kk": "Жазылды (автор сағаты)"},
    "received": {"en": "Received here", "ru": "Получено здесь", "kk": "Осында алынды"},
    "expires": {"en": "Expires", "ru": "Истекает", "kk": "Мерзімі"},
    "expired": {"en": "EXPIRED", "ru": "ИСТЁК", "kk": "МЕРЗІМІ ӨТТІ"},
    "never": {"en": "never", "ru": "никогда", "kk": "ешқашан"},
    "area": {"en": "Area", "ru": "Район", "kk": "Аймақ"},
    "event": {"en": "Event", "ru": "Событие", "kk": "Оқиға"},
    "path": {"en": "Heard over {hops} hop(s), SNR {snr} dB, via {source}", "ru": "Получено через {hops} прыжк., SNR {snr} дБ, источник {source}", "kk": "{hops} секіріс арқылы, SNR {snr} дБ, көзі {source}"},
    "delivery": {"en": "Delivery", "ru": "Доставка", "kk": "Жеткізу"},
    "corrects": {"en": "corrects", "ru": "исправляет", "kk": "түзетеді"},
    "corrected_by": {"en": "corrected by", "ru": "исправлен", "kk": "түзеткен"},
    "links": {"en": "Linked bulletins (enter opens)", "ru": "Связанные бюллетени (enter — открыть)", "kk": "Байланысты бюллетеньдер (enter — ашу)"},
    "not_here": {"en": "(not received here yet)", "ru": "(ещё не получен)", "kk": "(әлі алынған жоқ)"},
    # compose
    "text_unreadable": {
        "en": "⚠ text unreadable: it does not decode (the author's software is at fault)",
        "ru": "⚠ текст не читается: он не декодируется (ошибка программы автора)",
        "kk": "⚠ мәтін оқылмайды: ол декодталмайды (автордың бағдарламасының қатесі)",
    },
    "text_placeholder": {"en": "Bulletin text", "ru": "Текст бюллетеня", "kk": "Бюллетень мәтіні"},
    "lang_auto": {"en": "language: auto", "ru": "язык: авто", "kk": "тіл: авто"},
    "identity": {"en": "identity", "ru": "подпись", "kk": "қолтаңба"},
    "severity": {"en": "severity", "ru": "важность", "kk": "маңыздылық"},
    "urgency": {"en": "urgency", "ru": "срочность", "kk": "шұғылдық"},
    "certainty": {"en": "certainty", "ru": "достоверность", "kk": "сенімділік"},
    "area_placeholder": {"en": "area (district, street)", "ru": "район, улица", "kk": "аудан, көше"},
    "expires_placeholder": {"en": "expires in minutes", "ru": "истекает через N мин", "kk": "N минуттан кейін"},
    "ref_placeholder": {"en": "id of the bulletin corrected", "ru": "id исправляемого бюллетеня", "kk": "түзетілетін бюллетень id"},
    "meter": {
        "en": "{chars} chars → {bytes} bytes on air · {packets} fragment(s) · {seconds} s on {preset} · {fits}",
        "ru": "{chars} симв. → {bytes} байт в эфире · фрагментов: {packets} · {seconds} с на {preset} · {fits}",
        "kk": "{chars} таңба → эфирде {bytes} байт · {packets} фрагмент · {preset}: {seconds} с · {fits}",
    },
    "meter_empty": {"en": "Type to see the size on air.", "ru": "Печатайте — здесь будет размер в эфире.", "kk": "Жазыңыз — мұнда эфирдегі көлем шығады."},
    "fits": {"en": "✔ fits one packet", "ru": "✔ влезает в один пакет", "kk": "✔ бір пакетке сияды"},
    "not_fits": {"en": "✖ does not fit one packet ({n})", "ru": "✖ не влезает в один пакет ({n})", "kk": "✖ бір пакетке симайды ({n})"},
    "no_identity": {"en": "No identity: create one with `jarshy keys new NAME`.", "ru": "Нет ключа подписи: создайте `jarshy keys new ИМЯ`.", "kk": "Қолтаңба кілті жоқ: `jarshy keys new АТЫ` арқылы жасаңыз."},
    "passphrase_for": {"en": "Passphrase for {name}", "ru": "Пароль для {name}", "kk": "{name} құпия сөзі"},
    "unlock": {"en": "Unlock", "ru": "Открыть", "kk": "Ашу"},
    "cancel": {"en": "Cancel", "ru": "Отмена", "kk": "Болдырмау"},
    "cancelled": {"en": "Not sent: no passphrase.", "ru": "Не отправлено: нет пароля.", "kk": "Жіберілмеді: құпия сөз жоқ."},
    "sent": {"en": "✔ signed by {name} · id {id} · {bytes} bytes", "ru": "✔ подписано {name} · id {id} · {bytes} байт", "kk": "✔ {name} қол қойды · id {id} · {bytes} байт"},
    "dl_queued": {"en": "queued", "ru": "в очереди", "kk": "кезекте"},
    "dl_sent": {"en": "sent to radio", "ru": "передано радио", "kk": "радиоға берілді"},
    "dl_heard": {"en": "heard by the mesh", "ru": "услышано сетью", "kk": "желі естіді"},
    "held_n": {"en": "held by {n} stores", "ru": "хранят узлов: {n}", "kk": "{n} түйінде сақтаулы"},
    # keys & trust
    "my_ids": {"en": "My identities", "ru": "Мои ключи", "kk": "Менің кілттерім"},
    "no_ids": {"en": "none — create one with `jarshy keys new NAME`", "ru": "нет — создайте `jarshy keys new ИМЯ`", "kk": "жоқ — `jarshy keys new АТЫ`"},
    "unlocked": {"en": "unlocked", "ru": "открыт", "kk": "ашық"},
    "locked": {"en": "locked", "ru": "заперт", "kk": "құлыпта"},
    "roots": {"en": "Trusted roots (r removes the selected one)", "ru": "Доверенные ключи (r — удалить выбранный)", "kk": "Сенімді кілттер (r — таңдалғанды жою)"},
    "no_roots": {"en": "none yet: nothing can show as TRUSTED", "ru": "пока нет: ничто не будет ДОВЕРЕНО", "kk": "әзір жоқ: ештеңе СЕНІМДІ болмайды"},
    "share_placeholder": {"en": "paste a share string (jarshy:…)", "ru": "вставьте строку ключа (jarshy:…)", "kk": "кілт жолын қойыңыз (jarshy:…)"},
    "share_check": {
        "en": "{name} — fingerprint [b]{fp}[/b]. Compare it with its owner, in person or by voice, before trusting.",
        "ru": "{name} — отпечаток [b]{fp}[/b]. Сверьте его с владельцем лично или голосом, прежде чем доверять.",
        "kk": "{name} — саусақ ізі [b]{fp}[/b]. Сенуден бұрын иесімен жеке немесе дауыспен салыстырыңыз.",
    },
    "add_root": {"en": "Trust this key", "ru": "Доверять ключу", "kk": "Кілтке сену"},
    "added": {"en": "✔ now trusting {name}; {n} verdicts changed", "ru": "✔ теперь доверяем {name}; изменено вердиктов: {n}", "kk": "✔ енді {name} сенімді; {n} шешім өзгерді"},
    "removed": {"en": "✔ stopped trusting {name}; {n} verdicts changed", "ru": "✔ больше не доверяем {name}; изменено вердиктов: {n}", "kk": "✔ {name} енді сенімді емес; {n} шешім өзгерді"},
    "confirm_remove": {"en": "Stop trusting {name} ({fp})?", "ru": "Больше не доверять {name} ({fp})?", "kk": "{name} ({fp}) кілтіне сенуді тоқтату керек пе?"},
    "wipe": {"en": "Wipe", "ru": "Стереть", "kk": "Өшіру"},
    "confirm_wipe": {
        "en": "Wipe this node NOW? Every key, bulletin and setting in {home} is destroyed and the daemon stops. This cannot be undone.",
        "ru": "Стереть этот узел СЕЙЧАС? Все ключи, бюллетени и настройки в {home} будут уничтожены, демон остановится. Отменить нельзя.",
        "kk": "Бұл түйінді ҚАЗІР өшіру керек пе? {home} ішіндегі барлық кілт, бюллетень және баптау жойылады, демон тоқтайды. Қайтару мүмкін емес.",
    },
    "wiping": {"en": "Wiping…", "ru": "Стираем…", "kk": "Өшіріп жатырмыз…"},
    "wiped": {"en": "Jarshy: this node was wiped.", "ru": "Jarshy: узел стёрт.", "kk": "Jarshy: түйін өшірілді."},
    "wipe_failed": {"en": "Wipe failed: {why}", "ru": "Стереть не удалось: {why}", "kk": "Өшіру сәтсіз: {why}"},
    "daemon_left": {
        "en": "Jarshy: the daemon keeps running in the background and relaying ({socket}); stop it with `jarshy daemon stop`.",
        "ru": "Jarshy: демон продолжает работать в фоне и ретранслировать ({socket}); остановить: `jarshy daemon stop`.",
        "kk": "Jarshy: демон фонда жұмысын және таратуын жалғастырады ({socket}); тоқтату: `jarshy daemon stop`.",
    },
    # mesh
    "link": {"en": "Link", "ru": "Связь", "kk": "Байланыс"},
    "radio": {"en": "Radio", "ru": "Радио", "kk": "Радио"},
    "radio_line": {"en": "{name} · {model} · firmware {firmware} · role {role}", "ru": "{name} · {model} · прошивка {firmware} · роль {role}", "kk": "{name} · {model} · микробағдарлама {firmware} · рөлі {role}"},
    "region_line": {"en": "region {region} · preset {preset}", "ru": "регион {region} · пресет {preset}", "kk": "аймақ {region} · пресет {preset}"},
    "channel": {"en": "Channel utilisation {cu} % · my transmissions {tx} %", "ru": "Загрузка канала {cu} % · мои передачи {tx} %", "kk": "Арна жүктемесі {cu} % · менің таратуым {tx} %"},
    "airtime": {"en": "Airtime budget: {used} s used of {budget} s per {window} min", "ru": "Эфирное время: {used} с из {budget} с за {window} мин", "kk": "Эфир уақыты: {window} минутқа {budget} с ішінен {used} с"},
    "busy": {"en": "channel busy: sending is paused", "ru": "канал занят: отправка приостановлена", "kk": "арна бос емес: жіберу тоқтатылды"},
    "queue": {"en": "Queue: {depth} waiting", "ru": "Очередь: {depth}", "kk": "Кезек: {depth}"},
    "dropped": {"en": "dropped", "ru": "отброшено", "kk": "тасталды"},
    "nodes": {"en": "Nodes heard", "ru": "Слышимые узлы", "kk": "Естілген түйіндер"},
    "no_nodes": {"en": "none yet", "ru": "пока нет", "kk": "әзір жоқ"},
    "spam_brake": {
        "en": "spam brake: radio {node} sent forgeries; ignored until {until}",
        "ru": "защита от спама: радио {node} слало подделки; игнорируется до {until}",
        "kk": "спамнан қорғау: {node} радиосы жалған хабар жіберді; {until} дейін елемейміз",
    },
    "node_head": {"en": "name                 SNR dB  hops  last heard", "ru": "имя                  SNR дБ  прыжки  слышно", "kk": "аты                  SNR дБ  секіріс  естілді"},
}
# fmt: on


def t(key: str, ui: str, /, **values: object) -> str:
    """The message ``key`` in the UI language ``ui`` (English when missing)."""
    table = MESSAGES.get(key, {})
    text = table.get(ui) or table.get("en") or key
    return text.format(**values) if values else text


def help_text(ui: str) -> str:
    return HELP.get(ui) or HELP["en"]


def default_language() -> str:
    """From JARSHY_LANG, LC_ALL, LC_MESSAGES, LANG or the locale: ru, kk or en."""
    for wanted in (
        os.environ.get("JARSHY_LANG"),
        os.environ.get("LC_ALL"),
        os.environ.get("LC_MESSAGES"),
        os.environ.get("LANG"),
        locale.getlocale()[0],
    ):
        code = (wanted or "")[:2].lower()
        if code in LANGUAGES:
            return code
        if code and code not in ("c", "c.", "po"):
            return "en"
    return "en"
