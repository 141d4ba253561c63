"""What a node refused, so that the same bulletin or the same junk is not judged twice.

The bulletin id leaves out the signature: a refusal is remembered by id only when the signature was
checked against the author's known key (every copy with that id has the same signed bytes); a
forged or unverified copy is remembered by a hash of all its bytes, and an unverified one is judged
again once the node holds something new (``epoch``: trust may have changed).
"""

from __future__ import annotations

from collections import OrderedDict

from relay.sync.frames import PREFIX_LEN

MAX_REFUSED = 4096  # ids refused after a verified judgement
MAX_JUDGED_COPIES = 4096  # forged or unverified copies, by a hash of all their bytes


class Refusals:
    """Refused ids (with their prefixes) and judged junk copies; both bounded, oldest out."""

    def __init__(self) -> None:
        self.ids: OrderedDict[bytes, None] = OrderedDict()
        self.prefixes: set[bytes] = set()
        self.copies: OrderedDict[bytes, tuple[bool, int]] = OrderedDict()  # (forged, epoch)
        self.epoch = 0

    def __contains__(self, ident: bytes) -> bool:
        return ident in self.ids

    def refuse(self, ident: bytes) -> None:
        self.ids[ident] = None
        self.prefixes.add(ident[:PREFIX_LEN])
        while len(self.ids) > MAX_REFUSED:
            gone, _ = self.ids.popitem(last=False)
            self.prefixes.discard(gone[:PREFIX_LEN])

    def held(self, ident: bytes) -> None:
        """The node now holds ``ident``: lift its refusal; trust may have changed."""
        self.epoch += 1
        if self.ids.pop(ident, 0) is None:
            self.prefixes.discard(ident[:PREFIX_LEN])

    def junk(self, copy: bytes, forged: bool) -> None:
        """Remember a copy judged forged or malformed (``forged``) or unverified."""
        self.copies[copy] = (forged, self.epoch)
        while len(self.copies) > MAX_JUDGED_COPIES:
            self.copies.popitem(last=False)

    def junk_again(self, copy: bytes) -> bool | None:
        """Forged (True) or unverified (False) junk judged before and not worth judging again;
        None when the copy should be judged."""
        seen = self.copies.get(copy)
        if seen is None or not (seen[0] or seen[1] == self.epoch):
            return None
        self.copies.move_to_end(copy)
        return seen[0]
