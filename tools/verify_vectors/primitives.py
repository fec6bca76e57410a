"""XAES-256-GCM, its CMAC-based KDF and KC-XAES-256-GCM; the suites of testdata/xaes/vectors.json."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac as crypto_cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


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
# Suites
# --------------------------------------------------------------------------------------------------


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
