"""The one exception type every wire decoder raises for bad remote input."""

from __future__ import annotations


class WireError(ValueError):
    """Malformed, oversized, non-canonical or otherwise unacceptable bytes.

    ``code`` is a stable machine-readable reason (e.g. ``"truncated"``, ``"bad-signature"``);
    the message is for humans. The decoders' codes, by the rule of docs/protocol.md they enforce:

    * frame (sections 1-2): ``truncated``, ``too-large``, ``unknown-version``, ``unknown-kind``,
      ``not-a-bulletin``;
    * canonical CBOR (section 3): ``non-canonical``, ``duplicate-key``, ``bad-type``,
      ``too-deep``, ``trailing-bytes``, ``bad-utf8``, ``unknown-field``;
    * field values (section 3): ``bad-field``; a name (key 12) breaking the label rules:
      ``bad-name``; rules per kind: ``bad-fields``;
    * the text blob (section 4): ``bad-text``;
    * one fragment packet (section 5): ``bad-fragment`` (and ``truncated``, ``too-large``).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"
