"""Bundle import reads only regular files, under a hard byte limit (threat model, attack 6).

Real files, a real FIFO, /dev/zero, a sparse file over the limit, a file that grows past the
limit after ``stat``, a truncated bundle: each gets a clear error, nothing is stored, nothing hangs.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relay import bundle
from relay.bundle import BundleError, iter_bundle, load_bundle, read_bundle, write_bundle
from relay.crypto.keys import generate_identity
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60  # seconds; a hang fails the test instead of the suite


def good_bundle() -> tuple[bytes, bytes]:
    author = generate_identity("Stick")
    news = wire.sign(Content(Kind.NEWS, author.key_id, 1_800_000_000, "С флешки.", "ru"), author)
    return write_bundle([news.raw], [author.public_key]), news.raw


def test_round_trip_and_streaming_reads_one_record_at_a_time() -> None:
    data, raw = good_bundle()
    assert [kind for kind, _ in read_bundle(data)] == [bundle.RECORD_KEY, bundle.RECORD_BULLETIN]

    class Counting(io.BytesIO):
        biggest = 0

        def read(self, n: int | None = -1) -> bytes:
            assert n is not None and n >= 0, "never read to the end"
            Counting.biggest = max(Counting.biggest, n)
            return super().read(n)

    assert list(iter_bundle(Counting(data)))[-1] == (bundle.RECORD_BULLETIN, raw)
    assert Counting.biggest <= 3 + wire.MAX_BULLETIN


def test_limit_counts_bytes_read_not_what_stat_said() -> None:
    data, _ = good_bundle()
    assert len(list(iter_bundle(io.BytesIO(data), limit=len(data)))) == 2  # exactly at the limit
    with pytest.raises(BundleError, match=f"more than the {len(data) - 1} bytes allowed"):
        list(iter_bundle(io.BytesIO(data), limit=len(data) - 1))
    endless = io.BytesIO(bundle.MAGIC + (b"\x02\x00\x20" + b"k" * 32) * 100_000)
    with pytest.raises(BundleError) as too_large:
        list(iter_bundle(endless, limit=4096))
    assert too_large.value.code == "too-large" and endless.tell() <= 4096 + 1


@pytest.mark.parametrize(
    ("cut", "message"), [(5, "damaged record"), (1, "damaged record"), (0, None)]
)
def test_truncated_bundles(cut: int, message: str | None) -> None:
    data, _ = good_bundle()
    damaged = data[: len(data) - cut] if cut else data[:-1][: len(bundle.MAGIC) + 2]
    with pytest.raises(BundleError, match=message or "inside a record header"):
        list(read_bundle(damaged))


def test_load_refuses_special_files_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a blocking open would hang forever
    with pytest.raises(BundleError, match="not a regular file \\(a FIFO\\)"):
        load_bundle(fifo)
    with pytest.raises(BundleError, match="not a regular file \\(a character device\\)"):
        load_bundle("/dev/zero")
    with pytest.raises(BundleError, match="is a directory"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="no such file"):
        load_bundle(tmp_path / "absent")
    link = tmp_path / "link"
    link.symlink_to("/dev/zero")  # a regular-looking name: the type comes from the open fd
    with pytest.raises(BundleError, match="character device"):
        load_bundle(link)


def test_load_refuses_a_sparse_file_over_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.jarshy"
    with open(big, "wb") as f:
        f.write(bundle.MAGIC)
        f.truncate(bundle.MAX_BUNDLE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(BundleError, match=f"more than the {bundle.MAX_BUNDLE_BYTES} allowed"):
        load_bundle(big)


def cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JARSHY_HOME=str(home), JARSHY_KDF="fast", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", *argv], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip


def test_cli_import_refuses_and_stores_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data, _ = good_bundle()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    truncated = tmp_path / "cut.jarshy"
    truncated.write_bytes(data[:-5])  # the key record survives, the bulletin is cut short
    big = tmp_path / "big.jarshy"
    with open(big, "wb") as f:
        f.write(data)
        f.truncate(bundle.MAX_BUNDLE_BYTES + 1)
    cases = [
        ("/dev/zero", "not a regular file (a character device)"),
        (str(fifo), "not a regular file (a FIFO)"),
        (str(big), f"more than the {bundle.MAX_BUNDLE_BYTES} allowed"),
        (str(truncated), "damaged record"),
        (str(tmp_path), "is a directory"),
    ]
    for path, message in cases:
        result = cli(home, "import", path)
        assert result.returncode == 2 and message in result.stderr, (path, result.stderr)
        assert "Traceback" not in result.stderr
    good = tmp_path / "good.jarshy"
    good.write_bytes(data)
    result = cli(home, "import", str(good))
    assert result.returncode == 0 and "accepted 1," in result.stdout  # nothing came before


def test_cli_import_streams_under_the_limit(
    jarshy_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relay.cli import main

    data, _ = good_bundle()
    good = tmp_path / "good.jarshy"
    good.write_bytes(data)
    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", len(data) - 1)
    assert main(["import", str(good)]) == 2
    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", len(data))
    assert main(["import", str(good)]) == 0
