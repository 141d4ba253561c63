"""Static PPM character model with a 32-bit binary arithmetic coder.

The model is fully determined by a UTF-8 training text (one document per line) and the maximum
context order: it counts, for every context of 0..ORDER preceding characters, how often each
character (or the end-of-text symbol) followed it. Coding is PPM with escapes (PPMC escape counts:
one per distinct symbol) and full exclusion; the model never adapts while coding, so the decoder's
work per character is bounded and the wire format is frozen with the training text.
See docs/codec.md ("PPM codecs") for the exact rules an independent implementation must follow.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

EOS = -1  # end-of-text symbol; sorts before every code point
FREQ_LIMIT = 0xFFFF  # max total (symbol counts + escape count) of one context
HIST_START = "\n"  # every text is coded as if preceded by one newline

_TOP = (1 << 32) - 1
_HALF = 1 << 31
_QUARTER = 1 << 30
_HI_TOTAL = 545  # order -1, step 1: 0 = EOS, 1 + (cp >> 11) otherwise
_LO_TOTAL = 2048  # order -1, step 2: cp & 0x7FF


class PPMError(ValueError):
    """Malformed arithmetic-coded payload (mapped to CodecError by the caller)."""


@dataclass(frozen=True, slots=True)
class _Context:
    syms: tuple[int, ...]  # sorted ascending (EOS first)
    cum: tuple[int, ...]  # cum[i] = sum of freqs of syms[:i]; len = len(syms) + 1
    esc: int  # escape count = number of distinct symbols


class PPMModel:
    """Context counts built from a training text; immutable after construction."""

    def __init__(self, training_text: str, order: int) -> None:
        self.order = order
        counts: dict[str, dict[int, int]] = {}
        for line in training_text.split("\n"):
            if not line:
                continue
            for ctx, sym in _contexts_and_symbols(line, order):
                table = counts.setdefault(ctx, {})
                table[sym] = table.get(sym, 0) + 1
        self._contexts: dict[str, _Context] = {
            ctx: _make_context(table) for ctx, table in counts.items()
        }

    def encode(self, text: str) -> bytes:
        enc = _Encoder()
        hist = HIST_START + text
        for i, sym in enumerate([*map(ord, text), EOS]):
            self._encode_symbol(enc, hist, i + 1, sym)
        return enc.finish()

    def decode(self, data: bytes, max_bytes: int) -> str:
        dec = _Decoder(data)
        out: list[str] = []
        hist = HIST_START
        size = 0
        while True:
            sym = self._decode_symbol(dec, hist, len(hist))
            if sym == EOS:
                break
            if 0xD800 <= sym <= 0xDFFF:
                raise PPMError("surrogate code point")
            ch = chr(sym)
            size += 1 if sym < 0x80 else 2 if sym < 0x800 else 3 if sym < 0x10000 else 4
            if size > max_bytes:
                raise PPMError(f"text longer than {max_bytes} bytes")
            out.append(ch)
            hist = hist[-self.order :] + ch if self.order else ""
            dec.check_overrun()
        dec.check_overrun()
        return "".join(out)

    def _encode_symbol(self, enc: _Encoder, hist: str, end: int, sym: int) -> None:
        excluded: set[int] = set()
        for k in range(min(self.order, end), -1, -1):
            ctx = self._contexts.get(hist[end - k : end])
            if ctx is None:
                continue
            lo, hi, total, found = _interval(ctx, sym, excluded)
            if total == 0:
                continue  # every symbol already excluded: nothing is coded here
            enc.encode(lo, hi, total)
            if found:
                return
            excluded.update(ctx.syms)
        if sym == EOS:
            enc.encode(0, 1, _HI_TOTAL)
        else:
            high = 1 + (sym >> 11)
            enc.encode(high, high + 1, _HI_TOTAL)
            enc.encode(sym & 0x7FF, (sym & 0x7FF) + 1, _LO_TOTAL)

    def _decode_symbol(self, dec: _Decoder, hist: str, end: int) -> int:
        excluded: set[int] = set()
        for k in range(min(self.order, end), -1, -1):
            ctx = self._contexts.get(hist[end - k : end])
            if ctx is None:
                continue
            if not excluded:
                total = ctx.cum[-1] + ctx.esc
                target = dec.target(total)
                i = bisect_right(ctx.cum, target) - 1
                if i < len(ctx.syms):
                    dec.consume(ctx.cum[i], ctx.cum[i + 1], total)
                    return ctx.syms[i]
                dec.consume(ctx.cum[-1], total, total)
            else:
                items = [
                    (s, ctx.cum[j + 1] - ctx.cum[j])
                    for j, s in enumerate(ctx.syms)
                    if s not in excluded
                ]
                if not items:
                    continue
                sym_total = sum(f for _, f in items)
                total = sym_total + ctx.esc
                target = dec.target(total)
                if target < sym_total:
                    lo = 0
                    for s, f in items:
                        if target < lo + f:
                            dec.consume(lo, lo + f, total)
                            return s
                        lo += f
                dec.consume(sym_total, total, total)
            excluded.update(ctx.syms)
        high = dec.target(_HI_TOTAL)
        dec.consume(high, high + 1, _HI_TOTAL)
        if high == 0:
            return EOS
        low = dec.target(_LO_TOTAL)
        dec.consume(low, low + 1, _LO_TOTAL)
        return ((high - 1) << 11) | low


def _contexts_and_symbols(text: str, order: int) -> Iterable[tuple[str, int]]:
    hist = HIST_START + text
    for i, sym in enumerate([*map(ord, text), EOS]):
        end = i + 1
        for k in range(min(order, end) + 1):
            yield hist[end - k : end], sym


def _make_context(table: dict[int, int]) -> _Context:
    syms = tuple(sorted(table))
    freqs = [table[s] for s in syms]
    while sum(freqs) + len(syms) > FREQ_LIMIT:
        freqs = [(f + 1) // 2 for f in freqs]
    cum = [0]
    for f in freqs:
        cum.append(cum[-1] + f)
    return _Context(syms, tuple(cum), len(syms))


def _interval(ctx: _Context, sym: int, excluded: set[int]) -> tuple[int, int, int, bool]:
    """(low, high, total, found) for sym in ctx, or for the escape when not found."""
    if not excluded:
        total = ctx.cum[-1] + ctx.esc
        i = bisect_right(ctx.syms, sym) - 1
        if i >= 0 and ctx.syms[i] == sym:
            return ctx.cum[i], ctx.cum[i + 1], total, True
        return ctx.cum[-1], total, total, False
    lo = 0
    found_lo = found_hi = -1
    for j, s in enumerate(ctx.syms):
        if s in excluded:
            continue
        f = ctx.cum[j + 1] - ctx.cum[j]
        if s == sym:
            found_lo, found_hi = lo, lo + f
        lo += f
    if lo == 0:
        return 0, 0, 0, False
    total = lo + ctx.esc
    if found_lo >= 0:
        return found_lo, found_hi, total, True
    return lo, total, total, False


class _Encoder:
    def __init__(self) -> None:
        self.low = 0
        self.high = _TOP
        self.pending = 0
        self.bits: list[int] = []

    def _emit(self, bit: int) -> None:
        self.bits.append(bit)
        if self.pending:
            self.bits.extend([bit ^ 1] * self.pending)
            self.pending = 0

    def encode(self, lo: int, hi: int, total: int) -> None:
        span = self.high - self.low + 1
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                self._emit(0)
            elif self.low >= _HALF:
                self._emit(1)
                self.low -= _HALF
                self.high -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.pending += 1
                self.low -= _QUARTER
                self.high -= _QUARTER
            else:
                break
            self.low <<= 1
            self.high = (self.high << 1) | 1

    def finish(self) -> bytes:
        # Shortest value in [low, high] when followed by zero bits (what the decoder reads).
        for shift in range(32, -1, -1):
            unit = 1 << shift
            value = -(-self.low // unit) * unit
            if value <= self.high:
                break
        self._emit(value >> 31)
        tail = value & (_HALF - 1)
        nbits = 31
        while tail and not tail & 1:
            tail >>= 1
            nbits -= 1
        if tail:
            self.bits.extend((tail >> (nbits - 1 - j)) & 1 for j in range(nbits))
        while self.bits and self.bits[-1] == 0:
            self.bits.pop()
        out = bytearray((len(self.bits) + 7) // 8)
        for j, bit in enumerate(self.bits):
            if bit:
                out[j >> 3] |= 0x80 >> (j & 7)
        return bytes(out)


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.nbits = len(data) * 8
        self.pos = 0
        self.low = 0
        self.high = _TOP
        self.value = 0
        for _ in range(32):
            self.value = (self.value << 1) | self._bit()

    def _bit(self) -> int:
        pos = self.pos
        self.pos = pos + 1
        if pos >= self.nbits:
            return 0
        return (self.data[pos >> 3] >> (7 - (pos & 7))) & 1

    def check_overrun(self) -> None:
        # A canonical stream never needs more than 32 zero bits past its end; bound garbage early.
        if self.pos > self.nbits + 64:
            raise PPMError("truncated")

    def target(self, total: int) -> int:
        span = self.high - self.low + 1
        t = ((self.value - self.low + 1) * total - 1) // span
        if not 0 <= t < total:
            raise PPMError("corrupt arithmetic code")
        return t

    def consume(self, lo: int, hi: int, total: int) -> None:
        span = self.high - self.low + 1
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                pass
            elif self.low >= _HALF:
                self.value -= _HALF
                self.low -= _HALF
                self.high -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.value -= _QUARTER
                self.low -= _QUARTER
                self.high -= _QUARTER
            else:
                break
            self.low <<= 1
            self.high = (self.high << 1) | 1
            self.value = (self.value << 1) | self._bit()
