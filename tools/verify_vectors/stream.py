"""Streams (docs/FORMAT.md section 14), written from the format description: the header, the
HKDF-derived stream and commitment keys, the commitment, the chunk nonces and the rules for the
last chunk. Known answers are resealed byte for byte and opened; each negative vector must fail
with its class."""

from __future__ import annotations

import hmac as std_hmac
import struct
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .common import missing
from .envelope import context_bytes

MAGIC = b"fcS"
VERSION = 1
HEADER_LEN = 76
PREFIX_LEN = 44
TAG = 16
MIN_CHUNK, MAX_CHUNK = 1024, 1024 * 1024


class Malformed(Exception):
    pass


class CannotOpen(Exception):
    pass


class UnknownKey(Exception):
    pass


def keys(prefix: bytes, salt: bytes, data_key: bytes, ctx: dict | None) -> tuple[bytes, bytes]:
    context = b"" if ctx is None else context_bytes(ctx)
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=salt,
               info=b"fieldcrypt-stream-v1" + prefix + context).derive(data_key)
    mac = crypto_hmac.HMAC(okm[32:], hashes.SHA256())
    mac.update(b"fieldcrypt-stream-v1 commitment")
    return okm[:32], mac.finalize()


def nonce(i: int, last: bool) -> bytes:
    return b"\x00\x00\x00" + struct.pack(">Q", i) + (b"\x01" if last else b"\x00")


def seal(data_key: bytes, key_id: int, chunk: int, salt: bytes, ctx: dict | None,
         plain: bytes) -> bytes:
    prefix = MAGIC + bytes([VERSION]) + struct.pack(">II", key_id, chunk) + salt
    stream_key, commitment = keys(prefix, salt, data_key, ctx)
    out = bytearray(prefix + commitment)
    pieces = [plain[i:i + chunk] for i in range(0, len(plain), chunk)] or [b""]
    for i, piece in enumerate(pieces):
        out += AESGCM(stream_key).encrypt(nonce(i, i == len(pieces) - 1), piece, b"")
    return bytes(out)


def open_stream(data_key: bytes, key_id: int, ctx: dict | None, stream: bytes) -> bytes:
    if len(stream) < HEADER_LEN or stream[:3] != MAGIC or stream[3] != VERSION:
        raise Malformed("header")
    kid, chunk = struct.unpack(">II", stream[4:12])
    if kid == 0 or not MIN_CHUNK <= chunk <= MAX_CHUNK:
        raise Malformed("key id or chunk size")
    if kid != key_id:
        raise UnknownKey(kid)  # the vectors' keyring holds this one key
    salt, commitment = stream[12:PREFIX_LEN], stream[PREFIX_LEN:HEADER_LEN]
    stream_key, expected = keys(stream[:PREFIX_LEN], salt, data_key, ctx)
    if not std_hmac.compare_digest(expected, commitment):
        raise CannotOpen("commitment")
    rest, out, i, full = stream[HEADER_LEN:], bytearray(), 0, chunk + TAG
    while True:
        last = len(rest) <= full
        piece, rest = rest[:full], rest[full:]
        if last and (len(piece) < TAG + (1 if i > 0 else 0)):
            raise CannotOpen("last chunk length")
        try:
            out += AESGCM(stream_key).decrypt(nonce(i, last), piece, b"")
        except InvalidTag:
            raise CannotOpen(f"chunk {i}") from None
        if last:
            return bytes(out)
        i += 1


def stream_cases(data: dict) -> list:
    if "vectors" not in data:
        return missing(data, "vectors", "stream.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            key = bytes.fromhex(v["data_key"])
            plain = bytes.fromhex(v["plaintext"])
            want = bytes.fromhex(v["stream"])
            problems = []
            if seal(key, v["key_id"], v["chunk_size"], bytes.fromhex(v["salt"]), v["context"],
                    plain) != want:
                problems.append("resealed stream differs")
            if open_stream(key, v["key_id"], v["context"], want) != plain:
                problems.append("opened plaintext differs")
            return problems
        return check

    return [(v["name"], case(v)) for v in data["vectors"]]


def stream_negative_cases(data: dict) -> list:
    if "negative" not in data:
        return missing(data, "negative", "stream.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            try:
                open_stream(bytes.fromhex(v["data_key"]), v["key_id"], v["context"],
                            bytes.fromhex(v["stream"]))
                got = "ok"
            except Malformed:
                got = "malformed"
            except CannotOpen:
                got = "cannot_open"
            except UnknownKey:
                got = "unknown_key"
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]
        return check

    return [(v["name"], case(v)) for v in data["negative"]]
