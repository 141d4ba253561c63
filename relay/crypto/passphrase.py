"""How weak a new signing key's passphrase is: the reason to refuse it, or None.

A key file taken at a checkpoint can be attacked offline, as fast as Argon2id allows; only the
passphrase stands between it and a forger. This refuses the *very* weak ones, the guesses an
attacker tries first, and says why in the user's terms:

* fewer than :data:`MIN_LENGTH` characters;
* few different characters (``aaaaaaaaaa``, ``abababab12``), or a short unit repeated;
* only digits (dates, phone numbers) shorter than :data:`DIGITS_OK`;
* a run along the alphabet, the digits or a keyboard row (``abcdefghij``, ``1234567890``,
  ``qwertyuiop``, ``йцукенгшщз``), forwards or backwards;
* a very common password (``password1!``, ``пароль1234``, ``iloveyou``...) once digits and
  punctuation around it are set aside, or repeated;
* the key's own name, with little else.

It is not a strength meter: a long passphrase of unrelated words passes, and so does anything that
is none of the above. Pure: no I/O.
"""

from __future__ import annotations

import unicodedata

MIN_LENGTH = 10
MIN_DISTINCT = 5  # different characters at least
DIGITS_OK = 16  # an all-digit passphrase this long or longer is let through
MIN_OWN = 6  # characters besides the key's name

_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "абвгдежзийклмнопрстуфхцчшщъыьэюя",  # as typed: without ё
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "1qaz2wsx3edc4rfv5tgb",
    "qazwsxedcrfvtgb",
)
_COMMON = frozenset(
    [
        "password",
        "passw0rd",
        "p@ssword",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "asdfgh",
        "asdfghjkl",
        "zxcvbnm",
        "iloveyou",
        "letmein",
        "welcome",
        "admin",
        "administrator",
        "monkey",
        "dragon",
        "master",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "superman",
        "batman",
        "trustno1",
        "shadow",
        "michael",
        "jennifer",
        "starwars",
        "whatever",
        "freedom",
        "secret",
        "changeme",
        "default",
        "login",
        "abc123",
        "qwerty123",
        "password123",
        "passphrase",
        "mypassword",
        "пароль",
        "парольпароль",
        "йцукен",
        "йцукенгшщз",
        "любовь",
        "привет",
        "qwertyqwerty",
        "құпиясөз",
        "құпия",
        "сөз",
        "кілт",
        "jarshy",
        "jarshyjarshy",
        "newsroom",
    ]
)
_SEPARATORS = " -_.,;:!?@#$%^&*()[]{}<>/\\|'\"`~+=№"


def weakness(passphrase: str, name: str = "") -> str | None:
    """Why ``passphrase`` is too weak for the signing key named ``name``; None if it is not."""
    text = unicodedata.normalize("NFC", passphrase).strip()
    folded = text.casefold()
    length = len(text)
    if length < MIN_LENGTH:
        return f"it is {length} character{'s' if length != 1 else ''} long"
    distinct = len(set(folded))
    if distinct < MIN_DISTINCT:
        return f"it uses only {distinct} different character{'s' if distinct != 1 else ''}"
    core = _core(folded)
    digits = _squeeze(folded)
    if digits.isdigit() and len(digits) < DIGITS_OK:
        return "it is only digits, like a date or a phone number"
    if _is_run(core):
        return "it is a run of letters, digits or keys in a row"
    if core in _COMMON or _repeats_common(core):
        return "it is one of the most common passwords"
    unit = _repeated_unit(core)
    if unit is not None and len(unit) <= 5:
        return "it is a short piece repeated"
    own = _without_name(folded, name)
    if own is not None and len(own) < MIN_OWN:
        return "it is the key's own name"
    return None


def advice(reason: str) -> str:
    """The one-line refusal: what is wrong, what to do, how to keep it anyway."""
    return (
        f"refusing a weak passphrase: {reason}. A signing key's file can be guessed at offline "
        f"if the device is taken: use at least {MIN_LENGTH} characters, best three or four "
        "unrelated words (e.g. 'river lamp Ğalym 1987 tea'). To keep this one anyway, add "
        "--force-weak-passphrase"
    )


def _core(folded: str) -> str:
    """``folded`` without separators, and without digits at either end (``password123!``)."""
    squeezed = _squeeze(folded)
    inner = squeezed.strip("0123456789")
    return inner if len(inner) >= 4 else squeezed


def _squeeze(text: str) -> str:
    """``text`` without spaces and punctuation."""
    return "".join(c for c in text if c not in _SEPARATORS and not c.isspace())


def _is_run(core: str) -> bool:
    if len(core) < 4:
        return False
    return any(core in run or core in run[::-1] for run in _RUNS)


def _repeated_unit(core: str) -> str | None:
    """The shortest unit ``core`` is a repetition of (at least twice), or None."""
    size = len(core)
    for width in range(1, size // 2 + 1):
        if size % width == 0 and core[:width] * (size // width) == core:
            return core[:width]
    return None


def _repeats_common(core: str) -> bool:
    unit = _repeated_unit(core)
    return unit is not None and (unit in _COMMON or _is_run(unit))


def _without_name(folded: str, name: str) -> str | None:
    """What is left of the passphrase besides the key's name (and its words); None if the name
    does not occur in it."""
    name_folded = unicodedata.normalize("NFC", name).casefold().strip()
    if len(name_folded) < 3:
        return None
    pieces = [name_folded, *(word for word in name_folded.split() if len(word) >= 3)]
    squeezed = _squeeze(folded)
    found = False
    for piece in sorted({_squeeze(p) for p in pieces}, key=len, reverse=True):
        if piece and piece in squeezed:
            squeezed = squeezed.replace(piece, "")
            found = True
    if not found:
        return None
    return squeezed.strip("0123456789")
