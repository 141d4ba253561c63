"""Wire-format benchmark over the corpus test split: bytes on air, fit, and throughput.

Every figure is a ratio against a baseline measured in the same run:
  * signed on-air bytes ÷ the unsigned UTF-8 text (what a plain Meshtastic text message sends);
  * signed on-air bytes ÷ a real packed LXMF message of the same text (needs the `bench` extra);
  * text codec vs UTF-8, raw deflate and brotli (from bench/codec.py);
  * share of bulletins that fit one 231-byte packet, by length band;
  * sign / verify / ingest rates ÷ raw PyNaCl verify rate on this machine (the relay path's
    ingest and raw verify measured in three turns, the best of each: other load on a shared
    machine slows one measurement more than another);
  * the ingest pipeline stage by stage (µs per bulletin, and ÷ one raw PyNaCl verify): header
    and field map, signature, text decoding, trust verdict, store put; plus ingest rates for
    duplicates and forgeries (rejected before their text is decoded);
  * the relay path (admission never decodes a text, docs/protocol.md §4) against its target of
    0.5× raw verify, batched; and the first page of a 10 000-bulletin store whose texts were never
    decoded, read as the API reads it, against the 1 s first-paint target.
Run ``python bench/wire.py [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import nacl.signing  # noqa: E402

from relay.crypto.keys import Identity  # noqa: E402
from relay.ingest import Ingest  # noqa: E402
from relay.store import Store  # noqa: E402
from relay.trust import Status, TrustState, Verdict, evaluate  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from relay.wire.fields import Content, Kind, SafetyInfo  # noqa: E402
from relay.wire.fragments import split  # noqa: E402

TEST_SPLIT = ROOT / "tests" / "data" / "corpus" / "test.jsonl"
CREATED = 1_767_225_600
BANDS = ((0, 80), (81, 160), (161, 280), (281, 10_000))
ROUNDS = 3  # the relay path and raw verify are measured in turns; the best of each is kept


def load(path: Path = TEST_SPLIT) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def content_for(item: dict[str, str], author: bytes, index: int) -> Content:
    """A bulletin of the item's kind as a journalist would send it."""
    lang = {"kk-latn": "kk-Latn"}.get(item["lang"], item["lang"])
    created = CREATED + index
    if item["kind"] == "safety":
        info = SafetyInfo("other", "safety", "severe", "immediate", "observed")
        return Content(Kind.SAFETY, author, created, item["text"], lang, 6 * 3600, safety=info)
    if item["kind"] == "correction":
        return Content(Kind.CORRECTION, author, created, item["text"], lang, ref=bytes(8))
    return Content(Kind.NEWS, author, created, item["text"], lang)


def lxmf_sizes(texts: list[str]) -> list[int] | None:
    """Packed size of a real LXMF message per text, or None without the bench extra."""
    try:
        import LXMF
        import RNS
    except ImportError:
        return None
    RNS.loglevel = RNS.LOG_CRITICAL
    source = RNS.Destination(
        RNS.Identity(), RNS.Destination.OUT, RNS.Destination.SINGLE, "lxmf", "delivery"
    )
    target = RNS.Destination(
        RNS.Identity(), RNS.Destination.OUT, RNS.Destination.SINGLE, "lxmf", "delivery"
    )
    sizes = []
    for text in texts:
        message = LXMF.LXMessage(
            target, source, text, "", desired_method=LXMF.LXMessage.OPPORTUNISTIC
        )
        message.pack()
        sizes.append(len(message.packed))
    return sizes


@contextmanager
def codec_tables(limit: int) -> Iterator[None]:
    """Built PPM states kept per model while building fixtures (thousands of signed bulletins
    are not a measured figure); the measured compose rate runs at the default bound."""
    from relay.codec._ppm import PPMModel

    saved = PPMModel.max_states
    PPMModel.max_states = limit
    try:
        yield
    finally:
        PPMModel.max_states = saved


def rate(function: Any, items: list[Any], minimum: float = 0.5) -> float:
    """Calls per second of ``function`` over ``items`` (repeated until ``minimum`` seconds)."""
    count, start = 0, time.perf_counter()
    while True:
        for item in items:
            function(item)
        count += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= minimum:
            return count / elapsed


