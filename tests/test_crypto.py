"""relay.crypto.keys, base32 and qr: signatures, pinned vectors, share strings and their typos."""

from __future__ import annotations

import unicodedata
import zlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from relay.crypto import base32
from relay.crypto.keys import (
    KEY_ID_LEN,
    MAX_NAME_BYTES,
    Identity,
    ShareError,
    decode_share,
    encode_share,
    fingerprint,
    generate_identity,
    key_id,
    verify,
)
from relay.crypto.qr import qr_text

# RFC 8032 section 7.1, TEST 1 (empty message).
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

# Jarshy's own pinned vectors (seed 00 01 ... 1f, name "Анна"), worked through in docs/keys.md.
SEED = bytes(range(32))
PUBLIC = bytes.fromhex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
KEY_ID = bytes.fromhex("83142ffd082df5ed")
FINGERPRINT = "EX0P-CG3G-S56Z-RP82"
SHARE = "jarshy:041T21XZYF711FGXE3EHHSTBR2CPFS6P62DTA3AZ3QE8CS0JAMRVHM4GT2YX1FEGP25ZHVT1"
SHARE_NO_NAME = "jarshy:041T21XZYF711FGXE3EHHSTBR2CPFS6P62DTA3AZ3QE8CS0JAMRVG7A0W6YG"

seeds = st.binary(min_size=32, max_size=32)
messages = st.binary(max_size=300)
names = (
    st.text(
        alphabet=st.characters(
            categories=["L", "N", "P", "Zs"],
            include_characters="АБВГДЕЁЖЗИЙКЛМНОПабвгдеёжзийклмнопЯя",
        ),
        max_size=40,
    )
    .map(lambda n: unicodedata.normalize("NFC", n).strip())
    .filter(lambda n: len(n.encode()) <= MAX_NAME_BYTES and n == n.strip())
)


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- signatures -----------------------------------------------------------------------------


def test_rfc8032_vector() -> None:
    identity = Identity("rfc", RFC_SEED)
    assert identity.public_key == RFC_PUBLIC
    assert identity.sign(b"") == RFC_SIGNATURE
    assert verify(RFC_PUBLIC, b"", RFC_SIGNATURE)


def test_pinned_key_id_and_fingerprint() -> None:
    identity = Identity("Анна", SEED)
    assert identity.public_key == PUBLIC
    assert key_id(PUBLIC) == identity.key_id == KEY_ID
    assert len(KEY_ID) == KEY_ID_LEN
    assert fingerprint(PUBLIC) == identity.fingerprint == FINGERPRINT


def test_identity_repr_hides_the_seed() -> None:
    identity = Identity("x", SEED)
    assert SEED.hex() not in repr(identity)
    assert str(list(SEED)) not in repr(identity)
    assert "seed" not in repr(identity)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_identity_rejects_bad_seed(seed: bytes) -> None:
    with pytest.raises(ValueError):
        Identity("x", seed)


def test_generate_identity() -> None:
    first, second = generate_identity("Анна"), generate_identity("Анна")
    assert first.public_key != second.public_key
    assert verify(first.public_key, b"hi", first.sign(b"hi"))
    with pytest.raises(ValueError):
        generate_identity("")


@given(seeds, messages)
def test_sign_verify_round_trip(seed: bytes, message: bytes) -> None:
    identity = Identity("x", seed)
    signature = identity.sign(message)
    assert len(signature) == 64
    assert verify(identity.public_key, message, signature)


@given(seeds, messages, st.integers(min_value=0), st.sampled_from(["key", "message", "sig"]))
def test_verify_false_on_any_flipped_bit(seed: bytes, message: bytes, bit: int, part: str) -> None:
    identity = Identity("x", seed)
    public, signature = identity.public_key, identity.sign(message)
    if part == "key":
        public = _flip(public, bit)
    elif part == "sig":
        signature = _flip(signature, bit)
    else:
        assume(message)
        message = _flip(message, bit)
    assert not verify(public, message, signature)


