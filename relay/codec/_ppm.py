"""Static PPM character model with an exact big-integer rANS coder.

The model is fully determined by a UTF-8 training text (one document per line) and the maximum
context order: it counts, for every context of 0..ORDER preceding characters, how often each
character (or the end-of-text symbol) followed it. Coding is PPM with escapes (escape count from
the number of distinct and of once-seen symbols) and full exclusion; the model never adapts while
coding, so the decoder's work per character is bounded and the wire format is frozen with the
training text.

The entropy coder is range ANS (rANS) on one unbounded Python integer: no renormalisation, no
precision loss, and -- with the one structural check that the order -1 step never codes a symbol
some table of the walk holds -- a bijection between payloads and texts (so the decoder needs no
re-encode to prove a payload canonical). See docs/codec.md ("PPM") for the exact rules an
independent implementation must follow.

Speed comes from caching, never from changing what is coded: because every symbol seen after a
context is also seen after each of its suffixes, the exclusion set at order k is exactly the symbol
set of the order-(k+1) context. So the sequence of coding tables for a given history (its "chain")
is a pure function of the last ORDER characters and is built once, on first use, and reused.

The decoder's common step (the symbol is in the table of the longest context: no escape) is
shaped for CPython: each state keeps for its own table a slot -> symbol lookup (two bytes per unit
of the table's total) and one record per symbol holding the state that follows it, so the step is
one divmod, one lookup and one multiply-add on the state, with no dictionary lookup.
tests/test_ppm_decoder.py checks the decoder against a literal transcription of docs/codec.md.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import accumulate
from typing import Any

EOS = ""  # end-of-text symbol; sorts before every character (code point order)
FREQ_LIMIT = 0xFFFF  # max total (symbol counts + escape count) of one context
HIST_START = "\n"  # every text is coded as if preceded by one newline
STATE_START = 1  # rANS state before the encoder's first step / after the decoder's last

NON_CANONICAL_ESCAPE = "non-canonical payload (escape to order -1 for a modelled symbol)"
_HI_TOTAL = 545  # order -1, step 1: 0 = EOS, 1 + (cp >> 11) otherwise
_LO_TOTAL = 2048  # order -1, step 2: cp & 0x7FF
_LUT_MAX_TOTAL = 1024  # tables up to this total get a direct slot -> symbol lookup
_BYTES = [bytes([i]) for i in range(256)]
_SPARE_TRANSITIONS = 1 << 16  # cached state transitions never seen in training, per model
MAX_STATES = 1024  # built states kept per model; past this every built table is dropped (memory)
# Upper bound on the bits one coding step can add to the state: x' < 2 * x * total.
_STEP_BITS = 17  # 1 + bit_length(FREQ_LIMIT)
_ORDER_MINUS_1_BITS = (1 + _HI_TOTAL.bit_length()) + (1 + _LO_TOTAL.bit_length())


_SHARED: dict[int | str, Any] = {}  # bounded: ints <= FREQ_LIMIT and the models' symbols


def _share(value: Any) -> Any:
    """One object per distinct int or symbol across every model's decoder views."""
    return _SHARED.setdefault(value, value)


class PPMError(ValueError):
    """Malformed arithmetic-coded payload (mapped to CodecError by the caller)."""


