"""Panic wipe benchmark: time to wipe a Jarshy home holding a 10 000-bulletin store.

Figure, against the 2 s target: seconds for ``relay.wipe.wipe_home`` (overwrite with zeros,
fsync, truncate, unlink every file: keys, the SQLite store with its WAL, a log, a config) ÷ 2 s.
The home is built fresh in a temporary directory (on the same filesystem as ``--dir``).
``python bench/wipe.py [--bulletins N] [--dir DIR] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from relay.crypto.keystore import KDF_PRESETS, Keystore  # noqa: E402
from relay.ingest import Ingest  # noqa: E402
from relay.store import Store  # noqa: E402
from relay.wipe import wipe_home  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from relay.wire.fields import Content, Kind  # noqa: E402

TARGET_S = 2.0
TEXTS = (
    "Комендантский час с 23:00 до 07:00. Не выходите из дома без необходимости, номер {i}.",
    "Су ертең сағат 10:00-де беріледі, {i}-ші бюллетень. Көрші үйлерге хабарлаңыз.",
    "Bulletin {i}: the pharmacy on Abay Avenue is open until 18:00; bring your documents.",
)


def build_home(home: Path, count: int) -> int:
    """A home with one identity, ``count`` of its bulletins stored, a log and a config."""
    keystore = Keystore(home / "keys", kdf=KDF_PRESETS["fast"])
    identity = keystore.create("Bench Newsroom", "bench passphrase")
    store = Store(home / "jarshy.sqlite3")
    ingest = Ingest(store)
    now = time.time()
    ingest.add_root(identity.public_key, identity.name, now)
    with store.batch():
        for i in range(count):
            lang, text = ("ru", "kk", "en")[i % 3], TEXTS[i % 3].format(i=i)
            content = Content(
                kind=Kind.NEWS, author=identity.key_id, created=int(now) - i, lang=lang, text=text
            )
            ingest.ingest(wire.sign(content, identity).raw, now, "local")
    store.close()
    (home / "daemon.log").write_bytes(b"a log line\n" * 10_000)
    (home / "config.toml").write_text('radio = "serial:auto"\n')
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file())


def figures(count: int = 10_000, where: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        home = Path(tmp) / "home"
        size = build_home(home, count)
        report = wipe_home(home)
        assert not home.exists() and not report.failed
    return {
        "bulletins": count,
        "home_bytes": size,
        "files": report.files,
        "wipe_s": round(report.seconds, 3),
        "target_s": TARGET_S,
        "wipe_over_target": round(report.seconds / TARGET_S, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulletins", type=int, default=10_000)
    parser.add_argument("--dir", help="build the home under this directory (its filesystem)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = figures(args.bulletins, args.dir)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"wipe of a home with {result['bulletins']} bulletins "
            f"({result['home_bytes'] / 1e6:.1f} MB, {result['files']} files): "
            f"{result['wipe_s']:.3f} s = {result['wipe_over_target']:.3f} × "
            f"the {TARGET_S:g} s target"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
