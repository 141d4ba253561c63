"""Text codec benchmark over the test split: median blob bytes / UTF-8 bytes per language.

Compares Jarshy's codec (smallest of all codec ids, codec byte included) with our
deflate+dictionary codecs alone (ids < 16), plain raw deflate (no dictionary), brotli quality 11
and KZ-1048 stored; UTF-8 is the baseline (1.0). Also reports which codec ids won, the worst
decode time, and decode/encode speed per language (median and p95 µs, warm model caches) as ratios
against baselines measured in the same run: one raw PyNaCl Ed25519 verify, and zlib raw inflate of
the same text's UTF-8. Run ``python bench/codec.py [--json]``; other benchmarks import
``codec_figures()``.
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
import nacl.signing  # noqa: E402

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


def _best_us(fn: Any, arg: Any, reps: int = 5, inner: int = 1) -> float:
    """Fastest of reps timings of inner calls, in µs per call (machine noise only adds time)."""
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn(arg)
        best = min(best, (time.perf_counter() - start) / inner)
    return best * 1e6


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def speed_figures(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Decode/encode µs per language, and decode as a ratio of raw verify and of zlib inflate."""
    key = nacl.signing.SigningKey(bytes(range(32)))
    signed = key.sign(bytes(range(200)))
    verify_us = _best_us(key.verify_key.verify, signed, reps=7, inner=200)
    per_lang: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        text, lang = row["text"], row["lang"]
        blob = encode_text(text, lang)
        decode_text(blob)  # warm the model's lazily built coding tables, as in a running daemon
        raw = _raw_deflate(text.encode("utf-8"))
        cell = per_lang.setdefault(lang, {"decode": [], "encode": [], "inflate": []})
        cell["decode"].append(_best_us(decode_text, blob))
        cell["encode"].append(_best_us(lambda t, hint=lang: encode_text(t, hint), text, reps=3))
        cell["inflate"].append(_best_us(lambda r: zlib.decompressobj(-15).decompress(r), raw))
    every = {k: [v for cell in per_lang.values() for v in cell[k]] for k in ("decode", "encode")}
    inflate_median = statistics.median(v for c in per_lang.values() for v in c["inflate"])
    decode_median = statistics.median(every["decode"])
    return {
        "raw_pynacl_verify_us": round(verify_us, 1),
        "zlib_inflate_median_us": round(inflate_median, 2),
        "decode_median_us": round(decode_median, 1),
        "decode_p95_us": round(_p95(every["decode"]), 1),
        "encode_text_median_us": round(statistics.median(every["encode"]), 1),
        "encode_text_p95_us": round(_p95(every["encode"]), 1),
        "decode_vs_raw_verify": round(decode_median / verify_us, 3),
        "decode_vs_zlib_inflate": round(decode_median / inflate_median, 1),
        "languages": {
            lang: {
                f"{k}_{stat}_us": round(f(cell[k]), 1)
                for k in ("decode", "encode")
                for stat, f in (("median", statistics.median), ("p95", _p95))
            }
            for lang, cell in sorted(per_lang.items())
        },
    }


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
        "speed": speed_figures(rows),
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
    print(f"worst decode time: {figures['worst_decode_ms']} ms (first use of each model included)")
    sp = figures["speed"]
    print(
        f"decode median {sp['decode_median_us']} µs, p95 {sp['decode_p95_us']} µs (warm); "
        f"= {sp['decode_vs_raw_verify']} × raw PyNaCl verify ({sp['raw_pynacl_verify_us']} µs), "
        f"{sp['decode_vs_zlib_inflate']} × zlib inflate ({sp['zlib_inflate_median_us']} µs)"
    )
    print(f"encode_text median {sp['encode_text_median_us']} µs, p95 {sp['encode_text_p95_us']} µs")
    for lang, fig in sp["languages"].items():
        cells = ", ".join(f"{k} {v}" for k, v in fig.items())
        print(f"speed µs, {lang}: {cells}")
    for lang, fig in figures["languages"].items():
        print(f"codecs chosen, {lang}: {fig['codecs_chosen']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