@given(st.binary(max_size=80), messages, st.binary(max_size=80))
def test_verify_never_raises(public: bytes, message: bytes, signature: bytes) -> None:
    assert verify(public, message, signature) is False


@pytest.mark.parametrize(
    ("public", "message", "signature"),
    [
        (RFC_PUBLIC[:31], b"", RFC_SIGNATURE),
        (RFC_PUBLIC + b"\0", b"", RFC_SIGNATURE),
        (RFC_PUBLIC, b"", RFC_SIGNATURE[:63]),
        (RFC_PUBLIC, b"", RFC_SIGNATURE + b"\0"),
        (bytes(32), b"", bytes(64)),  # small-order point, all-zero signature
        (b"\xff" * 32, b"", RFC_SIGNATURE),  # not a valid point encoding
        ("not bytes", b"", RFC_SIGNATURE),
        (RFC_PUBLIC, None, RFC_SIGNATURE),
    ],
)
def test_verify_rejects_malformed_input(public: object, message: object, signature: object) -> None:
    assert verify(public, message, signature) is False  # type: ignore[arg-type]


# --- base32 ---------------------------------------------------------------------------------


@given(st.binary(max_size=100))
def test_base32_round_trip(data: bytes) -> None:
    text = base32.encode(data)
    assert len(text) == base32.encoded_length(len(data))
    assert base32.decode(text) == data
    assert base32.decode(text.lower()) == data


def test_base32_aliases_and_strictness() -> None:
    assert base32.decode("0O") == base32.decode("00") == base32.decode("oo")
    assert base32.decode("1IL0") == base32.decode("il10") == base32.decode("1110")
    with pytest.raises(base32.Base32Error) as bad:
        base32.decode("0U")
    assert bad.value.code == "bad-character"
    with pytest.raises(base32.Base32Error) as bad:
        base32.decode("000")  # 15 bits: not a whole number of bytes
    assert bad.value.code == "bad-length"
    with pytest.raises(base32.Base32Error) as bad:
        base32.decode("01")  # non-zero pad bits
    assert bad.value.code == "bad-padding"


# --- share strings --------------------------------------------------------------------------


def test_pinned_share_strings() -> None:
    assert encode_share(PUBLIC, "Анна") == SHARE
    assert encode_share(PUBLIC) == SHARE_NO_NAME
    shared = decode_share(SHARE)
    assert (shared.public_key, shared.name, shared.fingerprint) == (PUBLIC, "Анна", FINGERPRINT)
    assert decode_share(SHARE_NO_NAME).name == ""


@given(seeds, names)
def test_share_round_trip(seed: bytes, name: str) -> None:
    public = Identity("x", seed).public_key
    shared = decode_share(encode_share(public, name))
    assert shared.public_key == public
    assert shared.name == name
    assert shared.fingerprint == fingerprint(public)


@given(seeds, st.data())
def test_share_tolerates_case_spaces_and_dashes(seed: bytes, data: st.DataObject) -> None:
    public = Identity("x", seed).public_key
    share = encode_share(public, "Ёлка")
    body = share[len("jarshy:") :]
    chunk = data.draw(st.integers(min_value=1, max_value=8))
    sep = data.draw(st.sampled_from(["-", " ", "\n", " - "]))
    spaced = sep.join(body[i : i + chunk] for i in range(0, len(body), chunk))
    mangled = data.draw(st.sampled_from(["jarshy:", "JARSHY:", "Jarshy:"])) + spaced
    mangled = mangled.lower() if data.draw(st.booleans()) else mangled
    assert decode_share(f"  {mangled}\n").public_key == public


def test_every_single_symbol_substitution_is_caught() -> None:
    """Exhaustive over one share string: a substituted symbol never yields a different key."""
    symbols = base32.ALPHABET + "ilou*"
    for position in range(len("jarshy:"), len(SHARE)):
        for symbol in symbols:
            typo = SHARE[:position] + symbol + SHARE[position + 1 :]
            try:
                shared = decode_share(typo)
            except ShareError:
                continue
            assert shared.public_key == PUBLIC and shared.name == "Анна", typo


