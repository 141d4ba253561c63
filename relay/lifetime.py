"""When a bulletin stops being current, decided so that wrong clocks lose nothing.

Clocks are unreliable when the internet is down.  A bulletin's life is measured from its
*effective start*: the local receive time, but never earlier than the author's ``created``, never
later than ``created + MAX_SKEW``, and never later than ``FUTURE_TOLERANCE`` after the receive
time.  So an author whose clock is days behind still gets the full lifetime on every receiver, a
replay of an old alert that arrives weeks later is already expired on arrival, and an alert dated
decades ahead (a wrong or hostile clock) lives its lifetime from at most a week after it arrived,
not until its date.  Expired bulletins are kept (shown as expired, never relayed) until
``RETENTION`` after expiry; their ids are remembered for good so that replays are never new.
"""

from __future__ import annotations

MAX_SKEW = 7 * 24 * 3600.0
FUTURE_TOLERANCE = 7 * 24 * 3600.0  # how far ahead of the receiver's clock a date is believed
RETENTION = 30 * 24 * 3600.0


def effective_start(created: int, received_at: float) -> float:
    """Start of a bulletin's life on this node (see module docstring)."""
    start = min(max(received_at, float(created)), created + MAX_SKEW)
    return min(start, received_at + FUTURE_TOLERANCE)


def expires_at(created: int, lifetime: int | None, received_at: float) -> float | None:
    """Local time at which the bulletin expires, or None if it never does."""
    if lifetime is None:
        return None
    return effective_start(created, received_at) + lifetime


def is_expired(expiry: float | None, now: float) -> bool:
    """True once ``now`` has reached ``expiry`` (never for bulletins without a lifetime)."""
    return expiry is not None and now >= expiry
