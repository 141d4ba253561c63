"""Reading a stored bulletin's text: decoded once when first read, and remembered.

Admission never decodes a text (docs/protocol.md §4, "When the text is checked"); readers (the
API, the CLI, search) come here. A blob that does not decode gives "" and the reason.
"""

from __future__ import annotations

from functools import lru_cache

from relay.wire import bulletin as wire
from relay.wire.errors import WireError

CACHED_TEXTS = 4096  # recently read texts kept in memory (about 4 MB at most)


@lru_cache(maxsize=CACHED_TEXTS)
def read_text(raw: bytes) -> tuple[str, str | None]:
    """(text, None), or ("", "bad-text: why") for a bulletin whose text blob does not decode."""
    try:
        return wire.decode(raw).content.text, None
    except WireError as exc:
        return "", str(exc)
