"""Values the radio link hands out: addresses, link states, send results and radio status.

Plain frozen dataclasses and enums, free of threads and of the meshtastic library, so the daemon,
the local API and tests can use them without touching a radio.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from relay.radio.framing import FRAME_MAX

DEFAULT_TCP_PORT = 4403
MAX_PAYLOAD = FRAME_MAX  # a Jarshy frame: 231 bytes (the firmware's limit) less the 2-byte magic
MAX_HOP_LIMIT = 7
PRIVATE_PORTS = range(256, 512)
JARSHY_CHANNEL = "Jarshy"  # the channel the link sends on and listens to, found by name


class LinkState(enum.Enum):
    """Where the link to the radio stands."""

    CONNECTING = "connecting"  # opening the port or waiting for the config handshake
    UP = "up"  # handshake complete; packets flow
    DOWN = "down"  # no radio; retrying with back-off unless closed
    DISPLACED = "displaced"  # the radio dropped us for another TCP client; waiting, then retrying


class LinkDown(ConnectionError):
    """The radio is not connected (unplugged, rebooting or closed)."""


@dataclass(frozen=True, slots=True)
class RadioAddress:
    """Where the radio is: ``serial:/dev/ttyUSB0``, ``serial:auto`` or ``tcp:HOST[:PORT]``."""

    kind: Literal["serial", "tcp"]
    path: str | None = None  # serial device; None means auto-detect
    host: str | None = None
    port: int = DEFAULT_TCP_PORT

    def __str__(self) -> str:
        if self.kind == "serial":
            return f"serial:{self.path or 'auto'}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp:{host}:{self.port}"


def parse_address(text: str) -> RadioAddress:
    """Parse and validate a radio address; raises ValueError with a one-line reason.

    Validation happens here because bad arguments make the meshtastic library call sys.exit.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(
            f"radio address {text!r} must look like serial:/dev/ttyUSB0, serial:auto "
            "or tcp:HOST[:PORT]"
        )
    scheme, _, rest = text.partition(":")
    scheme = scheme.lower()
    if scheme == "serial":
        if rest == "auto":
            return RadioAddress("serial")
        if not rest.startswith("/") and not (len(rest) > 3 and rest[:3].upper() == "COM"):
            raise ValueError(f"serial device {rest!r} must be an absolute path (or 'auto')")
        return RadioAddress("serial", path=rest)
    if scheme == "tcp":
        host, port = rest, DEFAULT_TCP_PORT
        if rest.startswith("["):  # [IPv6]:port
            close = rest.find("]")
            if close < 0:
                raise ValueError(f"unterminated IPv6 address in {text!r}")
            host, tail = rest[1:close], rest[close + 1 :]
            if tail:
                if not tail.startswith(":"):
                    raise ValueError(f"bad text after IPv6 address in {text!r}")
                port = _port(tail[1:], text)
        elif rest.count(":") == 1:
            host, _, port_text = rest.partition(":")
            port = _port(port_text, text)
        if not host or any(c.isspace() for c in host):
            raise ValueError(f"TCP address {text!r} needs a host name or IP address")
        return RadioAddress("tcp", host=host, port=port)
    raise ValueError(f"unknown radio address scheme {scheme!r} (use serial: or tcp:)")


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"TCP port in {whole!r} must be a number from 1 to 65535")
    return int(text)


