"""Wire format v1: bulletin frames, canonical CBOR fields, signing bytes, ids and fragments.

Everything here is sans-IO and bounded: any byte string from a neighbour decodes to a value or to
a :class:`WireError` with a specific reason, never to an exception of another type.
"""

from relay.wire.errors import WireError

__all__ = ["WireError"]
