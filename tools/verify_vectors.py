#!/usr/bin/env python3
"""Independent check of fieldcrypt's language-neutral vectors.

A second implementation of the fieldcrypt format in Python, written from the format description
(docs/FORMAT.md and the doc comments of the Rust sources), sharing no code with the Rust crate.
It uses only the standard library and the `cryptography` package's low-level primitives: AES
block encryption (ECB, one block at a time), AES-GCM, HKDF-SHA-256 and HMAC-SHA-256. XAES-256-GCM,
its CMAC-based KDF, the KC-XAES-256-GCM key commitment, the envelope parser, the associated data,
the typed plaintext (with its own validation of every payload), the keyring document's key
wrapping and document MAC, and the blind-index normalisers are all implemented here.

Suites, in order (each prints one line with its counts):

  xaes-kat               C2SP XAES-256-GCM known answers          testdata/xaes/vectors.json
  kc-xaes-kat            KC-XAES-256-GCM known answers            testdata/xaes/vectors.json
  xaes-accumulated-10k   C2SP accumulated randomized test, 10,000 iterations (SHAKE-128)
  envelope-kat           seal / parse / open every vector, its    testdata/vectors/envelope.json
                         intermediate values (L, K1, Kx, X1, Cm)
  json-payloads          generic and typed JSON readers           testdata/vectors/envelope.json
  context-limits         section 6's limits, invalid_context      testdata/vectors/envelope.json
  negative-baseline      the file's valid envelopes open          testdata/vectors/negative.json
  negative               every input fails with the right class   testdata/vectors/negative.json
  blind-index            index values and intermediate values     testdata/vectors/blind_index.json
  normalizer-lists       textual normaliser lists                 testdata/vectors/blind_index.json
  keyring-document       KEK fingerprint, master-key file, wrap   testdata/vectors/keyring.json
                         AAD, unwrapped keys, MAC input, the
                         local provider's wrapped KEK, document
                         variants read with the KEK given
  keyring-texts          documents as raw JSON texts              testdata/vectors/keyring.json
  keyring-provider       every step of section 10.6, with a       testdata/vectors/keyring.json
                         configured local provider
  master-key-files       file contents and permission bits        testdata/vectors/keyring.json
  argon2id-parameters    passphrase KDF bounds                    testdata/vectors/keyring.json
  counts                 every file's count and counts members    testdata/vectors/*.json

The last line is "N passed, M failed"; the exit status is 1 on any failure. On failure only the
vector's name and which check failed are printed, never keys, plaintexts or envelopes.

Usage: python tools/verify_vectors.py [--root REPO] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac as std_hmac
import json
import math
import os
import re
import struct
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac as crypto_cmac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# --------------------------------------------------------------------------------------------------
# XAES-256-GCM (c2sp.org/XAES-256-GCM) and KC-XAES-256-GCM
# --------------------------------------------------------------------------------------------------

BLOCK = 16
NONCE_LEN = 24
TAG_LEN = 16
COMMITMENT_LEN = 32
KEY_LEN = 32


class AeadError(Exception):
    """Authentication failed (deliberately says nothing about which check)."""


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _dbl(block: bytes) -> bytes:
    """Doubling in GF(2^128) with the CMAC polynomial (NIST SP 800-38B, subkey generation)."""
    n = int.from_bytes(block, "big")
    carry = n >> 127
    n = (n << 1) & ((1 << 128) - 1)
    if carry:
        n ^= 0x87
    return n.to_bytes(16, "big")


class AesCmac:
    """AES-256 and a general CMAC over it (NIST SP 800-38B), written out block by block."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValueError("XAES keys are 32 bytes")
        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        l_block = self.encrypt_block(bytes(BLOCK))
        self.k1 = _dbl(l_block)
        self.k2 = _dbl(self.k1)

    def encrypt_block(self, block: bytes) -> bytes:
        assert len(block) == BLOCK
        return self._ecb.update(block)

    def cmac(self, msg: bytes) -> bytes:
        n = max(1, -(-len(msg) // BLOCK))
        complete = len(msg) > 0 and len(msg) % BLOCK == 0
        last = msg[(n - 1) * BLOCK :]
        if complete:
            last = _xor(last, self.k1)
        else:
            padded = last + b"\x80" + bytes(BLOCK - len(last) - 1)
            last = _xor(padded, self.k2)
        x = bytes(BLOCK)
        for i in range(n - 1):
            x = self.encrypt_block(_xor(x, msg[i * BLOCK : (i + 1) * BLOCK]))
        return self.encrypt_block(_xor(x, last))


class Xaes:
    """XAES-256-GCM; with commit=True, KC-XAES-256-GCM (commitment after the tag)."""

    def __init__(self, key: bytes) -> None:
        self._key = bytes(key)
        self._cmac = AesCmac(key)

    # The KDF of SP 800-108r1 in counter mode: [i]_16 || label "X" || 0x00 || context N[:12].
    def derive_key(self, nonce: bytes) -> bytes:
        ctx = nonce[:12]
        return self._cmac.cmac(b"\x00\x01X\x00" + ctx) + self._cmac.cmac(b"\x00\x02X\x00" + ctx)

    # CMAC_K("XCMT" || N || 00 01 00 01) || CMAC_K("XCMT" || N || 00 01 00 02).
    def commitment(self, nonce: bytes) -> bytes:
        return self._cmac.cmac(b"XCMT" + nonce + b"\x00\x01\x00\x01") + self._cmac.cmac(
            b"XCMT" + nonce + b"\x00\x01\x00\x02"
        )

    def cross_check(self, nonce: bytes) -> bool:
        """Derived key and commitment again with the `cryptography` package's own CMAC."""

        def lib_cmac(msg: bytes) -> bytes:
            c = crypto_cmac.CMAC(algorithms.AES(self._key))
            c.update(msg)
            return c.finalize()

        kx = lib_cmac(b"\x00\x01X\x00" + nonce[:12]) + lib_cmac(b"\x00\x02X\x00" + nonce[:12])
        cm = lib_cmac(b"XCMT" + nonce + b"\x00\x01\x00\x01") + lib_cmac(
            b"XCMT" + nonce + b"\x00\x01\x00\x02"
        )
        return kx == self.derive_key(nonce) and cm == self.commitment(nonce)

    def seal(self, commit: bool, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        if len(nonce) != NONCE_LEN:
            raise ValueError("XAES nonces are 24 bytes")
        out = AESGCM(self.derive_key(nonce)).encrypt(nonce[12:], plaintext, aad)
        if commit:
            out += self.commitment(nonce)
        return out

    def open(self, commit: bool, nonce: bytes, aad: bytes, sealed: bytes) -> bytes:
        overhead = TAG_LEN + (COMMITMENT_LEN if commit else 0)
        if len(nonce) != NONCE_LEN or len(sealed) < overhead:
            raise AeadError
        if commit:
            sealed, given = sealed[:-COMMITMENT_LEN], sealed[-COMMITMENT_LEN:]
            if not std_hmac.compare_digest(given, self.commitment(nonce)):
                raise AeadError
        try:
            return AESGCM(self.derive_key(nonce)).decrypt(nonce[12:], sealed, aad)
        except InvalidTag:
            raise AeadError from None


# --------------------------------------------------------------------------------------------------
# Envelope
# --------------------------------------------------------------------------------------------------

MAGIC = 0xFC
VERSION = 1
HEADER_LEN = 7
SUITES = {
    # slug: (header id, text letter, commits)
    "kc-xaes-256-gcm": (0x01, "c", True),
    "xaes-256-gcm": (0x02, "x", False),
}
SUITE_BY_ID = {v[0]: k for k, v in SUITES.items()}
SUITE_BY_LETTER = {v[1]: k for k, v in SUITES.items()}
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Malformed(Exception):
    """Not a well-formed envelope (raised before any cryptography)."""


class UnknownKey(Exception):
    """Well-formed, but names a key id the keyring does not hold."""


class RetiredKey(Exception):
    """Well-formed, but names a key id the keyring holds only as a retired tombstone."""


class CannotOpen(Exception):
    """Wrong key, wrong context, wrong suite for the key, or tampered."""


class TypeMismatch(Exception):
    """Opened, but holds another type than the one asked for."""


class InvalidValue(Exception):
    """Opened, right type tag, but the payload is not a valid encoding."""


def commits(suite: str) -> bool:
    return SUITES[suite][2]


def trailer_len(suite: str) -> int:
    return TAG_LEN + (COMMITMENT_LEN if commits(suite) else 0)


def min_body_len(suite: str) -> int:
    # nonce, at least the type tag byte of ciphertext, tag, commitment.
    return NONCE_LEN + 1 + trailer_len(suite)


def header_bytes(suite: str, key_id: int) -> bytes:
    return bytes([MAGIC, VERSION, SUITES[suite][0]]) + struct.pack(">I", key_id)


def text_prefix(suite: str, key_id: int) -> str:
    return f"fc{VERSION}{SUITES[suite][1]}{key_id}."


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode_canonical(text: str) -> bytes:
    """Unpadded base64url, canonical only: alphabet, no padding, no impossible length, no set
    unused bits in the final character."""
    if any(c not in B64URL for c in text):
        raise Malformed("base64 alphabet")
    if len(text) % 4 == 1:
        raise Malformed("base64 length")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise Malformed("non-canonical base64")
    return data


@dataclass(frozen=True)
class Envelope:
    suite: str
    key_id: int
    body: bytes  # nonce | ciphertext | tag | commitment

    @property
    def nonce(self) -> bytes:
        return self.body[:NONCE_LEN]

    @property
    def sealed(self) -> bytes:
        """ciphertext | tag | commitment, as the AEAD takes it."""
        return self.body[NONCE_LEN:]

    def to_binary(self) -> bytes:
        return header_bytes(self.suite, self.key_id) + self.body

    def to_text(self) -> str:
        return text_prefix(self.suite, self.key_id) + b64url_encode(self.body)


def _check_body(suite: str, body: bytes) -> None:
    if len(body) < min_body_len(suite):
        raise Malformed("truncated")


def parse_binary(data: bytes) -> Envelope:
    if len(data) == 0:
        raise Malformed("empty")
    if data[0] != MAGIC:
        raise Malformed("bad magic")
    if len(data) < HEADER_LEN:
        raise Malformed("truncated header")
    if data[1] != VERSION:
        raise Malformed("unsupported version")
    suite = SUITE_BY_ID.get(data[2])
    if suite is None:
        raise Malformed("unknown suite")
    (key_id,) = struct.unpack(">I", data[3:7])
    if key_id == 0:
        raise Malformed("key id 0")
    body = bytes(data[HEADER_LEN:])
    _check_body(suite, body)
    return Envelope(suite, key_id, body)


def parse_key_id(digits: str) -> int:
    if not (1 <= len(digits) <= 10) or any(c not in "0123456789" for c in digits):
        raise Malformed("bad key id")
    if digits[0] == "0" and len(digits) > 1:
        raise Malformed("key id with leading zero")
    n = int(digits)
    if n > 0xFFFFFFFF:
        raise Malformed("key id above u32")
    if n == 0:
        raise Malformed("key id 0")
    return n


def parse_text(text: str) -> Envelope:
    if not text.startswith("fc"):
        raise Malformed("bad prefix")
    rest = text[2:]
    if len(rest) < 2:
        raise Malformed("truncated prefix")
    version, letter, rest = rest[0], rest[1], rest[2:]
    if version not in "0123456789":
        raise Malformed("version not a digit")
    if int(version) != VERSION:
        raise Malformed("unsupported version")
    suite = SUITE_BY_LETTER.get(letter)
    if suite is None:
        raise Malformed("unknown suite letter")
    dot = rest.find(".")
    if dot < 0:
        raise Malformed("no separator")
    key_id = parse_key_id(rest[:dot])
    body = b64url_decode_canonical(rest[dot + 1 :])
    _check_body(suite, body)
    return Envelope(suite, key_id, body)


def parse_any(data: bytes) -> Envelope:
    """Either form: binary when it starts with 0xFC, text when it starts with "fc"."""
    if len(data) == 0:
        raise Malformed("empty")
    if data[0] == MAGIC:
        return parse_binary(data)
    if data.startswith(b"fc"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("text form is not UTF-8") from None
        return parse_text(text)
    raise Malformed("bad magic")


# --------------------------------------------------------------------------------------------------
# Context (associated data)
# --------------------------------------------------------------------------------------------------


class InvalidContext(Exception):
    """A context outside section 6's limits: refused before any envelope is parsed."""


def context_bytes(ctx: dict) -> bytes:
    out = bytearray()
    for name in (ctx["table"], ctx["column"]):
        b = name.encode("utf-8")
        if not 1 <= len(b) <= 1024:
            raise InvalidContext("table and column names are 1 to 1024 bytes")
        out += struct.pack(">H", len(b)) + b
    for key in (ctx.get("row"), ctx.get("tenant")):
        if key is None:
            out.append(0x00)
        else:
            b = key.encode("utf-8")
            if len(b) > 64 * 1024:
                raise InvalidContext("row keys and tenants are at most 65536 bytes")
            out += b"\x01" + struct.pack(">I", len(b)) + b
    return bytes(out)


def associated_data(suite: str, key_id: int, ctx: dict) -> bytes:
    return header_bytes(suite, key_id) + context_bytes(ctx)


# --------------------------------------------------------------------------------------------------
# Typed plaintext
# --------------------------------------------------------------------------------------------------

TYPE_TAGS = {
    "string": 0x01,
    "bytes": 0x02,
    "int": 0x03,
    "float": 0x04,
    "bool": 0x05,
    "date": 0x06,
    "timestamp": 0x07,
    "decimal": 0x08,
    "json": 0x09,
}
TYPE_NAMES = {v: k for k, v in TYPE_TAGS.items()}
CANONICAL_NAN = 0x7FF8000000000000
DECIMAL_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
DATE_RE = re.compile(r"([+-]?[0-9]{4,})-([0-9]{2})-([0-9]{2})")
TIMESTAMP_RE = re.compile(
    r"([+-]?[0-9]{4,}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|z|[+-][0-9]{2}:[0-9]{2})"
)


def _is_leap(y: int) -> bool:
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def _days_in_month(y: int, m: int) -> int:
    return [31, 29 if _is_leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (counted directly, no library)."""
    if not (1 <= m <= 12 and 1 <= d <= _days_in_month(y, m)):
        raise ValueError("no such date")
    # Days before year y since year 0 (proleptic, with year 0 a leap year), then within the year.
    def days_before_year(year: int) -> int:
        p = year - 1
        return 365 * year + (p // 4 - p // 100 + p // 400) + 1  # +1: year 0 is leap

    days_in_year = sum(_days_in_month(y, mm) for mm in range(1, m)) + (d - 1)
    return days_before_year(y) + days_in_year - days_before_year(1970)


def civil_from_days(z: int) -> tuple[int, int, int]:
    # Inverse by search from an estimate: plain, slow, obviously right for the handful we need.
    y = 1970 + z // 366 - 1
    while days_from_civil(y + 1, 1, 1) <= z:
        y += 1
    while days_from_civil(y, 1, 1) > z:
        y -= 1
    rem = z - days_from_civil(y, 1, 1)
    m = 1
    while rem >= _days_in_month(y, m):
        rem -= _days_in_month(y, m)
        m += 1
    return y, m, rem + 1


def format_date(days: int) -> str:
    y, m, d = civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}" if 0 <= y <= 9999 else f"{y:+05d}-{m:02d}-{d:02d}"


def format_timestamp(seconds: int, nanos: int) -> str:
    days, secs = divmod(seconds, 86400)
    y, m, d = civil_from_days(days)
    year = f"{y:04d}" if 0 <= y <= 9999 else f"{y:+05d}"  # as format_date: signed outside 0..9999
    out = f"{year}-{m:02d}-{d:02d}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    if nanos:
        out += "." + f"{nanos:09d}".rstrip("0")
    return out + "Z"


def parse_timestamp(value: str) -> tuple[int, int]:
    """RFC 3339 to (seconds, nanos): seconds is the floor of the Unix time, 0 <= nanos < 10^9.
    Raises ValueError."""
    mt = TIMESTAMP_RE.fullmatch(value)
    if not mt:
        raise ValueError("timestamp")
    y, mo, d = (int(p) for p in DATE_RE.fullmatch(mt[1]).groups())  # type: ignore[union-attr]
    hh, mm, ss = int(mt[2]), int(mt[3]), int(mt[4])
    if hh > 23 or mm > 59 or ss > 59:
        raise ValueError("timestamp")
    nanos = int((mt[5] or "0").ljust(9, "0"))
    zone = mt[6]
    offset = 0
    if zone not in ("Z", "z"):
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            raise ValueError("timestamp offset")
        offset = (1 if zone[0] == "+" else -1) * (oh * 3600 + om * 60)
    return days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss - offset, nanos


# RFC 8259 tokens. A string: no unescaped quote, backslash or U+0000..U+001F; escapes as listed.
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_WS = " \t\n\r"
TYPED_JSON_MAX_DEPTH = 127  # section 7: every reader accepts this much nesting


def json_text_depth(text: str) -> int:
    """Checks that `text` is exactly one JSON text (RFC 8259 section 2: optional whitespace, one
    value, optional whitespace), syntax only, without recursion; returns its nesting depth (the
    most arrays and objects that enclose one another). Raises ValueError."""
    n = len(text)
    pos = 0
    stack: list[str] = []
    deepest = 0

    def ws() -> None:
        nonlocal pos
        while pos < n and text[pos] in _JSON_WS:
            pos += 1

    def member_name() -> None:
        nonlocal pos
        m = _JSON_STRING.match(text, pos)
        if not m:
            raise ValueError("member name")
        pos = m.end()
        ws()
        if pos >= n or text[pos] != ":":
            raise ValueError("':'")
        pos += 1
        ws()

    ws()
    expect_value = True
    while True:
        if expect_value:
            c = text[pos] if pos < n else ""
            if c in ("[", "{"):
                stack.append(c)
                deepest = max(deepest, len(stack))
                pos += 1
                ws()
                close = "]" if c == "[" else "}"
                if pos < n and text[pos] == close:
                    pos += 1
                    stack.pop()
                    expect_value = False
                elif c == "{":
                    member_name()
                continue
            if c == '"':
                m = _JSON_STRING.match(text, pos)
            elif c and c in "-0123456789":
                m = _JSON_NUMBER.match(text, pos)
            else:
                m = None
            if m:
                pos = m.end()
            else:
                for literal in ("true", "false", "null"):
                    if text.startswith(literal, pos):
                        pos += len(literal)
                        break
                else:
                    raise ValueError("value expected")
            expect_value = False
            continue
        ws()
        if not stack:
            break
        c = text[pos] if pos < n else ""
        if c == ",":
            pos += 1
            ws()
            if stack[-1] == "{":
                member_name()
            expect_value = True
        elif c == ("]" if stack[-1] == "[" else "}"):
            pos += 1
            stack.pop()
        else:
            raise ValueError("',' or the end of the container expected")
    if pos != n:
        raise ValueError("text after the value")
    return deepest


def read_json_generic(payload: bytes) -> str:
    """A generic reader of section 7's json payload: any JSON text in UTF-8, returned as it is.
    Raises InvalidValue."""
    try:
        text = payload.decode("utf-8")  # strict: refuses encoded surrogates too
        json_text_depth(text)
    except ValueError as e:
        raise InvalidValue("json") from e
    return text


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_json_typed(payload: bytes):
    """A typed reader of section 7's json payload, with the limits every reader must accept and
    nothing more: nesting up to 127, numbers finite in binary64, no escaped unpaired surrogate.
    Raises InvalidValue."""
    text = read_json_generic(payload)
    try:
        if json_text_depth(text) > TYPED_JSON_MAX_DEPTH:
            raise ValueError("nesting")
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as e:
        raise InvalidValue("json") from e

    def walk(v) -> None:
        if isinstance(v, str):
            v.encode("utf-8")  # UnicodeEncodeError (a ValueError) for an unpaired surrogate
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError("number beyond binary64")
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**1024:
            raise ValueError("number beyond binary64")
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)

    try:
        walk(value)
    except ValueError as e:
        raise InvalidValue("json") from e
    return value


def encode_value(type_name: str, value) -> bytes:
    """Typed plaintext (tag byte || payload) from the vector file's representation of a value."""
    tag = bytes([TYPE_TAGS[type_name]])
    if type_name == "string":
        return tag + value.encode("utf-8")
    if type_name == "bytes":
        return tag + bytes.fromhex(value)
    if type_name == "int":
        n = int(value)
        if not -(2**63) <= n < 2**63:
            raise ValueError("int out of range")
        return tag + struct.pack(">q", n)
    if type_name == "float":
        bits = int(value, 16)
        as_float = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
        if as_float != as_float:  # every NaN is sealed as the canonical one
            bits = CANONICAL_NAN
        return tag + bits.to_bytes(8, "big")
    if type_name == "bool":
        if not isinstance(value, bool):
            raise ValueError("bool")
        return tag + bytes([1 if value else 0])
    if type_name == "date":
        mt = DATE_RE.fullmatch(value)
        if not mt:
            raise ValueError("date")
        days = days_from_civil(int(mt[1]), int(mt[2]), int(mt[3]))
        return tag + struct.pack(">i", days)
    if type_name == "timestamp":
        seconds, nanos = parse_timestamp(value)
        return tag + struct.pack(">qI", seconds, nanos)
    if type_name == "decimal":
        if not DECIMAL_RE.fullmatch(value) or re.fullmatch(r"-0(\.0+)?", value):
            raise ValueError("decimal")
        return tag + value.encode("ascii")
    if type_name == "json":
        # The vector holds the JSON text as sealed: one JSON text without insignificant
        # whitespace (what writers SHOULD write), kept as it is.
        json_text_depth(value)
        if any(c in _JSON_WS for c in re.sub(_JSON_STRING, "", value)):
            raise ValueError("json text with whitespace between tokens")
        return tag + value.encode("utf-8")
    raise ValueError(f"unknown type {type_name}")


def decode_value(expected_type: str, typed: bytes):
    """Back to the vector file's representation; raises TypeMismatch / InvalidValue. Section 7's
    rules, checked here from the bytes. expected_type "value" is a generic reader: whichever type
    the value holds."""
    if not typed:
        raise InvalidValue("empty plaintext")
    found = TYPE_NAMES.get(typed[0])
    if found is None:
        raise InvalidValue("type tag")
    if expected_type != "value" and found != expected_type:
        raise TypeMismatch(f"holds {found}, not {expected_type}")
    p = typed[1:]

    def fixed(n: int) -> bytes:
        if len(p) != n:
            raise InvalidValue(found)
        return p

    try:
        if found == "string":
            return p.decode("utf-8")
        if found == "bytes":
            return p.hex()
        if found == "int":
            return str(struct.unpack(">q", fixed(8))[0])
        if found == "float":
            bits = int.from_bytes(fixed(8), "big")
            f = struct.unpack(">d", p)[0]
            if f != f and bits != CANONICAL_NAN:
                raise InvalidValue("non-canonical NaN")
            return f"{bits:016x}"
        if found == "bool":
            if p not in (b"\x00", b"\x01"):
                raise InvalidValue("bool")
            return p == b"\x01"
        if found == "date":
            return format_date(struct.unpack(">i", fixed(4))[0])
        if found == "timestamp":
            seconds, nanos = struct.unpack(">qI", fixed(12))
            if nanos >= 10**9:
                raise InvalidValue("timestamp nanos")
            return format_timestamp(seconds, nanos)
        if found == "decimal":
            text = p.decode("ascii")
            if not DECIMAL_RE.fullmatch(text) or re.fullmatch(r"-0(\.0+)?", text):
                raise InvalidValue("decimal")
            return text
        if found == "json":
            return read_json_generic(p)
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidValue(found) from e
    raise InvalidValue(found)


# --------------------------------------------------------------------------------------------------
# Keyring-level seal and open
# --------------------------------------------------------------------------------------------------


@dataclass
class Key:
    key_id: int
    suite: str
    material: bytes | None  # None: retired, the id kept as a tombstone


def seal(key: Key, ctx: dict, typed: bytes, nonce: bytes) -> Envelope:
    aad = associated_data(key.suite, key.key_id, ctx)
    sealed = Xaes(key.material).seal(commits(key.suite), nonce, aad, typed)
    return Envelope(key.suite, key.key_id, nonce + sealed)


def open_envelope(keyring: dict[int, Key], ctx: dict, env: Envelope, as_type: str):
    key = keyring.get(env.key_id)
    if key is None:
        raise UnknownKey
    if key.material is None:
        raise RetiredKey
    if key.suite != env.suite:
        # A key opens only under the suite it was made for: no downgrade by relabelling.
        raise CannotOpen
    aad = associated_data(env.suite, env.key_id, ctx)
    try:
        typed = Xaes(key.material).open(commits(env.suite), env.nonce, aad, env.sealed)
    except AeadError:
        raise CannotOpen from None
    return decode_value(as_type, typed)


def classify(fn: Callable[[], object]) -> str:
    try:
        fn()
    except Malformed:
        return "malformed"
    except UnknownKey:
        return "unknown_key"
    except RetiredKey:
        return "retired_key"
    except CannotOpen:
        return "cannot_open"
    except TypeMismatch:
        return "type_mismatch"
    except InvalidValue:
        return "invalid_value"
    return "opened"


# --------------------------------------------------------------------------------------------------
# Blind index
# --------------------------------------------------------------------------------------------------

INDEX_SALT = b"fieldcrypt/blind-index/v1"
NORMALIZER_ALIASES = {
    "trim": "trim",
    "casefold": "casefold",
    "lower": "casefold",
    "nfkc": "nfkc",
    "digits": "digits",
    "digits-only": "digits",
}
# Unicode's White_Space property (PropList.txt), what Rust's str::trim removes. Python's
# str.strip() would also remove U+001C..U+001F, which are not White_Space.
UNICODE_WHITE_SPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def parse_normalizers(text: str) -> list[str]:
    """Section 11.3: split on ",", trim each entry as `trim` does, skip empty entries, map
    aliases; names are case-sensitive. Raises ValueError for an unknown name."""
    out = []
    for part in text.split(","):
        part = part.strip(UNICODE_WHITE_SPACE)
        if part:
            if part not in NORMALIZER_ALIASES:
                raise ValueError("unknown normaliser")
            out.append(NORMALIZER_ALIASES[part])
    return out


def normalize(steps: list[str], s: str) -> str:
    for step in steps:
        if step == "trim":
            s = s.strip(UNICODE_WHITE_SPACE)
        elif step == "casefold":
            s = s.casefold()  # Unicode default (full) case folding
        elif step == "nfkc":
            s = unicodedata.normalize("NFKC", s)
        elif step == "digits":
            s = "".join(c for c in s if c in "0123456789")
        else:
            raise ValueError(step)
    return s


def _lp16(b: bytes) -> bytes:
    if len(b) > 0xFFFF:
        raise ValueError("too long")
    return struct.pack(">H", len(b)) + b


def blind_index_steps(root: bytes, table: str, column: str, name: str, normalizers: str,
                      bits: int, fields: list[str]) -> dict:
    """Section 11.1 and 11.2, every intermediate value: norms, the normalised fields, info,
    index_key, message, hmac, and the value in both forms."""
    if not 1 <= bits <= 256:
        raise ValueError("bits")
    steps = parse_normalizers(normalizers)
    norms = ",".join(steps)
    info = (
        _lp16(table.encode())
        + _lp16(column.encode())
        + _lp16(name.encode())
        + _lp16(norms.encode())
        + struct.pack(">H", bits)
    )
    index_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=INDEX_SALT, info=info).derive(root)
    normalized = [normalize(steps, f) for f in fields]
    msg = struct.pack(">I", len(fields))
    for f in normalized:
        b = f.encode("utf-8")
        msg += struct.pack(">I", len(b)) + b
    mac = crypto_hmac.HMAC(index_key, hashes.SHA256())
    mac.update(msg)
    full = mac.finalize()
    # Independent truncation: as an integer, keep the top `bits` bits.
    n_bytes = -(-bits // 8)
    top = int.from_bytes(full, "big") >> (256 - bits)
    value = (top << (n_bytes * 8 - bits)).to_bytes(n_bytes, "big")
    return {
        "norms": norms,
        "normalized_fields": normalized,
        "info": info.hex(),
        "index_key": index_key.hex(),
        "message": msg.hex(),
        "hmac": full.hex(),
        "value": value,
        "int": top if bits <= 64 else None,
    }


# --------------------------------------------------------------------------------------------------
# Keyring document (section 10)
# --------------------------------------------------------------------------------------------------

KEYRING_FORMAT = "fieldcrypt-keyring/1"
KEK_FINGERPRINT_MESSAGE = b"fieldcrypt/kek-fingerprint/v1"
MASTER_KEY_PREFIX = "fieldcrypt-master-key-v1:"
# Section 10.4: Kmac = HMAC-SHA-256(KEK, MAC_KEY_LABEL); M starts with MAC_INPUT_LABEL.
MAC_KEY_LABEL = b"fieldcrypt/keyring-mac/v1"
MAC_INPUT_LABEL = b"fieldcrypt-keyring/1 mac"
MAC_LEN = 32
WRAPPED_LEN = NONCE_LEN + KEY_LEN + TAG_LEN + COMMITMENT_LEN  # 104
KEY_KINDS = {"keys": 0x01, "index_roots": 0x02}
KEY_STATES = ("primary", "active", "retired")
KEYRING_ID_RE = re.compile(r"[0-9a-f]{32}")
# Section 10.1: RFC 3339 date-time with a four-digit year (parse_timestamp checks the ranges).
CREATED_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class InvalidDocument(Exception):
    """Not a well-formed or consistent keyring document."""


class WrongKek(Exception):
    """The KEK's fingerprint is not the one the document records."""


class Tampered(Exception):
    """The document MAC (section 10.4) does not verify under the KEK."""


class UnwrapFailed(Exception):
    """A wrapped key (an entry's, or the provider-wrapped document KEK) does not authenticate."""


class NotPinned(Exception):
    """The document is another keyring than the one the configuration pins."""


class RolledBack(Exception):
    """The document's generation is below the minimum the configuration pins."""


class ProviderMismatch(Exception):
    """The document names another provider, or another value of a compared provider setting,
    than the configured provider (refused before the provider is called)."""


class NegZero:
    """The JSON number token `-0`: not an integer (section 10.4). Python's json would read it as
    the integer 0, so the parse hook keeps it apart."""

    def __repr__(self) -> str:
        return "-0"


def _parse_int(token: str):
    return NegZero() if token == "-0" else int(token)


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for name, value in pairs:
        if name in out:
            raise ValueError("duplicate member name")
        out[name] = value
    return out


def parse_document_text(text: str):
    """Section 10.1: one JSON text, no duplicate member names (after unescaping), no NaN or
    Infinity; `-0` kept apart from 0. Raises InvalidDocument."""
    if text.startswith("\ufeff"):
        raise InvalidDocument("byte order mark")
    try:
        json_text_depth(text)  # RFC 8259 syntax, which Python's json is laxer about
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_parse_int,
                          parse_constant=_refuse_constant)
    except ValueError as e:
        raise InvalidDocument("not a JSON text without duplicate names") from e


def is_integer(v) -> bool:
    """Section 10.4: a number token without fraction or exponent, not -0, in -2^63..2^64-1."""
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v <= 2**64 - 1


def is_generation(v) -> bool:
    return is_integer(v) and v >= 0


def kek_fingerprint(kek: bytes) -> str:
    return std_hmac.new(kek, KEK_FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def parse_master_key_file(text: str) -> bytes:
    """Section 10.3: every trailing LF and CR removed; the rest is exactly the prefix and the
    canonical base64url of 32 bytes. Raises ValueError."""
    line = text.rstrip("\r\n")
    if not line.startswith(MASTER_KEY_PREFIX):
        raise ValueError("no master-key prefix")
    try:
        key = b64url_decode_canonical(line[len(MASTER_KEY_PREFIX) :])
    except Malformed as e:
        raise ValueError("not canonical base64url") from e
    if len(key) != KEY_LEN:
        raise ValueError("a master key is 32 bytes")
    return key


MASTER_KEY_FILE_READ = 256  # a reader MUST accept files up to this size; the reference reads no more


def open_master_key_file(path: str) -> bytes:
    """Section 10.3's reader: opened once; on that descriptor the owner must be the effective
    user and group and others may have no permission; then the contents. Raises ValueError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise ValueError("owned by another user")
        if os.name == "posix" and st.st_mode & 0o077:
            raise ValueError("group or others have permissions")
        data = os.read(fd, MASTER_KEY_FILE_READ)
    finally:
        os.close(fd)
    return parse_master_key_file(data.decode("utf-8"))  # UnicodeDecodeError is a ValueError


def wrap_aad(keyring_id: bytes, kind: int, key_id: int, suite: str, created_seconds: int) -> bytes:
    return (
        KEYRING_FORMAT.encode("ascii")
        + keyring_id
        + bytes([kind])
        + struct.pack(">I", key_id)
        + bytes([SUITES[suite][0]])
        + struct.pack(">q", created_seconds)
    )


def unwrap_key(kek: bytes, aad: bytes, wrapped: bytes) -> bytes:
    if len(wrapped) != WRAPPED_LEN:
        raise UnwrapFailed
    try:
        return Xaes(kek).open(True, wrapped[:NONCE_LEN], aad, wrapped[NONCE_LEN:])
    except AeadError:
        raise UnwrapFailed from None


def _is_text(v) -> bool:
    """A string that is Unicode text: no unpaired surrogate (which a \\ud800 escape can give)."""
    if not isinstance(v, str):
        return False
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_text(v) -> bool:
    """Every string and member name in `v` is Unicode text."""
    if isinstance(v, str):
        return _is_text(v)
    if isinstance(v, list):
        return all(_all_text(x) for x in v)
    if isinstance(v, dict):
        return all(_is_text(k) and _all_text(x) for k, x in v.items())
    return True


def _check_document_shape(doc) -> None:
    """Section 10.6 step 1 after parsing: the members and their types, as a typed reader's
    deserialiser checks them first; strings of the members this format names must be text."""
    def need(cond: bool, why: str) -> None:
        if not cond:
            raise InvalidDocument(why)

    need(isinstance(doc, dict), "not an object")
    need(doc.get("format") == KEYRING_FORMAT, "format")
    need(_is_text(doc.get("keyring_id")), "keyring_id")
    kek = doc.get("kek")
    need(isinstance(kek, dict), "kek")
    need(_is_text(kek.get("provider")) and _is_text(kek.get("fingerprint")), "kek")
    need(_all_text(kek), "kek: not Unicode text")
    for list_name in KEY_KINDS:
        entries = doc.get(list_name)
        need(isinstance(entries, list), list_name)
        for e in entries:
            need(isinstance(e, dict), "entry")
            key_id = e.get("id")
            need(isinstance(key_id, int) and not isinstance(key_id, bool)
                 and 0 <= key_id <= 0xFFFFFFFF, "entry id")
            need(isinstance(e.get("suite"), str) and e["suite"] in SUITES, "entry suite")
            need(isinstance(e.get("state"), str) and e["state"] in KEY_STATES, "entry state")
            need(_is_text(e.get("created")), "entry created")
            need(e.get("wrapped") is None or _is_text(e.get("wrapped")), "entry wrapped")
    # Optional (a missing or null mac is refused by the MAC check, after the fingerprint), but when
    # given a string.
    need(doc.get("mac") is None or _is_text(doc.get("mac")), "mac")


def _utf8(s: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: not a Unicode string
        raise InvalidDocument("string is not valid Unicode") from None


def _lp32(s: str) -> bytes:
    """Section 10.4's lp(s): u32be(byte length of the UTF-8 s) || s."""
    b = _utf8(s)
    return struct.pack(">I", len(b)) + b


def compact_json(value) -> str:
    """Section 10.4's compact JSON of a kek member: a string, an integer or a boolean; anything
    else (a float, an array, an object, null) refuses the document."""
    if isinstance(value, bool):  # before int: bool is a subclass of int in Python
        return "true" if value else "false"
    if is_integer(value):  # not NegZero, a float or an integer out of range
        return str(value)
    if isinstance(value, str):
        # Escapes the quote, the backslash, \b \f \n \r \t and the other C0 controls as \u00xx
        # (lower case), leaves everything else as is; checked against the spec by the keyring suite.
        return json.dumps(value, ensure_ascii=False)
    raise InvalidDocument("kek member is not a string, an integer or a boolean")


def mac_input(doc) -> bytes:
    """Section 10.4's M for a document that has the shape _check_document_shape checks. Raises
    InvalidDocument for a kek member of another type."""
    kek = doc["kek"]
    out = bytearray(MAC_INPUT_LABEL)
    for s in (doc["format"], doc["keyring_id"], kek["provider"], kek["fingerprint"]):
        out += _lp32(s)
    others = sorted((k for k in kek if k not in ("provider", "fingerprint")), key=_utf8)
    out += struct.pack(">I", len(others))
    for name in others:
        out += _lp32(name) + _lp32(compact_json(kek[name]))
    for list_name in ("keys", "index_roots"):
        entries = doc[list_name]
        out += struct.pack(">I", len(entries))
        for e in entries:
            out += struct.pack(">I", e["id"])
            out += _lp32(e["suite"]) + _lp32(e["state"]) + _lp32(e["created"])
            wrapped = e.get("wrapped")
            out += b"\x00" if wrapped is None else b"\x01" + _lp32(wrapped)
    return bytes(out)


def document_mac(kek: bytes, message: bytes) -> bytes:
    k_mac = std_hmac.new(kek, MAC_KEY_LABEL, hashlib.sha256).digest()
    return std_hmac.new(k_mac, message, hashlib.sha256).digest()


def _verify_document_mac(doc, kek: bytes) -> None:
    """Presence and length (InvalidDocument), the input (InvalidDocument for a kek member of
    another type), then the comparison in constant time (Tampered)."""
    given = doc.get("mac")
    if given is None:
        raise InvalidDocument("no mac")
    try:
        given_bytes = b64url_decode_canonical(given)
    except Malformed:
        raise InvalidDocument("mac is not canonical base64url") from None
    if len(given_bytes) != MAC_LEN:
        raise InvalidDocument("mac is not 32 bytes")
    expected = document_mac(kek, mac_input(doc))
    if not std_hmac.compare_digest(expected, given_bytes):
        raise Tampered


def read_keyring_document(doc, kek: bytes) -> dict[str, dict[int, tuple[dict, bytes | None]]]:
    """Section 10.6 with the document KEK given: step 1 (the shape), then steps 9 to 15. Every
    list's entries by id with their unwrapped keys (None when retired). Raises InvalidDocument,
    WrongKek, Tampered or UnwrapFailed."""
    _check_document_shape(doc)
    if doc["kek"]["fingerprint"] != kek_fingerprint(kek):
        raise WrongKek
    _verify_document_mac(doc, kek)
    if not KEYRING_ID_RE.fullmatch(doc["keyring_id"]):
        raise InvalidDocument("keyring_id")
    keyring_id = bytes.fromhex(doc["keyring_id"])
    out = {}
    for list_name, kind in KEY_KINDS.items():
        held: dict[int, tuple[dict, bytes | None]] = {}
        primary = None
        for e in doc[list_name]:
            if e["id"] == 0:
                raise InvalidDocument("id 0")
            try:
                if not CREATED_RE.fullmatch(e["created"]):
                    raise ValueError("created")
                seconds, _nanos = parse_timestamp(e["created"])
            except ValueError:
                raise InvalidDocument("created is not RFC 3339") from None
            wrapped = e.get("wrapped")
            if e["state"] == "retired":
                if wrapped is not None:
                    raise InvalidDocument("retired entry with a wrapped key")
                key = None
            else:
                if wrapped is None:
                    raise InvalidDocument("live entry without a wrapped key")
                try:
                    raw = b64url_decode_canonical(wrapped)
                except Malformed:
                    raise InvalidDocument("wrapped is not canonical base64url") from None
                key = unwrap_key(kek, wrap_aad(keyring_id, kind, e["id"], e["suite"], seconds), raw)
            if e["state"] == "primary":
                if primary is not None:
                    raise InvalidDocument("two primaries")
                primary = e["id"]
            if e["id"] in held:
                raise InvalidDocument("duplicate id")
            held[e["id"]] = (e, key)
        if primary is None:
            raise InvalidDocument("no primary")
        out[list_name] = held
    return out


KEK_WRAP_LABEL = b"fieldcrypt-kek/1"
# Settings a provider records but does not compare (section 10.5).
INFORMATIONAL_SETTINGS = {"local": ("path",)}


def kek_wrap_context(keyring_id: bytes) -> bytes:
    return KEK_WRAP_LABEL + keyring_id


def local_provider_settings(config: dict) -> dict:
    """What a configured local provider records: its master-key file's path (informational) and
    the fingerprint of its master key."""
    return {"path": config["path"],
            "key_fingerprint": kek_fingerprint(bytes.fromhex(config["master_key"]))}


def argon2id_parameters_ok(params: dict) -> bool:
    """Section 10.5's bounds for a passphrase keyring's KDF settings."""
    def u32(name: str):
        v = params.get(name)
        return v if is_integer(v) and 0 <= v <= 0xFFFFFFFF else None

    salt = params.get("salt")
    try:
        salt_ok = isinstance(salt, str) and len(b64url_decode_canonical(salt)) == 16
    except Malformed:
        salt_ok = False
    m, t, p = u32("memory_kib"), u32("iterations"), u32("parallelism")
    return (params.get("kdf") == "argon2id" and salt_ok and m is not None and t is not None
            and p is not None and 19_456 <= m <= 4_194_304 and 1 <= t <= 64 and 1 <= p <= 16)


def open_keyring(doc, config: dict) -> dict[str, dict[int, tuple[dict, bytes | None]]]:
    """Section 10.6, every step, for a reader configured with a local provider (`config`:
    provider, master_key, path, and the pins min_generation and keyring_id, null when unset)."""
    _check_document_shape(doc)                                                      # step 1
    kek_member = doc["kek"]
    # Step 2 concerns the passphrase provider only.
    if not KEYRING_ID_RE.fullmatch(doc["keyring_id"]):                               # step 3
        raise InvalidDocument("keyring_id")
    if config.get("keyring_id") is not None and config["keyring_id"] != doc["keyring_id"]:
        raise NotPinned                                                             # step 4
    generation = kek_member.get("generation", 0)                                    # step 5
    if not is_generation(generation):
        raise InvalidDocument("generation")
    if config.get("min_generation") is not None and generation < config["min_generation"]:
        raise RolledBack
    if kek_member["provider"] != config["provider"]:                                # step 6
        raise ProviderMismatch
    informational = INFORMATIONAL_SETTINGS.get(config["provider"], ())
    configured = local_provider_settings(config)
    for name in sorted(configured, key=_utf8):
        if name in informational:
            continue
        found = kek_member.get(name)
        if type(found) is not type(configured[name]) or found != configured[name]:
            raise ProviderMismatch
    wrapped = kek_member.get("wrapped_kek")                                         # step 7
    if not isinstance(wrapped, str):
        raise InvalidDocument("wrapped_kek")
    try:
        raw = b64url_decode_canonical(wrapped)
    except Malformed:
        raise InvalidDocument("wrapped_kek is not canonical base64url") from None
    master = bytes.fromhex(config["master_key"])                                   # step 8
    if len(raw) != WRAPPED_LEN:
        raise UnwrapFailed
    context = kek_wrap_context(bytes.fromhex(doc["keyring_id"]))
    try:
        kek = Xaes(master).open(True, raw[:NONCE_LEN], context, raw[NONCE_LEN:])
    except AeadError:
        raise UnwrapFailed from None
    return read_keyring_document(doc, kek)                                          # steps 9-15


DOCUMENT_OUTCOMES = [
    (InvalidDocument, "invalid_document"),
    (NotPinned, "not_pinned"),
    (RolledBack, "rolled_back"),
    (ProviderMismatch, "provider_mismatch"),
    (UnwrapFailed, "unwrap_failed"),
    (WrongKek, "wrong_kek"),
    (Tampered, "tampered"),
]


def classify_outcome(fn: Callable[[], object]) -> str:
    try:
        fn()
    except tuple(e for e, _ in DOCUMENT_OUTCOMES) as e:
        return next(name for cls, name in DOCUMENT_OUTCOMES if isinstance(e, cls))
    return "ok"


def classify_document(doc, kek: bytes) -> str:
    return classify_outcome(lambda: read_keyring_document(doc, kek))


# --------------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def suite(self, name: str, cases: list[tuple[str, Callable[[], list[str]]]]) -> None:
        ok = bad = 0
        for case_name, check in cases:
            try:
                problems = check()
            except Exception as e:  # noqa: BLE001 - any crash is a failure of that vector
                problems = [f"raised {type(e).__name__}"]
            if problems:
                bad += 1
                print(f"FAIL {name}: {case_name}: {'; '.join(problems)}")
            else:
                ok += 1
        self.passed += ok
        self.failed += bad
        line = f"{name}: {ok} passed"
        if bad:
            line += f", {bad} failed"
        print(line, flush=True)


def xaes_kat_cases(data: dict) -> tuple[list, list]:
    def kat(v: dict, commit: bool) -> Callable[[], list[str]]:
        def check() -> list[str]:
            key = bytes.fromhex(v["key"])
            nonce = v["nonce_ascii"].encode()
            pt = v["plaintext_ascii"].encode()
            aad = v["aad_ascii"].encode()
            want = bytes.fromhex(v["ciphertext_tag_commitment" if commit else "ciphertext_and_tag"])
            x = Xaes(key)
            problems = []
            if not x.cross_check(nonce):
                problems.append("KDF/commitment differ from cryptography's CMAC")
            if x.seal(commit, nonce, aad, pt) != want:
                problems.append("seal output differs")
            try:
                if x.open(commit, nonce, aad, want) != pt:
                    problems.append("open returned other plaintext")
            except AeadError:
                problems.append("open failed")
            for i in range(len(want)):
                bad = bytearray(want)
                bad[i] ^= 0x01
                try:
                    x.open(commit, nonce, aad, bytes(bad))
                    problems.append(f"opened with byte {i} flipped")
                    break
                except AeadError:
                    pass
            return problems

        return check

    plain = [(f"xaes #{i}", kat(v, False)) for i, v in enumerate(data["xaes_256_gcm"])]
    kc = [(f"kc-xaes #{i}", kat(v, True)) for i, v in enumerate(data["kc_xaes_256_gcm"])]
    return plain, kc


ACCUMULATED_10K = "e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939"


def accumulated_check(iterations: int, expected: str) -> Callable[[], list[str]]:
    def check() -> list[str]:
        # SHAKE-128 of the empty input as a stream: hashlib has no incremental read, so take a
        # prefix long enough for the most any iteration can read.
        need = iterations * (32 + 24 + 1 + 255 + 1 + 255)
        stream = hashlib.shake_128(b"").digest(need)
        pos = 0

        def read(n: int) -> bytes:
            nonlocal pos
            out = stream[pos : pos + n]
            pos += n
            return out

        acc = hashlib.shake_128()
        for i in range(iterations):
            key = read(32)
            nonce = read(24)
            pt = read(read(1)[0])
            aad = read(read(1)[0])
            x = Xaes(key)
            ct = x.seal(False, nonce, aad, pt)
            acc.update(ct)
            if x.open(False, nonce, aad, ct) != pt:
                return [f"round trip failed at iteration {i}"]
        got = acc.digest(32).hex()
        return [] if got == expected else ["accumulated hash differs"]

    return check


def xaes_intermediate(key: bytes, nonce: bytes, commit: bool) -> tuple[dict, list[str]]:
    """Section 2's intermediate values as the vectors give them, from the formulas; and the
    shortcut for the commitment checked against the general CMAC."""
    c = AesCmac(key)
    l_block = c.encrypt_block(bytes(BLOCK))
    k1 = _dbl(l_block)
    x = Xaes(key)
    out = {"l": l_block.hex(), "k1": k1.hex(), "kx": x.derive_key(nonce).hex(),
           "gcm_nonce": nonce[12:].hex(), "x1": None, "commitment": None}
    problems = []
    if commit:
        x1 = c.encrypt_block(b"XCMT" + nonce[:12])
        cm = b"".join(c.encrypt_block(_xor(_xor(x1, nonce[12:] + bytes([0, 1, 0, i])), k1))
                      for i in (1, 2))
        if cm != x.commitment(nonce):
            problems.append("section 2.2's two-block shortcut differs from CMAC")
        out["x1"], out["commitment"] = x1.hex(), cm.hex()
    return out, problems


def envelope_cases(data: dict) -> list:
    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            problems = []
            suite, key_id, ctx = v["suite"], v["key_id"], v["context"]
            key = Key(key_id, suite, bytes.fromhex(v["key"]))
            nonce = bytes.fromhex(v["nonce"])
            want, problems = xaes_intermediate(key.material, nonce, commits(suite))
            given = v.get("intermediate")
            if not isinstance(given, dict):
                problems.append("no intermediate values (regenerate the vectors)")
            else:
                problems += [f"intermediate {k} differs" for k in want if given.get(k) != want[k]]
            typed = encode_value(v["type"], v["value"])
            if typed.hex() != v["typed_plaintext"]:
                problems.append("typed plaintext rebuilt from type/value differs")
            aad = associated_data(suite, key_id, ctx)
            if aad.hex() != v["aad"]:
                problems.append("aad differs")
            if not Xaes(key.material).cross_check(nonce):
                problems.append("KDF/commitment differ from cryptography's CMAC")
            env = seal(key, ctx, typed, nonce)
            if env.to_binary().hex() != v["envelope_binary"]:
                problems.append("binary envelope differs")
            if env.to_text() != v["envelope_text"]:
                problems.append("text envelope differs")
            keyring = {key_id: key}
            forms = [
                ("binary", lambda: parse_binary(bytes.fromhex(v["envelope_binary"]))),
                ("text", lambda: parse_text(v["envelope_text"])),
                ("binary via parse_any", lambda: parse_any(bytes.fromhex(v["envelope_binary"]))),
                ("text via parse_any", lambda: parse_any(v["envelope_text"].encode("utf-8"))),
            ]
            for form, parse in forms:
                try:
                    parsed = parse()
                except Malformed as e:
                    problems.append(f"{form} form does not parse ({e})")
                    continue
                if parsed != env:
                    problems.append(f"{form} form parses to another envelope")
                try:
                    opened = open_envelope(keyring, ctx, parsed, v["type"])
                except Exception as e:  # noqa: BLE001
                    problems.append(f"{form} form does not open ({type(e).__name__})")
                    continue
                if opened != v["value"]:
                    problems.append(f"{form} form opens to another value")
            # The two forms carry the same bytes.
            if parse_binary(bytes.fromhex(v["envelope_binary"])).to_text() != v["envelope_text"]:
                problems.append("binary form converted to text differs")
            return problems

        return check

    return [(v["name"], case(v)) for v in data["vectors"]]


def missing(data: dict, member: str, file: str) -> list:
    """A failing case for a member the generator writes but the file lacks."""
    return [(f"{file}: {member}", lambda: [f"no {member} in {file} (regenerate the vectors)"])]


def json_payload_cases(data: dict) -> list:
    if "json_payloads" not in data:
        return missing(data, "json_payloads", "envelope.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            payload = bytes.fromhex(v["payload_hex"])
            problems = []
            if v.get("payload") is not None and v["payload"].encode("utf-8") != payload:
                problems.append("payload and payload_hex differ")
            for reader, read in (("generic", read_json_generic), ("typed", read_json_typed)):
                try:
                    got = read(payload)
                except InvalidValue:
                    got = None
                if v[reader] == "ok" and got is None:
                    problems.append(f"the {reader} reader refuses it")
                if v[reader] == "invalid_value" and got is not None:
                    problems.append(f"the {reader} reader accepts it")
                if reader == "generic" and got is not None and got.encode("utf-8") != payload:
                    problems.append("the generic reader changed the text")
            # And end to end: sealed as a json value, it opens (or not) alike.
            key = Key(1, "kc-xaes-256-gcm", bytes(range(32)))
            ctx = {"table": "t", "column": "c", "row": None, "tenant": None}
            env = seal(key, ctx, b"\x09" + payload, bytes(range(24)))
            got = classify(lambda: open_envelope({1: key}, ctx, env, "json"))
            if v["generic"] != "may_refuse" and got != {"ok": "opened"}.get(v["generic"], v["generic"]):
                problems.append(f"sealed and opened as json: {got}")
            return problems

        return check

    return [(v["name"], case(v)) for v in data["json_payloads"]]


def context_limit_cases(data: dict) -> list:
    if "context_limits" not in data:
        return missing(data, "context_limits", "envelope.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            ch = v["char"]

            def part(n):
                return None if n is None else ch * n

            ctx = {"table": part(v["table_chars"]), "column": part(v["column_chars"]),
                   "row": part(v["row_chars"]), "tenant": part(v["tenant_chars"])}
            try:
                context_bytes(ctx)
                got = "ok"
            except InvalidContext:
                got = "invalid_context"
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["context_limits"]]


def negative_cases(data: dict) -> tuple[list, list]:
    default_key = Key(data["key_id"], data["suite"], bytes.fromhex(data["key"]))

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            # Per-vector overrides: the suite of key 7, its material, retired tombstones.
            suite = v.get("suite", default_key.suite)
            material = bytes.fromhex(v["key"]) if "key" in v else default_key.material
            keyring = {default_key.key_id: Key(default_key.key_id, suite, material)}
            for key_id in v.get("retired_key_ids", []):
                keyring[key_id] = Key(key_id, suite, None)
            ctx = v.get("context", data["context"])
            as_type = v.get("open_as", "string")
            if v["form"] == "binary":
                raw = bytes.fromhex(v["input"])
                attempts = [("parse_binary", lambda: parse_binary(raw)), ("parse_any", lambda: parse_any(raw))]
            elif v["form"] == "text":
                text = v["input"]
                attempts = [
                    ("parse_text", lambda: parse_text(text)),
                    ("parse_any", lambda: parse_any(text.encode("utf-8"))),
                ]
            else:
                return [f"unknown form {v['form']!r}"]
            problems = []
            for how, parse in attempts:
                got = classify(lambda: open_envelope(keyring, ctx, parse(), as_type))
                if got != v["expect"]:
                    problems.append(f"{how}: expected {v['expect']}, got {got}")
                if v["expect"] == "invalid_value":
                    # A generic reader (whichever type the value holds) refuses it too.
                    got = classify(lambda: open_envelope(keyring, ctx, parse(), "value"))
                    if got != "invalid_value":
                        problems.append(f"{how}, as any type: expected invalid_value, got {got}")
            if "typed_plaintext" in v:
                # The envelope authenticates, so the refusal is about the plaintext: split the
                # binary form by section 4 (without the parser, which refuses bodies below the
                # minimum) and decrypt.
                binary = raw if v["form"] == "binary" else parse_text(text).to_binary()
                header, body = binary[:HEADER_LEN], binary[HEADER_LEN:]
                aad = header + context_bytes(ctx)
                try:
                    sealed = body[NONCE_LEN:]
                    typed = Xaes(material).open(commits(suite), body[:NONCE_LEN], aad, sealed)
                except AeadError:
                    problems.append("does not authenticate under the vector's key and context")
                else:
                    if typed.hex() != v["typed_plaintext"]:
                        problems.append("decrypts to another typed plaintext than stated")
            return problems

        return check

    cases = [(v["name"], case(v)) for v in data["vectors"]]

    # The file's own sanity: the valid envelopes open under the stated key and context.
    def valid() -> list[str]:
        problems = []
        envelopes = [
            ("", data["suite"], data["valid_envelope_binary"], data["valid_envelope_text"])
        ]
        envelopes += [(f" {e['suite']}", e["suite"], e["binary"], e["text"])
                      for e in data.get("valid_envelopes", [])]
        for label, suite, binary, text in envelopes:
            keyring = {default_key.key_id: Key(default_key.key_id, suite, default_key.material)}
            for form, env in [
                ("binary", lambda: parse_binary(bytes.fromhex(binary))),
                ("text", lambda: parse_text(text)),
            ]:
                got = classify(lambda: open_envelope(keyring, data["context"], env(), "string"))
                if got != "opened":
                    problems.append(f"valid{label} {form} envelope: {got}")
        if data.get("count") != len(data["vectors"]):
            problems.append("count field differs from the number of vectors")
        return problems

    return cases, [("valid envelopes open", valid)]


def blind_index_cases(data: dict) -> list:
    root = bytes.fromhex(data["root"])

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            steps = blind_index_steps(
                root, v["table"], v["column"], v["name"], v["normalizers"], v["bits"], v["fields"]
            )
            value, as_int = steps["value"], steps["int"]
            problems = []
            given = v.get("intermediate")
            if not isinstance(given, dict):
                problems.append("no intermediate values (regenerate the vectors)")
            else:
                problems += [f"intermediate {k} differs"
                             for k in ("norms", "normalized_fields", "info", "index_key", "message",
                                       "hmac")
                             if given.get(k) != steps[k]]
            if value.hex() != v["index_hex"]:
                problems.append("index_hex differs")
            want_int = v.get("index_int")
            if want_int is not None and (as_int is None or str(as_int) != str(want_int)):
                problems.append("index_int differs")
            if want_int is None and as_int is not None:
                problems.append("index_int missing for an index of at most 64 bits")
            return problems

        return check

    out = []
    for i, v in enumerate(data["vectors"]):
        label = f"#{i} {v['table']}.{v['column']}/{v['name']} {v['bits']} bits"
        out.append((label, case(v)))
    return out


def normalizer_list_cases(data: dict) -> list:
    if "normalizer_lists" not in data:
        return missing(data, "normalizer_lists", "blind_index.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            try:
                got = ",".join(parse_normalizers(v["list"]))
            except ValueError:
                got = None
            return [] if got == v["canonical"] else [f"parses to {got!r}, not {v['canonical']!r}"]

        return check

    return [(f"{v['list']!r}", case(v)) for v in data["normalizer_lists"]]


def keyring_cases(data: dict) -> list:
    kek = bytes.fromhex(data["kek"])

    def fingerprints() -> list[str]:
        problems = []
        if kek_fingerprint(kek) != data["kek_fingerprint"]:
            problems.append("kek_fingerprint differs")
        for ex in data.get("fingerprint_examples", []):
            if kek_fingerprint(bytes.fromhex(ex["kek"])) != ex["fingerprint"]:
                problems.append("a fingerprint example differs")
        try:
            if parse_master_key_file(data["master_key_file"]) != kek:
                problems.append("master-key file holds another key")
        except (ValueError, Malformed):
            problems.append("master-key file does not parse")
        return problems

    def document() -> list[str]:
        problems = []
        doc = data["document"]
        try:
            held = read_keyring_document(doc, kek)
        except (InvalidDocument, WrongKek, Tampered, UnwrapFailed) as e:
            return [f"document refused ({type(e).__name__})"]
        if doc["kek"]["fingerprint"] != data["kek_fingerprint"]:
            problems.append("the document records another fingerprint")
        keyring_id = bytes.fromhex(doc["keyring_id"])
        seen = 0
        for x in data["entries"]:
            label = f"{x['list']} {x['id']}"
            entry, key = held[x["list"]].get(x["id"], (None, None))
            if entry is None:
                problems.append(f"{label}: not in the document")
                continue
            seen += 1
            if x["kind"] != KEY_KINDS[x["list"]]:
                problems.append(f"{label}: kind")
            for member in ("suite", "state", "created"):
                if entry[member] != x[member]:
                    problems.append(f"{label}: {member} differs from the document")
            seconds, _nanos = parse_timestamp(entry["created"])
            if seconds != x["created_seconds"]:
                problems.append(f"{label}: created_seconds")
            aad = wrap_aad(keyring_id, KEY_KINDS[x["list"]], x["id"], x["suite"], seconds)
            if aad.hex() != x["wrap_aad"]:
                problems.append(f"{label}: wrap AAD differs")
            want = None if x["key"] is None else bytes.fromhex(x["key"])
            if key != want:
                problems.append(f"{label}: unwrapped key differs")
            if entry.get("wrapped") is not None:
                nonce = b64url_decode_canonical(entry["wrapped"])[:NONCE_LEN]
                if nonce.hex() != x["wrap_nonce"]:
                    problems.append(f"{label}: wrap nonce differs")
                # And wrapping again with that nonce gives the document's bytes.
                again = nonce + Xaes(kek).seal(True, nonce, aad, want or b"")
                if b64url_encode(again) != entry["wrapped"]:
                    problems.append(f"{label}: re-wrapping differs")
            elif x["wrap_nonce"] is not None:
                problems.append(f"{label}: a nonce for an entry without a wrapped key")
        if seen != sum(len(v) for v in held.values()):
            problems.append("entries do not cover the document")
        return problems

    def document_mac_input() -> list[str]:
        doc = data["document"]
        try:
            _check_document_shape(doc)
            m = mac_input(doc)
        except InvalidDocument as e:
            return [f"no MAC input ({e})"]
        problems = []
        if m.hex() != data["mac_input"]:
            problems.append("MAC input differs from mac_input")
        if b64url_encode(document_mac(kek, bytes.fromhex(data["mac_input"]))) != doc.get("mac"):
            problems.append("MAC of mac_input under kek differs from the document's mac")
        return problems

    def compact_json_escaping() -> list[str]:
        # json.dumps(ensure_ascii=False) against section 10.4's rule, written out literally.
        short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}

        def by_spec(s: str) -> str:
            out = []
            for c in s:
                if c in short:
                    out.append(short[c])
                elif ord(c) < 0x20:
                    out.append(f"\\u{ord(c):04x}")
                else:
                    out.append(c)
            return '"' + "".join(out) + '"'

        samples = [chr(i) for i in range(0x100)] + ["\u2028", "\u2029", "\ufeff", "\U0001f511",
                                                    "/etc/fieldcrypt/master.key", "a\x1fb\x7f\"c"]
        problems = [f"U+{ord(s[0]):04X}..." for s in samples if compact_json(s) != by_spec(s)]
        for value, want in [(True, "true"), (False, "false"), (0, "0"), (-7, "-7"),
                            (2**64 - 1, "18446744073709551615")]:
            if compact_json(value) != want:
                problems.append(f"compact JSON of {value!r}")
        for value in [1.0, 1e300, None, [], {}, ["/etc"]]:
            try:
                compact_json(value)
                problems.append(f"{type(value).__name__} accepted as a kek member")
            except InvalidDocument:
                pass
        return problems[:5]

    def variant(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            got = classify_document(v["document"], bytes.fromhex(v["kek"]) if "kek" in v else kek)
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    def count() -> list[str]:
        return [] if data.get("count") == len(data["documents"]) else ["count field differs"]

    def local_provider() -> list[str]:
        """Section 10.5's local provider, master key to document KEK to keys."""
        lp = data.get("local_provider")
        if not isinstance(lp, dict):
            return ["no local_provider (regenerate the vectors)"]
        problems = []
        doc = data["document"]
        master = bytes.fromhex(lp["master_key"])
        keyring_id = bytes.fromhex(doc["keyring_id"])
        try:
            if parse_master_key_file(lp["master_key_file"]) != master:
                problems.append("local_provider.master_key_file holds another key")
        except ValueError:
            problems.append("local_provider.master_key_file does not parse")
        if kek_fingerprint(master) != lp["master_key_fingerprint"]:
            problems.append("master_key_fingerprint differs")
        if doc["kek"].get("key_fingerprint") != lp["master_key_fingerprint"]:
            problems.append("the document's key_fingerprint is not the master key's")
        if kek_wrap_context(keyring_id).hex() != lp["wrap_context"]:
            problems.append("wrap_context differs")
        nonce = bytes.fromhex(lp["wrapped_kek_nonce"])
        again = nonce + Xaes(master).seal(True, nonce, kek_wrap_context(keyring_id), kek)
        if again.hex() != lp["wrapped_kek"]:
            problems.append("wrapping the KEK under the master key gives other bytes")
        if doc["kek"].get("wrapped_kek") != b64url_encode(bytes.fromhex(lp["wrapped_kek"])):
            problems.append("the document's wrapped_kek is not local_provider.wrapped_kek")
        if lp["kek"] != data["kek"]:
            problems.append("local_provider.kek is not kek")
        try:
            via_provider = open_keyring(doc, lp["configuration"])
        except tuple(e for e, _ in DOCUMENT_OUTCOMES) as e:
            return problems + [f"the document does not open through the provider ({type(e).__name__})"]
        if via_provider != read_keyring_document(doc, kek):
            problems.append("the provider path gives other keys than the KEK")
        return problems

    cases = [("KEK fingerprint and master-key file", fingerprints), ("document", document),
             ("document MAC input", document_mac_input),
             ("compact JSON of kek members", compact_json_escaping), ("document count", count),
             ("local provider: master key, wrapped KEK, keys", local_provider)]
    cases += [(f"document: {v['name']}", variant(v)) for v in data["documents"]]
    return cases


def keyring_text_cases(data: dict) -> list:
    if "document_texts" not in data:
        return missing(data, "document_texts", "keyring.json")
    kek = bytes.fromhex(data["kek"])

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            k = bytes.fromhex(v["kek"]) if "kek" in v else kek
            got = classify_outcome(lambda: read_keyring_document(parse_document_text(v["text"]), k))
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["document_texts"]]


def keyring_provider_cases(data: dict) -> list:
    if "provider_documents" not in data or "local_provider" not in data:
        return missing(data, "provider_documents", "keyring.json")
    default = data["local_provider"]["configuration"]

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            config = {**default, **v.get("configuration", {})}
            got = classify_outcome(lambda: open_keyring(v["document"], config))
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["provider_documents"]]


def master_key_file_cases(data: dict) -> list:
    if "master_key_files" not in data:
        return missing(data, "master_key_files", "keyring.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            content = bytes.fromhex(v["bytes_hex"])
            problems = []
            if v.get("text") is not None and v["text"].encode("utf-8") != content:
                problems.append("text and bytes_hex differ")
            mode = int(v["mode"], 8)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "master.key")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, content)
                finally:
                    os.close(fd)
                os.chmod(path, mode)
                try:
                    got = open_master_key_file(path).hex()
                except ValueError:
                    got = None
                finally:
                    os.chmod(path, 0o600)
            if os.name != "posix" and mode & 0o077:
                return problems  # no permission bits to check here
            if got != v["key"]:
                problems.append(f"read {'a key' if got else 'nothing'}, expected "
                                f"{'a key' if v['key'] else 'a refusal'}"
                                + (" (another key)" if got and v["key"] else ""))
            return problems

        return check

    return [(f"{v['name']} (mode {v['mode']})", case(v)) for v in data["master_key_files"]]


def argon2id_cases(data: dict) -> list:
    if "argon2id_parameters" not in data:
        return missing(data, "argon2id_parameters", "keyring.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            got = "ok" if argon2id_parameters_ok(v["params"]) else "invalid_document"
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["argon2id_parameters"]]


def _tally(items: list, member: str) -> dict:
    out: dict = {}
    for v in items:
        key = "null" if v.get(member) is None else str(v[member])
        out[key] = out.get(key, 0) + 1
    return out


def count_cases(envelope: dict, negative: dict, blind: dict, keyring: dict) -> list:
    """Every file's count and counts members against what the file holds (section 13 points at
    them instead of repeating numbers)."""
    def compare(file: str, given, want) -> list[str]:
        return [] if given == want else [f"{file}: counts says {given}, the file holds {want}"]

    def envelope_counts() -> list[str]:
        want = {"vectors": len(envelope["vectors"]),
                "json_payloads": len(envelope.get("json_payloads", [])),
                "context_limits": len(envelope.get("context_limits", []))}
        return (compare("envelope.json count", envelope.get("count"), len(envelope["vectors"]))
                + compare("envelope.json", envelope.get("counts"), want))

    def negative_counts() -> list[str]:
        return (compare("negative.json count", negative.get("count"), len(negative["vectors"]))
                + compare("negative.json", negative.get("counts"),
                          _tally(negative["vectors"], "expect")))

    def blind_counts() -> list[str]:
        want = {"vectors": len(blind["vectors"]),
                "normalizer_lists": len(blind.get("normalizer_lists", []))}
        return (compare("blind_index.json count", blind.get("count"), len(blind["vectors"]))
                + compare("blind_index.json", blind.get("counts"), want))

    def keyring_counts() -> list[str]:
        files = keyring.get("master_key_files", [])
        want = {
            "entries": len(keyring["entries"]),
            "documents": _tally(keyring["documents"], "expect"),
            "document_texts": _tally(keyring.get("document_texts", []), "expect"),
            "provider_documents": _tally(keyring.get("provider_documents", []), "expect"),
            "master_key_files": {"accepted": sum(1 for f in files if f["key"] is not None),
                                 "refused": sum(1 for f in files if f["key"] is None)},
            "argon2id_parameters": _tally(keyring.get("argon2id_parameters", []), "expect"),
        }
        return (compare("keyring.json count", keyring.get("count"), len(keyring["documents"]))
                + compare("keyring.json", keyring.get("counts"), want))

    return [("envelope.json", envelope_counts), ("negative.json", negative_counts),
            ("blind_index.json", blind_counts), ("keyring.json", keyring_counts)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="repository root (default: the parent of tools/)")
    ap.add_argument("--quick", action="store_true",
                    help="skip the 10,000-iteration accumulated test")
    args = ap.parse_args()

    def load(rel: str) -> dict:
        with open(args.root / rel, encoding="utf-8") as f:
            return json.load(f)

    report = Report()
    try:
        xaes = load("testdata/xaes/vectors.json")
        envelope = load("testdata/vectors/envelope.json")
        negative = load("testdata/vectors/negative.json")
        blind = load("testdata/vectors/blind_index.json")
        keyring = load("testdata/vectors/keyring.json")
    except (OSError, ValueError) as e:
        print(f"cannot read vectors: {e}")
        print("0 passed, 1 failed")
        return 1

    plain, kc = xaes_kat_cases(xaes)
    report.suite("xaes-kat", plain)
    report.suite("kc-xaes-kat", kc)
    if not args.quick:
        report.suite("xaes-accumulated-10k",
                     [("c2sp accumulated 10,000", accumulated_check(10_000, ACCUMULATED_10K))])
    report.suite("envelope-kat", envelope_cases(envelope))
    report.suite("json-payloads", json_payload_cases(envelope))
    report.suite("context-limits", context_limit_cases(envelope))
    negative_vectors, negative_baseline = negative_cases(negative)
    report.suite("negative-baseline", negative_baseline)
    report.suite("negative", negative_vectors)
    report.suite("blind-index", blind_index_cases(blind))
    report.suite("normalizer-lists", normalizer_list_cases(blind))
    report.suite("keyring-document", keyring_cases(keyring))
    report.suite("keyring-texts", keyring_text_cases(keyring))
    report.suite("keyring-provider", keyring_provider_cases(keyring))
    report.suite("master-key-files", master_key_file_cases(keyring))
    report.suite("argon2id-parameters", argon2id_cases(keyring))
    report.suite("counts", count_cases(envelope, negative, blind, keyring))

    print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