class SendStatus(enum.Enum):
    """What the radio said about one packet."""

    QUEUED = "queued"  # accepted into the radio's TX queue ("sent to radio", not "delivered")
    REJECTED = "rejected"  # NAKed by the firmware (TOO_LARGE, DUTY_CYCLE_LIMIT, ...)
    QUEUE_FULL = "queue_full"  # the radio's TX queue is full: back off and retry
    UNCONFIRMED = "unconfirmed"  # no queue status in time (old firmware or a slow link)


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of :meth:`RadioLink.send`."""

    status: SendStatus
    packet_id: int = 0
    error: str | None = None  # routing error name when rejected, e.g. "TOO_LARGE"
    queue_free: int | None = None
    queue_max: int | None = None

    @property
    def ok(self) -> bool:
        """True when the radio took the packet."""
        return self.status is SendStatus.QUEUED


@dataclass(frozen=True, slots=True)
class NodeHeard:
    """A node the radio has heard, directly or over hops."""

    num: int
    snr: float | None = None
    hops: int | None = None
    last_heard: float | None = None  # unix seconds
    long_name: str | None = None


@dataclass(frozen=True, slots=True)
class RadioInfo:
    """Status of the connected radio, for the status API."""

    node_num: int
    long_name: str | None = None
    short_name: str | None = None
    hw_model: str | None = None
    firmware_version: str | None = None
    region: str | None = None
    modem_preset: str | None = None
    role: str | None = None
    hop_limit: int | None = None
    channel_utilization: float | None = None  # percent busy, last minute
    air_util_tx: float | None = None  # percent transmitting, last hour
    queue_free: int | None = None
    queue_max: int | None = None
    nodes: tuple[NodeHeard, ...] = field(default_factory=tuple)
    channel_index: int | None = None  # the channel Jarshy sends on and listens to
    channel_name: str | None = None  # its name ("Jarshy"; else the primary's, see channel_found)
    channel_found: bool = False  # False: no channel named "Jarshy", the primary is used


@dataclass(frozen=True, slots=True)
class PacketAcked:
    """What the radio said later about a broadcast sent with ``want_ack``.

    ``heard``: a neighbour's radio was heard relaying it (the firmware's implicit ACK,
    ReliableRouter::shouldFilterReceived). Not heard: the firmware gave up after its
    retransmissions (``MAX_RETRANSMIT``) or refused it later; ``error`` names the reason.
    ``payload`` is the Jarshy frame as it was given to :meth:`RadioLink.send`.
    """

    packet_id: int
    payload: bytes
    heard: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TextHeard:
    """A plain text (TEXT_MESSAGE_APP) or alert (ALERT_APP) another radio broadcast on the
    primary channel: unauthenticated, for the mirror's suppression only."""

    sender: int
    text: str
    alert: bool
    hops: int | None = None


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """How the link has fared, for ``jarshy status`` (monotonic seconds, counts since start)."""

    state: LinkState
    since: float | None  # when the link entered ``state``
    reason: str | None  # why it is not up: "displaced", "silent", "lost", "connect failed: ..."
    retry_in: float | None  # seconds until the next connection attempt, when waiting
    connects: int  # interfaces built (1 + reconnects)
    displaced: int  # times the radio dropped us for another TCP client
    silent: int  # times the watchdog found the radio silent and rebuilt the link
    not_jarshy: int  # payloads on our port without Jarshy's magic (other applications)
    other_channel: int  # packets on our port but another channel index

    def summary(self) -> str:
        """One line for ``jarshy status``: "up", or why not and when it tries again."""
        if self.state is LinkState.UP:
            text = "up"
        else:
            text = f"{self.state.value}: {self.reason}" if self.reason else self.state.value
            if self.retry_in is not None:
                text += f"; retrying in {self.retry_in:.0f} s"
        troubles = [
            f"{n} {what}"
            for n, what in (
                (self.displaced, "times displaced by another TCP client"),
                (self.silent, "times silent (link rebuilt)"),
            )
            if n
        ]
        return "; ".join([text, *troubles])

    def as_dict(self) -> dict[str, object]:
        """For the status API (``since`` is monotonic: shown as seconds ago by the caller)."""
        return {
            "state": self.state.value, "reason": self.reason, "retry_in": self.retry_in,
            "connects": self.connects, "displaced": self.displaced, "silent": self.silent,
            "not_jarshy": self.not_jarshy, "other_channel": self.other_channel,
        }  # fmt: skip