class _Node:
    """One coding table: a context's symbols that survive exclusion, plus its escape.

    Compact, as thousands are built: symbols as shared strings, frequencies and cumulative
    frequencies as 16-bit arrays (every total is at most FREQ_LIMIT); a symbol's start is its
    end less its frequency, and the encoder finds a symbol by bisection (symbols ascend)."""

    __slots__ = ("chars", "ends", "esc", "freqs", "sym_total", "total", "view")

    def __init__(self, chars: list[str], freqs: list[int], esc: int) -> None:
        self.chars = tuple(_share(ch) for ch in chars)  # ascending; EOS ("") first when present
        self.freqs = array("H", freqs)
        self.ends = array("H", accumulate(freqs))
        self.sym_total = self.ends[-1]
        self.esc = esc
        self.total = self.sym_total + esc
        # Small tables: slot -> symbol index by one lookup instead of a binary search.
        lut: bytes | None = None
        if self.sym_total <= _LUT_MAX_TOTAL and len(chars) <= len(_BYTES):
            lut = b"".join([_BYTES[i] * f for i, f in enumerate(freqs)])
        # What the decoder reads when this table is reached after an escape.
        self.view = (self.total, self.sym_total, esc, lut, self.ends, self.freqs, self.chars)

    def find(self, ch: str) -> int:
        """The index of symbol ``ch``, or -1 if the table does not hold it."""
        i = bisect_left(self.chars, ch)
        return i if i < len(self.chars) and self.chars[i] == ch else -1


class _State:
    """The longest model context that ends the history, with its chain of coding tables."""

    __slots__ = ("chain", "ctx", "esc", "fast", "follow", "lower", "next")

    def __init__(self, ctx: str, chain: tuple[_Node, ...], follow: frozenset[str]) -> None:
        self.ctx = ctx
        self.chain = chain
        self.follow = follow  # symbols seen after ctx in training: transitions worth caching
        self.next: dict[str, _State] = {}
        # For the decoder: (total, sym_total, lut, records, self) of the first table. That table
        # is ctx's whole table (nothing longer to exclude), so its symbols are exactly ``follow``
        # and the state after each of them can be cached: records is flat, four items a symbol
        # (freq, start, symbol, next state's ``fast`` or None until first used; None for EOS) and
        # lut maps every slot to its symbol's offset in it. Flat lists and shared int and str
        # objects (``_share``) keep the memory one step touches small: decoding many different
        # texts is bound by memory latency more than by arithmetic. A state without tables (a
        # model without training text) gets a stand-in of total 1, no symbols and escape 1:
        # divmod(x, 1) = (x, 0) and 1 * x + 0 leave x as it was.
        self.fast: tuple[int, int, array[int], list[Any], _State]
        if chain:
            first = chain[0]
            records: list[Any] = []
            for freq, end, ch in zip(first.freqs, first.ends, first.chars, strict=True):
                records += (_share(freq), _share(end - freq), ch, None)
            lut = array("H", [4 * i for i, f in enumerate(first.freqs) for _ in range(f)])
            self.fast = (_share(first.total), _share(first.sym_total), lut, records, self)
            self.esc = first.esc
        else:
            self.fast = (1, 0, array("H"), [], self)
            self.esc = 1
        self.lower = tuple(node.view for node in chain[1:])


