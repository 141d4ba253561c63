"""Fill a daemon's store with many signed bulletins through a bundle, as a USB stick would."""

from __future__ import annotations

from tests.conftest import make_identity
from tests.daemon.conftest import DaemonProcess
from tests.helpers import news


def import_bulk(daemon: DaemonProcess, count: int) -> None:
    from relay.bundle import write_bundle

    author = make_identity("bulk")
    raws = [news(author, f"bulletin {i}", created=1_767_225_600 + i).raw for i in range(count)]
    path = daemon.home / "bulk.jarshy"
    path.write_bytes(write_bundle(raws, [author.public_key]))
    result = daemon.call("import", path=str(path))
    assert result["accepted"] == count, result  # type: ignore[index]
