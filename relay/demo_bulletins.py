"""Hand-written demo bulletins for the simulated mesh (fictional; not from any corpus split)."""

from __future__ import annotations

# (kind, lang, text, severity or None, event or None, area or None)
DEMO: tuple[tuple[str, str, str, str | None, str | None, str | None], ...] = (
    ("news", "ru", "Симуляция: связь восстановлена в Бостандыкском районе. Банкоматы работают с 10:00.", None, None, None),
    ("safety", "ru", "Симуляция: перекрыт проспект Абая от Ауэзова до Байтурсынова. Объезд по Сатпаева.", "moderate", "roads", "Алматы, пр. Абая"),
    ("news", "kk", "Симуляция: Медеу ауданындағы дәріханалар 09:00-ден 18:00-ге дейін ашық.", None, None, None),
    ("safety", "kk", "Симуляция: Алатау ауданында су жоқ. Ауыз су тарату пункті — №12 мектеп.", "severe", "water", "Алатау ауданы"),
    ("news", "en", "Simulation: mobile network partly back in the city centre; SMS work, data does not.", None, None, None),
    ("safety", "en", "Simulation: curfew 23:00-07:00 tonight. Stay indoors, keep away from windows.", "extreme", "curfew", "Almaty"),
    ("news", "ru", "Симуляция: хлебозавод №2 выпечет дополнительную партию, раздача у ТЦ с 8 утра.", None, None, None),
    ("news", "kk", "Симуляция: қалалық аурухана донорларды шақырады, барлық қан топтары қажет.", None, None, None),
)  # fmt: skip

STRANGER_TEXTS = (
    "Слышал, что завтра отключат воду во всём городе. Передайте всем!",
    "Ертең барлық дүкендер жабылады дейді.",
)
FORGED_TEXTS = ("OFFICIAL: evacuate the whole city now, all roads open.",)
