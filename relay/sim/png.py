"""PNG encoding of an RGBA pixel buffer as 8-bit RGB, one IDAT chunk (zlib and struct only).

The figures themselves are drawn by matplotlib (relay.sim.plot); this writer keeps their files
plain RGB without an alpha channel the figure never uses.
"""

from __future__ import annotations

import struct
import zlib


def encode_rgb(width: int, height: int, rgba: bytes) -> bytes:
    """Encode ``width`` x ``height`` RGBA pixels (row-major, top row first) as an RGB PNG."""
    if len(rgba) != 4 * width * height:
        raise ValueError(f"{len(rgba)} bytes is not {width}x{height} RGBA pixels")
    stride = 4 * width
    rows = []
    for y in range(height):
        row = bytearray(3 * width)
        line = rgba[y * stride : (y + 1) * stride]
        row[0::3], row[1::3], row[2::3] = line[0::4], line[1::4], line[2::4]
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + chunk(b"IEND", b"")
    )