def figures() -> dict[str, Any]:
    from relay.codec._ppm import MAX_STATES

    with codec_tables(1 << 20):
        return _figures(MAX_STATES)


def _figures(bounded_states: int) -> dict[str, Any]:
    items = load()
    author = Identity("bench", bytes(range(32)))
    signed = [
        wire.sign(content_for(item, author.key_id, i), author) for i, item in enumerate(items)
    ]
    on_air = [sum(len(p) for p in split(b.raw)) for b in signed]
    utf8 = [len(item["text"].encode()) for item in items]
    lxmf = lxmf_sizes([item["text"] for item in items])

    by_lang: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for i, item in enumerate(items):
        group = by_lang[item["lang"]]
        group["vs_utf8"].append(on_air[i] / utf8[i])
        if lxmf is not None:
            group["vs_lxmf"].append(on_air[i] / lxmf[i])
    languages = {
        lang: {name: round(statistics.median(values), 3) for name, values in group.items()}
        for lang, group in sorted(by_lang.items())
    }
    overall = {
        "vs_utf8": round(statistics.median(a / u for a, u in zip(on_air, utf8, strict=True)), 3)
    }
    if lxmf is not None:
        overall["vs_lxmf"] = round(
            statistics.median(a / x for a, x in zip(on_air, lxmf, strict=True)), 3
        )

    fit: dict[str, dict[str, float]] = {}
    for low, high in BANDS:
        chosen = [
            len(split(b.raw)) == 1
            for b, it in zip(signed, items, strict=True)
            if low <= len(it["text"]) <= high
        ]
        if chosen:
            fit[f"{low}-{high}"] = {
                "bulletins": len(chosen),
                "fits_one_packet": round(sum(chosen) / len(chosen), 3),
            }
    cumulative = {}
    for limit in (160, 280):
        chosen = [
            len(split(b.raw)) == 1
            for b, it in zip(signed, items, strict=True)
            if len(it["text"]) <= limit
        ]
        cumulative[f"up_to_{limit}"] = round(sum(chosen) / len(chosen), 3)

    raw_key = nacl.signing.SigningKey(bytes(range(32)))
    verify_key = raw_key.verify_key
    raw_signed = [raw_key.sign(b.signed_bytes) for b in signed]
    raw_verify = rate(lambda s: verify_key.verify(s), raw_signed)
    raw_sign = rate(lambda b: raw_key.sign(b.signed_bytes), signed)
    contents = [content_for(item, author.key_id, i) for i, item in enumerate(items)]
    with codec_tables(bounded_states):  # compose as a node does, its tables bounded
        sign_rate = rate(lambda c: wire.sign(c, author), contents)
    verify_rate = rate(lambda b: wire.verify(wire.decode(b.raw), author.public_key), signed)
    ingest_durable, ingest_batched = 0.0, 0.0
    for _ in range(ROUNDS):  # ingest and raw verify in turns, the best of each (other load)
        durable, batched = ingest_rates(author, contents)
        ingest_durable, ingest_batched = max(ingest_durable, durable), max(ingest_batched, batched)
        raw_verify = max(raw_verify, rate(lambda s: verify_key.verify(s), raw_signed))
    first_page = feed_first_page(author, contents)
    duplicate, forged = reject_rates(author, contents)
    rates = {
        "raw_pynacl_verify_per_s": round(raw_verify),
        "raw_pynacl_sign_per_s": round(raw_sign),
        "sign_per_s": round(sign_rate),
        "decode_and_verify_per_s": round(verify_rate),
        "ingest_durable_per_s": round(ingest_durable),
        "ingest_batched_per_s": round(ingest_batched),
        "sign_vs_raw_verify": round(sign_rate / raw_verify, 3),
        "decode_and_verify_vs_raw_verify": round(verify_rate / raw_verify, 3),
        "ingest_durable_vs_raw_verify": round(ingest_durable / raw_verify, 3),
        "ingest_batched_vs_raw_verify": round(ingest_batched / raw_verify, 3),
        "relay_path_target_vs_raw_verify": 0.5,
        "ingest_duplicate_per_s": round(duplicate),
        "ingest_forged_per_s": round(forged),
        "ingest_duplicate_vs_raw_verify": round(duplicate / raw_verify, 3),
        "ingest_forged_vs_raw_verify": round(forged / raw_verify, 3),
    }
    raw_verify_us = 1e6 / raw_verify
    stages = {
        name: {"us": round(us, 1), "vs_raw_verify": round(us / raw_verify_us, 3)}
        for name, us in stage_times(author, contents).items()
    }
    result: dict[str, Any] = {
        "bulletins": len(items),
        "median_on_air_bytes_ratio": {"overall": overall, **languages},
        "lxmf_available": lxmf is not None,
        "fits_one_packet_by_length": fit,
        "fits_one_packet_cumulative": cumulative,
        "rates": rates,
        "raw_pynacl_verify_us": round(raw_verify_us, 1),
        "ingest_stages": stages,
        "feed_first_page": first_page,
    }
    try:
        from codec import codec_figures

        result["codec"] = codec_figures()
    except ImportError:
        pass
    return result