def test_every_adjacent_swap_is_caught() -> None:
    for position in range(len("jarshy:"), len(SHARE) - 1):
        a, b = SHARE[position], SHARE[position + 1]
        swapped = SHARE[:position] + b + a + SHARE[position + 2 :]
        if swapped == SHARE:
            continue
        with pytest.raises(ShareError):
            decode_share(swapped)


@given(seeds, names, st.data())
def test_single_character_change_is_rejected_or_harmless(
    seed: bytes, name: str, data: st.DataObject
) -> None:
    public = Identity("x", seed).public_key
    share = encode_share(public, name)
    position = data.draw(st.integers(min_value=0, max_value=len(share) - 1))
    replacement = data.draw(st.characters(codec="utf-8"))
    typo = share[:position] + replacement + share[position + 1 :]
    try:
        shared = decode_share(typo)
    except ShareError:
        return
    assert shared.public_key == public
    assert shared.name == name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jarshi:" + SHARE[7:], "bad-prefix"),
        (SHARE[7:], "bad-prefix"),
        ("", "bad-prefix"),
        (SHARE[:-1] + "U", "bad-character"),
        (SHARE[:-1], "bad-padding"),  # 71 symbols could be 44 bytes, but not these
        (SHARE[:-2], "bad-length"),
        (SHARE[:20], "bad-length"),
        ("jarshy:" + base32.encode(b"\x01" + bytes(36) + bytes(45)), "bad-length"),
        (SHARE[:-2] + "VV", "bad-checksum"),
    ],
)
def test_share_errors_say_why(text: str, code: str) -> None:
    with pytest.raises(ShareError) as error:
        decode_share(text)
    assert error.value.code == code
    assert code in str(error.value)


def _forge(body: bytes) -> str:
    return "jarshy:" + base32.encode(body + zlib.crc32(body).to_bytes(4, "little"))


def test_share_unknown_version_and_bad_name() -> None:
    with pytest.raises(ShareError) as error:
        decode_share(_forge(b"\x02" + PUBLIC))
    assert error.value.code == "bad-version"
    for bad_name in (
        b"\xff\xfe",
        b"a\x00b",
        b" lead",
        "é".encode().replace(b"\xc3\xa9", b"e\xcc\x81"),
    ):
        with pytest.raises(ShareError) as error:
            decode_share(_forge(b"\x01" + PUBLIC + bad_name))
        assert error.value.code == "bad-name"


@pytest.mark.parametrize("name", ["x" * 41, "Ж" * 21, "tab\there", " pad"])
def test_encode_share_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError):
        encode_share(PUBLIC, name)


def test_share_names_are_nfc() -> None:
    decomposed = "\u0418\u0306\u043e"  # И + combining breve + о
    assert decode_share(encode_share(PUBLIC, decomposed)).name == "\u0419\u043e"  # Йо


def test_encode_share_rejects_bad_key() -> None:
    with pytest.raises(ValueError):
        encode_share(PUBLIC[:31], "x")


def test_longest_share_is_short() -> None:
    assert len(encode_share(PUBLIC, "Ж" * 20)) <= 7 + base32.encoded_length(77) == 131


# --- QR -------------------------------------------------------------------------------------


def test_qr_text_uses_half_blocks_and_is_compact() -> None:
    text = qr_text(SHARE)
    lines = text.rstrip("\n").split("\n")
    assert set(text) <= set("█▀▄ \n")
    assert "▀" in text or "▄" in text
    widths = {len(line) for line in lines}
    assert len(widths) == 1
    width = widths.pop()
    assert len(lines) <= (width + 1) // 2 + 1  # two modules per text row
    assert width <= 45  # version 4 + quiet zone: fits an 80-column terminal with room to spare
