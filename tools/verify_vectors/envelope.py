"""The envelope, its context (associated data) and typed plaintext; the suites of envelope.json."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Callable

from .common import missing
from .json_rules import _JSON_STRING, _JSON_WS, _refuse_constant, json_text_depth
from .primitives import COMMITMENT_LEN, NONCE_LEN, TAG_LEN, AeadError, Xaes, xaes_intermediate


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


TYPED_JSON_MAX_DEPTH = 127  # section 7: every reader accepts this much nesting


def read_json_generic(payload: bytes) -> str:
    """A generic reader of section 7's json payload: any JSON text in UTF-8, returned as it is.
    Raises InvalidValue."""
    try:
        text = payload.decode("utf-8")  # strict: refuses encoded surrogates too
        json_text_depth(text)
    except ValueError as e:
        raise InvalidValue("json") from e
    return text


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
# Suites
# --------------------------------------------------------------------------------------------------


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