def ingest_rates(author: Identity, contents: list[Content]) -> tuple[float, float]:
    """Bulletins/s through parse→verify→trust→store: one commit each ("durable" in the figures'
    names: each is committed, though not flushed, as relayed bulletins are not acknowledged:
    relay.store), and one commit per batch."""
    results = []
    for batched in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            node = Ingest(Store(Path(tmp) / "bench.sqlite3"))
            node.add_root(author.public_key, "bench", 0.0)
            fresh = [wire.sign(c, author).raw for c in _shifted(contents, 10_000)]
            start = time.perf_counter()
            if batched:
                with node.store.batch():
                    for raw in fresh:
                        node.ingest(raw, 1.0, "bench")
            else:
                for raw in fresh:
                    node.ingest(raw, 1.0, "bench")
            results.append(len(fresh) / (time.perf_counter() - start))
            node.store.close()
    return results[0], results[1]


def feed_first_page(
    author: Identity, contents: list[Content], size: int = 10_000
) -> dict[str, Any]:
    """Seconds to read the first page (500, the UI's page) of a store of ``size`` bulletins that
    arrived by the relay path (texts never decoded), texts included, ÷ the 1 s first-paint target;
    and the same page once its texts were read (the background pass's work done)."""
    from relay.store import Query

    page = 500
    fresh = [wire.sign(c, author).raw for c in _shifted(contents, 60_000)]
    while len(fresh) < size:
        fresh += [wire.sign(c, author).raw for c in _shifted(contents, 60_000 + len(fresh))]
    fresh = fresh[:size]
    with tempfile.TemporaryDirectory() as tmp:
        node = Ingest(Store(Path(tmp) / "feed.sqlite3"))
        node.add_root(author.public_key, "bench", 0.0)
        with node.store.batch():
            for i, raw in enumerate(fresh):
                node.ingest(raw, 1.0 + i, "bench")
        node.store.close()
        from relay.read_text import read_text

        read_text.cache_clear()  # a daemon that just started: nothing read yet
        store = Store(Path(tmp) / "feed.sqlite3")
        start = time.perf_counter()
        rows = store.query(Query(limit=page))
        texts = [row.text for row in rows]
        cold = time.perf_counter() - start
        store.read_texts(page)
        read_text.cache_clear()
        start = time.perf_counter()
        rows = store.query(Query(limit=page))
        texts = [row.text for row in rows]
        warm = time.perf_counter() - start
        store.close()
    assert len(texts) == page
    return {
        "bulletins": size,
        "page": page,
        "first_page_unread_s": round(cold, 4),
        "first_page_unread_vs_1s_target": round(cold / 1.0, 4),
        "first_page_read_s": round(warm, 4),
        "unread_vs_read": round(cold / warm, 2),
    }


