"""Blind indexes and their normalisers (section 11); the suites of blind_index.json."""

from __future__ import annotations

import struct
import unicodedata
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .common import missing


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
# Suites
# --------------------------------------------------------------------------------------------------


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