class PPMModel:
    """Context counts built from a training text; immutable after construction.

    Coding tables are derived lazily and cached. The caches are bounded by ``max_states``: when
    one more state would be built, every built state and table is dropped and rebuilt on use
    (a few KB each, and a model has thousands of contexts: unbounded, five models' caches grew
    past 100 MB on a node that composed a few hundred texts). What is coded never changes.
    """

    max_states = MAX_STATES

    def __init__(self, training_text: str, order: int) -> None:
        self.order = order
        counts: dict[str, dict[str, int]] = {}
        pairs: Counter[tuple[str, str]] = Counter()
        for line in training_text.split("\n"):
            if line:
                pairs.update(_contexts_and_symbols(line, order))
        for (ctx, sym), n in pairs.items():
            counts.setdefault(ctx, {})[sym] = n
        # ctx -> (ascending symbols, scaled freqs, escape count). The set of contexts is closed
        # under prefixes and suffixes, and the symbols of a context include those of every
        # longer context ending in it (each training position is counted at every order).
        self._contexts: dict[str, tuple[tuple[str, ...], tuple[int, ...], int]] = {
            ctx: _scale(table) for ctx, table in counts.items()
        }
        self._nodes: dict[tuple[str, str | None], _Node | None] = {}
        self._states: dict[str, _State] = {}
        self._spare_transitions = _SPARE_TRANSITIONS
        self.dropped = 0  # times the built tables were dropped (they are rebuilt on use)
        self._root = self._state(self._longest_suffix(HIST_START))
        # Every symbol of any table a walk visits is a symbol of the order-0 context (each
        # training position is counted at every order): the order -1 step must not code one.
        self._order0 = frozenset(self._contexts.get("", ((),))[0])
        self._max_step_bits = (order + 1) * _STEP_BITS + _ORDER_MINUS_1_BITS

    def max_payload(self, max_bytes: int) -> int:
        """Upper bound on the payload length of any text of at most max_bytes UTF-8 bytes."""
        return (self._max_step_bits * (max_bytes + 1) + 1 + 7) // 8

    def encode(self, text: str) -> bytes:
        steps: list[tuple[int, int, int]] = []  # (start, freq, total) in decoding order
        state = self._root
        for ch in (*text, EOS):
            for node in state.chain:
                i = node.find(ch)
                if i >= 0:
                    freq = node.freqs[i]
                    steps.append((node.ends[i] - freq, freq, node.total))
                    break
                steps.append((node.sym_total, node.esc, node.total))
            else:
                if ch == EOS:
                    steps.append((0, 1, _HI_TOTAL))
                else:
                    cp = ord(ch)
                    steps.append((1 + (cp >> 11), 1, _HI_TOTAL))
                    steps.append((cp & 0x7FF, 1, _LO_TOTAL))
            state = state.next.get(ch) or self._advance(state, ch)
        x = STATE_START
        for start, freq, total in reversed(steps):
            q, r = divmod(x, freq)
            x = q * total + (start + r)
        return x.to_bytes((x.bit_length() + 7) // 8, "big")

    def decode(self, data: bytes, max_bytes: int) -> str:
        if not data:
            raise PPMError("empty payload")
        if data[0] == 0:
            raise PPMError("non-canonical payload (leading zero byte)")
        if len(data) > self.max_payload(max_bytes):
            raise PPMError(f"payload too long for a text of at most {max_bytes} bytes")
        x = int.from_bytes(data, "big")
        fast = self._root.fast
        out: list[str] = []
        append = out.append
        divmod_ = divmod
        # Every character takes at least one UTF-8 byte: max_bytes + 1 symbols bound the work.
        for _ in range(max_bytes + 1):
            total, sym_total, lut, records, state = fast
            q, r = divmod_(x, total)
            if r < sym_total:  # the symbol is in the state's own table: the common step
                j = lut[r]
                x = records[j] * q + (r - records[j + 1])
                ch = records[j + 2]
                fast = records[j + 3]
                if fast is None:  # EOS, or the first time this transition is taken
                    if not ch:
                        break
                    fast = records[j + 3] = (state.next.get(ch) or self._advance(state, ch)).fast
                append(ch)
                continue
            x = state.esc * q + (r - sym_total)
            for total, sym_total, esc, small_lut, ends, freqs, chars in state.lower:
                q, r = divmod_(x, total)
                if r < sym_total:
                    i = small_lut[r] if small_lut is not None else bisect_right(ends, r)
                    freq = freqs[i]
                    x = freq * q + (r - (ends[i] - freq))
                    ch = chars[i]
                    break
                x = esc * q + (r - sym_total)
            else:  # order -1: EOS or any code point, in two steps
                x, hi = divmod_(x, _HI_TOTAL)
                if hi == 0:
                    ch = EOS
                else:
                    x, lo = divmod_(x, _LO_TOTAL)
                    cp = ((hi - 1) << 11) | lo
                    if 0xD800 <= cp <= 0xDFFF:
                        raise PPMError("surrogate code point")
                    ch = chr(cp)
                if ch in self._order0:
                    raise PPMError(NON_CANONICAL_ESCAPE)
            if not ch:  # EOS
                break
            append(ch)
            fast = (state.next.get(ch) or self._advance(state, ch)).fast
        else:
            raise PPMError(f"text longer than {max_bytes} bytes")
        if x != STATE_START:
            raise PPMError("non-canonical payload (final state)")
        return "".join(out)

    def _longest_suffix(self, hist: str) -> str:
        hist = hist[max(0, len(hist) - self.order) :]
        while hist and hist not in self._contexts:
            hist = hist[1:]
        return hist

    def _advance(self, state: _State, ch: str) -> _State:
        # The longest context ending the new history ends state.ctx + ch (prefix closure).
        nxt = self._state(self._longest_suffix(state.ctx + ch))
        # Transitions seen in training are bounded by the model; others share a fixed budget.
        if ch in state.follow:
            state.next[ch] = nxt
        elif self._spare_transitions > 0:
            self._spare_transitions -= 1
            state.next[ch] = nxt
        return nxt

    def _state(self, ctx: str) -> _State:
        state = self._states.get(ctx)
        if state is None:
            if len(self._states) >= self.max_states:
                self._drop_tables()
            follow = frozenset(self._contexts.get(ctx, ((),))[0])
            state = _State(ctx, self._chain(ctx), follow)
            self._states[ctx] = state
        return state

    def _drop_tables(self) -> None:
        """Forget every built state and table; a coding in progress keeps the ones it holds."""
        self._states, self._nodes = {}, {}
        self._spare_transitions = _SPARE_TRANSITIONS
        self.dropped += 1
        self._root = self._state(self._longest_suffix(HIST_START))

    def _chain(self, ctx: str) -> tuple[_Node, ...]:
        """Coding tables visited, in order, after a history whose longest model context is ctx."""
        nodes: list[_Node] = []
        child: str | None = None  # the next longer context: its symbols are excluded
        for k in range(len(ctx), -1, -1):
            sub = ctx[len(ctx) - k :]
            if sub not in self._contexts:
                continue  # only "" in a model without training text (suffix closure)
            key = (sub, child)
            if key not in self._nodes:
                self._nodes[key] = self._make_node(sub, child)
            node = self._nodes[key]
            if node is not None:
                nodes.append(node)
            child = sub
        return tuple(nodes)

    def _make_node(self, ctx: str, child: str | None) -> _Node | None:
        syms, freqs, esc = self._contexts[ctx]
        if child is None:
            return _Node(list(syms), list(freqs), esc)
        excluded = self._contexts[child][0]  # a subset of syms
        if len(excluded) == len(syms):
            return None
        skip = set(excluded)
        kept = [i for i, s in enumerate(syms) if s not in skip]
        return _Node([syms[i] for i in kept], [freqs[i] for i in kept], esc)


def _contexts_and_symbols(text: str, order: int) -> list[tuple[str, str]]:
    hist = HIST_START + text
    syms = (*text, EOS)
    out: list[tuple[str, str]] = []
    for k in range(order + 1):
        # Symbol i (0-based) has the order-k context hist[i+1-k : i+1] when k <= i + 1.
        first = max(0, k - 1)
        ctxs = [hist[i + 1 - k : i + 1] for i in range(first, len(syms))]
        out.extend(zip(ctxs, syms[first:], strict=True))
    return out


def _scale(table: dict[str, int]) -> tuple[tuple[str, ...], tuple[int, ...], int]:
    """Ascending symbols, their freqs and the escape count of one context (docs/codec.md)."""
    syms = tuple(sorted(table))
    freqs = [table[s] for s in syms]
    singletons = sum(1 for f in freqs if f == 1)
    esc = max(1, (len(syms) + singletons) // 2)
    while sum(freqs) + esc > FREQ_LIMIT:
        freqs = [(f + 1) // 2 for f in freqs]
        esc = (esc + 1) // 2
    return syms, tuple(freqs), esc