def stage_times(author: Identity, contents: list[Content]) -> dict[str, float]:
    """µs per bulletin of each ingest stage, each timed alone over the whole (varied) list."""
    raws = [wire.sign(c, author).raw for c in _shifted(contents, 20_000)]
    envelopes = [wire.parse(raw) for raw in raws]
    bulletins = [wire.open_text(e) for e in envelopes]
    state = TrustState()
    state.add_root(author.key_id, author.public_key, "bench")
    times = {
        "header_and_fields": 1e6 / rate(wire.parse, raws),
        "verify": 1e6 / rate(lambda e: wire.verify(e, author.public_key), envelopes),
        "text_decode": 1e6 / rate(wire.open_text, envelopes),
        "trust": 1e6 / rate(lambda b: evaluate(state, b, True, 1.0), bulletins),
    }
    verdict = Verdict(Status.TRUSTED, "signed by a trusted root")
    best = float("inf")
    for attempt in range(3):  # fresh ids each time: a put of a known id is a no-op
        fresh = [wire.sign(c, author) for c in _shifted(contents, 30_000 + attempt)]
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "bench.sqlite3")
            with store.batch():
                start = time.perf_counter()
                for bulletin in fresh:
                    store.put(bulletin, verdict, 1.0, None, "bench")
                best = min(best, (time.perf_counter() - start) / len(fresh))
            store.close()
    times["store_put_batched"] = best * 1e6
    return times


def reject_rates(author: Identity, contents: list[Content]) -> tuple[float, float]:
    """Bulletins/s through ingest for copies of stored bulletins, and for forgeries.

    The forgeries name the author (a trusted root) and are signed by another key: the most
    expensive rejection, as the author's key is known and the signature is checked.
    """
    forger = Identity("forger", bytes(range(1, 33)))
    with tempfile.TemporaryDirectory() as tmp:
        node = Ingest(Store(Path(tmp) / "bench.sqlite3"))
        node.add_root(author.public_key, "bench", 0.0)
        held = [wire.sign(c, author).raw for c in _shifted(contents, 40_000)]
        with node.store.batch():
            for raw in held:
                node.ingest(raw, 1.0, "bench")
        forged = []
        for content in _shifted(contents, 50_000):
            unsigned = wire.encode_unsigned(content)
            forged.append(unsigned + forger.sign(wire.SIGNING_DOMAIN + unsigned))
        duplicate = rate(lambda raw: node.ingest(raw, 1.0, "bench"), held)
        forgery = rate(lambda raw: node.ingest(raw, 1.0, "bench"), forged)
        node.store.close()
    return duplicate, forgery


def _shifted(contents: list[Content], offset: int) -> list[Content]:
    from dataclasses import replace

    return [replace(c, created=c.created + offset * (1 + i)) for i, c in enumerate(contents * 3)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = figures()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{result['bulletins']} test-split bulletins")
    print("median signed on-air bytes ÷ unsigned UTF-8 text  (÷ packed LXMF message)")
    for lang, values in result["median_on_air_bytes_ratio"].items():
        lx = f"   ÷ LXMF {values['vs_lxmf']:.3f}" if "vs_lxmf" in values else ""
        print(f"  {lang:<8} {values['vs_utf8']:.3f}{lx}")
    print("fits one packet, by text length in characters")
    for band, values in result["fits_one_packet_by_length"].items():
        print(f"  {band:<10} {values['fits_one_packet']:.3f} of {values['bulletins']}")
    for name, value in result["fits_one_packet_cumulative"].items():
        print(f"  {name:<10} {value:.3f}")
    print("rates (÷ raw PyNaCl verify in this run)")
    for name, value in result["rates"].items():
        print(f"  {name:<34} {value}")
    raw_us = result["raw_pynacl_verify_us"]
    print(f"ingest stages, µs per bulletin, and ÷ one raw PyNaCl verify ({raw_us} µs)")
    for name, values in result["ingest_stages"].items():
        print(f"  {name:<34} {values['us']:>7.1f}  {values['vs_raw_verify']:.3f}")
    feed = result["feed_first_page"]
    print(
        f"first page ({feed['page']}) of {feed['bulletins']} bulletins never decoded: "
        f"{feed['first_page_unread_s']:.3f} s = {feed['first_page_unread_vs_1s_target']:.3f}× the "
        f"1 s target ({feed['unread_vs_read']:.2f}× the same page already read)"
    )
    if "codec" in result:
        print("codec figures: see `python bench/codec.py`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
