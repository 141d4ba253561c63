"""UI benchmark: start-up to the first painted feed, and the cost of one new bulletin at scale.

Figures, each against a baseline from the same run:
  * start-up to first painted feed (headless) ÷ the 1 s target;
  * time to apply one new bulletin and repaint with 10 000 bulletins in the feed ÷ the same with 100
    (target ≤ 2: the feed is virtualised and kept in order incrementally).
``python bench/tui.py [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui.app import JarshyApp  # noqa: E402
from tui.state import FeedModel  # noqa: E402


def bulletin(i: int) -> dict[str, Any]:
    kind = "safety" if i % 50 == 0 else "news"
    return {
        "id": f"{i:016x}", "kind": kind, "status": "trusted" if i % 3 else "unknown_key",
        "severity": "severe" if kind == "safety" else None,
        "text": f"Бюллетень номер {i}: вода будет завтра.",
        "lang": "ru", "signer_name": "Newsroom", "claimed_name": None, "author": "ab" * 8,
        "created": 1_767_225_600 + i, "received_at": 1_767_225_600.0 + i, "expired": False,
    }  # fmt: skip


def model(n: int) -> FeedModel:
    feed = FeedModel()
    for i in range(n):
        feed.upsert(bulletin(i))
    return feed


async def startup_seconds() -> float:
    start = time.perf_counter()
    app = JarshyApp(None, model=model(100), lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        return time.perf_counter() - start


async def apply_one(n: int, repeats: int = 30) -> float:
    app = JarshyApp(None, model=model(n), lang="en")
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for k in range(repeats):
            start = time.perf_counter()
            app.handle_event({"event": "bulletin", "data": bulletin(n + k + 1)})
            await pilot.pause()
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def figures() -> dict[str, Any]:
    startup = min(asyncio.run(startup_seconds()) for _ in range(3))
    small = asyncio.run(apply_one(100))
    large = asyncio.run(apply_one(10_000))
    return {
        "startup_s": round(startup, 3),
        "startup_vs_target_1s": round(startup / 1.0, 3),
        "apply_one_ms_100": round(small * 1000, 2),
        "apply_one_ms_10000": round(large * 1000, 2),
        "apply_one_ratio_10000_vs_100": round(large / small, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = figures()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
