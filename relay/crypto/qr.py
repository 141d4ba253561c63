"""Terminal QR codes for share strings (segno, pure Python), kept apart so keys.py stays light."""

from __future__ import annotations

import io

import segno


def qr_text(share: str) -> str:
    """``share`` as a QR code drawn with half-block characters (two modules per character row).

    The text is upper-cased first: share strings are case-insensitive, and upper case lets the QR
    code use its alphanumeric mode, which makes it noticeably smaller. Error correction level M
    survives a smudged or creased screen. Drawn for a dark terminal (the light modules are the
    blocks), with a quiet zone of two modules.
    """
    code = segno.make_qr(share.strip().upper(), error="m", boost_error=False)
    out = io.StringIO()
    code.terminal(out=out, compact=True, border=2)
    return out.getvalue()
