"""A trusted extreme alert during a key-material flood, end to end: radio -> daemon -> API.

A real daemon (subprocess) runs on an emulated radio; a visitor radio transmits self-announcements
of fresh keys with a rotating ``from`` (every packet a new radio, so no per-radio brake applies)
at ``--rate`` packets per second — many times what a LongFast channel can carry — and, halfway, a
newsroom's extreme safety alert. Figures, each against a baseline from the same run:
  * the alert's latency (transmitted -> ``trusted`` in the daemon's API) under the flood ÷ the same
    alert's latency with no flood, and ÷ one LongFast frame time (target ≤ 1);
  * the same for a first alert by a newly certified journalist, sent from a radio never heard
    before (no trusted history, no bulletin of that author held: only the node's trust state
    vouches for it);
  * the daemon's CPU seconds per flood packet ÷ one raw PyNaCl verify;
  * the flood's packet rate ÷ the channel's capacity for such packets.
Run ``python bench/trust_air.py [--json] [--count N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from meshtastic.protobuf import mesh_pb2  # noqa: E402

from bench.trust import (  # noqa: E402
    alert,
    announcement,
    certificate,
    identity,
    show,
    verify_seconds,
)
from relay.crypto.keys import encode_share  # noqa: E402
from relay.lora import packet_airtime  # noqa: E402
from relay.radio.emulator import EmulatedRadio  # noqa: E402
from relay.radio.medium import InProcessMedium  # noqa: E402
from relay.radio.state import RadioState  # noqa: E402
from relay.radio.transports import TcpTransport  # noqa: E402
from relay.wire import bulletin as wire  # noqa: E402
from tests.daemon.conftest import start_daemon  # noqa: E402

VISITOR = 0x0BADC0DE
NEWSROOM_RADIO = 0x00C0FFEE
FIELD_RADIO = 0x00FEED01  # a journalist's radio, never heard before the flood


def packet(sender: int, ident: int, payload: bytes) -> Any:
    out = mesh_pb2.MeshPacket()
    setattr(out, "from", sender)
    out.to = 0xFFFFFFFF
    out.id = ident
    out.hop_limit = out.hop_start = 3
    out.decoded.portnum = 256  # type: ignore[assignment]
    out.decoded.payload = payload
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(count: int, rate: float) -> dict[str, Any]:
    newsroom = identity("newsroom")
    medium = InProcessMedium(time_scale=math.inf, seed=3)
    ours = EmulatedRadio(RadioState.create(0x1001, region="KZ_433"), medium=medium, seed=1)
    visitor = EmulatedRadio(RadioState.create(VISITOR, region="KZ_433"), medium=medium, seed=2)
    station = EmulatedRadio(
        RadioState.create(NEWSROOM_RADIO, region="KZ_433"), medium=medium, seed=3
    )  # the newsroom's own radio: the flood fills the visitor's queue, not this one
    ours.start()
    visitor.start()
    station.start()
    transport = TcpTransport(ours, port=0).start()
    with tempfile.TemporaryDirectory() as tmp:
        daemon = start_daemon(Path(tmp) / "home", "--radio", f"tcp:127.0.0.1:{transport.port}")
        try:
            daemon.wait_for(lambda: daemon.call("status")["link"]["state"] == "up")  # type: ignore[index]
            daemon.call("trust.add", share=encode_share(newsroom.public_key, "Newsroom"))
            ident = [0x3000]

            def send(sender: int, raw: bytes) -> None:
                ident[0] += 1
                radio = station if sender in (NEWSROOM_RADIO, FIELD_RADIO) else visitor
                medium.transmit(radio, packet(sender, ident[0], raw))

            def latency(raw: bytes, sender: int = NEWSROOM_RADIO) -> float:
                bulletin_id = wire.parse(raw).id.hex()
                start = time.perf_counter()
                send(sender, raw)
                while time.perf_counter() - start < 120:
                    try:
                        got: Any = daemon.call("get", id=bulletin_id)
                        if got["bulletin"]["status"] == "trusted":
                            return time.perf_counter() - start
                    except Exception:
                        pass
                    time.sleep(0.05)
                return math.inf

            now = int(time.time())
            quiet = latency(alert(newsroom, "Quiet-time alert: leave the river bank", now))
            journalist = identity("field-journalist")
            latency(certificate(newsroom, journalist, certify=False, created=now))
            first_alert = math.inf
            flood = [announcement(identity(f"air-flood-{i}"), now) for i in range(count)]
            cpu_before = cpu_seconds(daemon.proc.pid)
            start = time.perf_counter()
            loud = math.inf
            for i, raw in enumerate(flood):
                send(0x10000000 + i, raw)  # a new radio every packet
                if i == count // 2:
                    urgent = alert(newsroom, "Dam breach: leave the river bank now", now)
                    loud = latency(urgent)
                if i == count * 3 // 4:
                    urgent = alert(journalist, "Bridge on Abai Ave is down, keep off", now)
                    first_alert = latency(urgent, FIELD_RADIO)
                delay = start + (i + 1) / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sent_for = time.perf_counter() - start
            time.sleep(2.0)  # let the daemon drain what it was sent
            cpu = cpu_seconds(daemon.proc.pid) - cpu_before
        finally:
            daemon.stop()
            transport.close()
            ours.stop()
            visitor.stop()
            station.stop()
            medium.close()
    frame = packet_airtime(231, "LONG_FAST")
    per_packet = packet_airtime(len(flood[0]), "LONG_FAST")
    return {
        "flood_packets": count,
        "flood_rate_per_s": round(count / sent_for, 1),
        "flood_over_channel_capacity": round(count / sent_for * per_packet, 1),
        "alert_quiet_s": round(quiet, 3),
        "alert_under_flood_s": round(loud, 3),
        "alert_flood_over_quiet": round(loud / quiet, 2),
        "alert_under_flood_over_frame": round(loud / frame, 3),
        "first_alert_new_radio_s": round(first_alert, 3),
        "first_alert_new_radio_over_frame": round(first_alert / frame, 3),
        "daemon_cpu_per_flood_packet_ms": round(cpu / count * 1000, 2),
        "daemon_cpu_per_packet_over_verify": round(cpu / count / verify_seconds(), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25.0)
    args = parser.parse_args()
    show(run(args.count, args.rate), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
