"""Build the codec's dictionaries and PPM models: ``python -m relay.codec.build [--cv]``.

Reproducible: the only inputs are tests/data/corpus/train.jsonl (never the test split) and the
hand-written word lists in relay/codec/wordlists/. Writes relay/codec/dictionaries/*.txt and prints
their SHA-256 (pin them in docs/codec.md and tests/test_codec.py). ``--cv`` instead prints 5-fold
cross-validated medians (blob bytes / UTF-8 bytes) per language, building each fold on 80 %.
A shipped file must never change: a rebuild that changes one needs new codec ids.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from relay.codec._deflate import MAX_ZDICT, deflate
from relay.codec._ppm import PPMModel
from relay.codec._registry import FAMILIES, PPM_ORDER
from relay.codec._translit import kk_cyrillic_to_latin

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TRAIN = REPO / "tests" / "data" / "corpus" / "train.jsonl"
WORDLISTS = HERE / "wordlists"
OUT = HERE / "dictionaries"

DEFLATE_BUDGET_CHARS = 16000
_COMMON = ("places.txt", "numbers.txt")
WORDLIST_FILES: dict[str, tuple[str, ...]] = {
    "ru": ("ru.txt", *_COMMON),
    "kk": ("kk.txt", *_COMMON),
    "kk-latn": ("kk-latn.txt", *_COMMON),
    "en": ("en.txt", *_COMMON),
    "mixed": ("ru.txt", "kk.txt", *_COMMON),
}
KZ1048_FAMILIES = ("ru", "kk", "en", "mixed")  # deflate dictionaries that must encode in KZ-1048

Row = dict[str, str]


def load_rows(path: Path = TRAIN) -> list[Row]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_words(family: str) -> list[str]:
    words: list[str] = []
    for name in WORDLIST_FILES[family]:
        for line in (WORDLISTS / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and line.strip() not in words:
                words.append(line.strip())
    return words


def family_texts(family: str, rows: Sequence[Row]) -> list[str]:
    """Training documents for one family, in corpus order, one line each."""
    langs = {"mixed": ("ru", "kk", "mixed")}.get(family, (family,))
    texts = [r["text"] for r in rows if r["lang"] in langs]
    if family == "kk-latn":
        texts += [kk_cyrillic_to_latin(r["text"]) for r in rows if r["lang"] == "kk"]
    return [" ".join(t.split("\n")) for t in texts]


def ppm_training_text(family: str, rows: Sequence[Row]) -> str:
    return "\n".join([*load_words(family), *family_texts(family, rows)]) + "\n"


def _phrases(text: str, nmax: int = 4) -> set[str]:
    spans = [(m.start(), m.end()) for m in re.finditer(r"\w+[^\w\s]*", text)]
    out: set[str] = set()
    for i in range(len(spans)):
        for n in range(1, min(nmax, len(spans) - i) + 1):
            phrase = text[spans[i][0] : spans[i + n - 1][1]]
            out.update((phrase, f" {phrase} "))
    return out


def deflate_dictionary(family: str, rows: Sequence[Row]) -> str:
    """Phrases shared by several texts (most valuable last), after word lists and whole texts."""
    texts = family_texts(family, rows)
    if family in KZ1048_FAMILIES:
        texts = [t for t in texts if _encodes(t, "kz1048")]
    docfreq: Counter[str] = Counter()
    for t in texts:
        docfreq.update(_phrases(t))
    scored = sorted(((c - 1) * len(p), p) for p, c in docfreq.items() if c >= 2 and len(p) >= 3)
    picked: list[tuple[int, str]] = []
    size = 0
    for score, phrase in reversed(scored):
        if size >= DEFLATE_BUDGET_CHARS:
            break
        if any(phrase in p for _, p in picked):
            continue
        picked.append((score, phrase))
        size += len(phrase)
    picked.sort()
    core = "".join(p for _, p in picked)
    head: list[str] = []
    for word in load_words(family):
        if size + len(word) + 1 > DEFLATE_BUDGET_CHARS // 4 + len(core):
            break
        if word not in core and (family not in KZ1048_FAMILIES or _encodes(word, "kz1048")):
            head.append(word)
            size += len(word) + 1
    fill: list[str] = []
    for t in sorted(texts, key=len):
        if size + len(t) + 1 > DEFLATE_BUDGET_CHARS:
            break
        fill.append(t)
        size += len(t) + 1
    text = "\n".join([*fill, " ".join(head), core])
    while len(text.encode("utf-8")) > MAX_ZDICT:
        text = text[text.index("\n") + 1 :]
    return text


def _encodes(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def build_files(rows: Sequence[Row]) -> dict[str, str]:
    files: dict[str, str] = {}
    for fam in FAMILIES:
        files[f"deflate-{fam}.txt"] = deflate_dictionary(fam, rows)
        files[f"ppm-{fam}.txt"] = ppm_training_text(fam, rows)
    return files


def cross_validate(
    rows: Sequence[Row], folds: int = 5, seed: int = 1
) -> dict[str, dict[str, float]]:
    """Median blob/UTF-8 ratio per language for the best PPM, best deflate and overall choice."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    ratios: dict[str, dict[str, list[float]]] = {}
    for fold in range(folds):
        train = [r for i, r in enumerate(shuffled) if i % folds != fold]
        test = [r for i, r in enumerate(shuffled) if i % folds == fold]
        models = {f: PPMModel(ppm_training_text(f, train), PPM_ORDER) for f in FAMILIES}
        dicts = {f: deflate_dictionary(f, train) for f in FAMILIES}
        for r in test:
            text = r["text"]
            size = len(text.encode("utf-8"))
            stored = [size]
            if _encodes(text, "kz1048"):
                stored.append(len(text.encode("kz1048")))
            ppm = min(len(m.encode(text)) for m in models.values())
            defl = min(_deflate_sizes(text, dicts))
            row = {
                "kz1048_or_utf8": min(stored) + 1,
                "deflate_dict": defl + 1,
                "ppm": ppm + 1,
                "best": min(min(stored), defl, ppm) + 1,
            }
            per = ratios.setdefault(r["lang"], {})
            for k, v in row.items():
                per.setdefault(k, []).append(v / size)
    return {
        lang: {k: round(statistics.median(v), 3) for k, v in per.items()}
        for lang, per in sorted(ratios.items())
    }


def _deflate_sizes(text: str, dicts: dict[str, str]) -> list[int]:
    sizes = []
    for fam, d in dicts.items():
        for charset in ("kz1048", "utf-8") if fam in KZ1048_FAMILIES else ("utf-8",):
            if _encodes(text, charset):
                sizes.append(len(deflate(text.encode(charset), d.encode(charset))))
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relay.codec.build", description=__doc__)
    parser.add_argument("--cv", action="store_true", help="print cross-validated medians only")
    args = parser.parse_args(argv)
    rows = load_rows()
    if args.cv:
        json.dump(cross_validate(rows), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    OUT.mkdir(exist_ok=True)
    for name, text in sorted(build_files(rows).items()):
        data = text.encode("utf-8")
        (OUT / name).write_bytes(data)
        print(f"{hashlib.sha256(data).hexdigest()}  {name}  ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
