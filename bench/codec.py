"""Text codec benchmark over the test split: median blob bytes / UTF-8 bytes per language.

Compares Jarshy's codec (smallest of all codec ids, codec byte included) with our
deflate+dictionary codecs alone (ids < 16), plain raw deflate (no dictionary), brotli quality 11
and KZ-1048 stored; UTF-8 is the baseline (1.0). Also reports which codec ids won and the worst
decode time. Run ``python bench/codec.py [--json]``; other
benchmarks import ``codec_figures()``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import brotli  # noqa: E402

from relay.codec import codec_ids, codec_name, decode_text, encode_as, encode_text  # noqa: E402

TEST_SPLIT = ROOT / "tests" / "data" / "corpus" / "test.jsonl"
SCHEMES = ("jarshy", "jarshy_deflate_only", "raw_deflate", "brotli_q11", "kz1048_stored")


def _raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def _kz1048_or_utf8(text: str) -> bytes:
    try:
        return text.encode("kz1048")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def codec_figures(path: Path = TEST_SPLIT) -> dict[str, Any]:
    """Per language: count, median UTF-8 bytes, median ratio per scheme, winning codec ids."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    per_lang: dict[str, dict[str, list[float]]] = {}
    winners: dict[str, Counter[str]] = {}
    sizes: dict[str, list[int]] = {}
    worst_decode_ms = 0.0
    for row in rows:
        text, lang = row["text"], row["lang"]
        utf8 = text.encode("utf-8")
        blob = encode_text(text, lang)
        start = time.perf_counter()
        assert decode_text(blob) == text
        worst_decode_ms = max(worst_decode_ms, (time.perf_counter() - start) * 1000)
        lengths = {
            "jarshy": len(blob),
            "jarshy_deflate_only": min(
                len(b) for c in codec_ids() if c < 16 and (b := encode_as(c, text)) is not None
            ),
            "raw_deflate": len(_raw_deflate(utf8)),
            "brotli_q11": len(brotli.compress(utf8, quality=11)),
            "kz1048_stored": len(_kz1048_or_utf8(text)),
        }
        ratios = per_lang.setdefault(lang, {s: [] for s in SCHEMES})
        for scheme, n in lengths.items():
            ratios[scheme].append(n / len(utf8))
        winners.setdefault(lang, Counter())[codec_name(blob[0])] += 1
        sizes.setdefault(lang, []).append(len(utf8))
    languages = {
        lang: {
            "texts": len(sizes[lang]),
            "median_utf8_bytes": statistics.median(sizes[lang]),
            "median_ratio": {s: round(statistics.median(v), 3) for s, v in ratios.items()},
            "codecs_chosen": dict(winners[lang].most_common()),
        }
        for lang, ratios in sorted(per_lang.items())
    }
    return {
        "corpus": str(path.relative_to(ROOT)),
        "baseline": "utf8 = 1.0",
        "languages": languages,
        "worst_decode_ms": round(worst_decode_ms, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = codec_figures()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    print(f"median blob bytes / UTF-8 bytes on {figures['corpus']} (UTF-8 = 1.00)")
    print(f"{'lang':8} {'n':>3} {'utf8 B':>6} " + " ".join(f"{s[:14]:>14}" for s in SCHEMES))
    for lang, fig in figures["languages"].items():
        cells = " ".join(f"{fig['median_ratio'][s]:>14.3f}" for s in SCHEMES)
        print(f"{lang:8} {fig['texts']:>3} {fig['median_utf8_bytes']:>6} {cells}")
    print(f"worst decode time: {figures['worst_decode_ms']} ms")
    for lang, fig in figures["languages"].items():
        print(f"codecs chosen, {lang}: {fig['codecs_chosen']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
