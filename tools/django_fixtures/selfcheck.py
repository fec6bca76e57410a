#!/usr/bin/env python3
"""Checks a manifest written by generate.py against the database, without the Django libraries.

Every stored value is read raw (sqlite3 / psycopg), decrypted with low-level primitives only
(AES-CBC/CTR/GCM, HMAC, HKDF, PBKDF2, SHA-256 from `cryptography`, plus a restricted unpickler for
django-cryptography), as testdata/django/FORMATS.md describes, and compared with the value the
Django ORM returned (the manifest). Also checks that rows written under an older key open only
with that key (rows[].key_index) and, for the searchable library, the SearchField hashes.

    .venv-django-main/bin/python tools/django_fixtures/selfcheck.py manifest.json [...]

Needs `cryptography` and `psycopg` (the main venv has both). Exit status 1 on any mismatch.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import io
import json
import math
import pickle
import random
import sys
from typing import Any
from urllib.parse import unquote, urlparse

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Bad(Exception):
    pass


# --------------------------------------------------------------------------- primitives

def fernet_open(key_b64: str | bytes, token: str | bytes) -> bytes:
    raw = base64.urlsafe_b64decode(key_b64)
    signing, enc = raw[:16], raw[16:]
    data = base64.urlsafe_b64decode(token)
    if len(data) < 73 or data[0] != 0x80 or (len(data) - 57) % 16:
        raise Bad("not a Fernet token")
    if not hmac.compare_digest(hmac.new(signing, data[:-32], hashlib.sha256).digest(), data[-32:]):
        raise Bad("HMAC mismatch")
    d = Cipher(algorithms.AES(enc), modes.CBC(data[9:25])).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(data[25:-32]) + d.finalize()) + u.finalize()


def multi_open(keys: list, token) -> tuple[bytes, int]:
    for i, k in enumerate(keys):
        try:
            return fernet_open(k, token), i
        except Bad:
            continue
    raise Bad("no key opens the token")


def pbkdf2(password: str, salt: str, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations, 32)


def emf_keys(s) -> list:
    k = s["FIELD_ENCRYPTION_KEY"]
    return list(k) if isinstance(k, (list, tuple)) else [k]


def ff_keys(s) -> list:
    keys = s.get("FERNET_KEYS") or [s["SECRET_KEY"]]
    if not s.get("FERNET_USE_HKDF", True):
        return keys
    return [base64.urlsafe_b64encode(HKDF(algorithm=hashes.SHA256(), length=32, salt=b"django-fernet-fields-hkdf-salt",
                                          info=b"django-fernet-fields").derive(k.encode("utf-8"))) for k in keys]


def fef_keys(s) -> list:
    salts = s["SALT_KEY"] if isinstance(s["SALT_KEY"], list) else [s["SALT_KEY"]]
    return [base64.urlsafe_b64encode(pbkdf2(secret, salt, 100_000))
            for secret in [s["SECRET_KEY"]] + list(s.get("SECRET_KEY_FALLBACKS") or []) for salt in salts]


def cryptography_open(s, blob: bytes) -> bytes:
    aes = pbkdf2(s.get("CRYPTOGRAPHY_KEY") or s["SECRET_KEY"], s.get("CRYPTOGRAPHY_SALT") or "django-cryptography", 30_000)
    if len(blob) < 1 + 8 + 16 + 16 + 32 or blob[0] != 0x80:
        raise Bad("not a django-cryptography value")
    mac = hmac.new(s["SECRET_KEY"].encode("utf-8"), blob[:-32], hashlib.sha256).digest()  # raw SECRET_KEY
    if not hmac.compare_digest(mac, blob[-32:]):
        raise Bad("HMAC mismatch")
    d = Cipher(algorithms.AES(aes), modes.CBC(blob[9:25])).decryptor()
    u = padding.PKCS7(128).unpadder()
    return u.update(d.update(blob[25:-32]) + d.finalize()) + u.finalize()


PICKLE_GLOBALS = {
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "timezone"), ("datetime", "timedelta"),
    ("decimal", "Decimal"), ("zoneinfo", "ZoneInfo"),
}
SEEN_GLOBALS: set = set()
SEEN_PROTOCOLS: set = set()


def _zoneinfo_getattr(obj, name):
    """A pickled ZoneInfo is `builtins.getattr(zoneinfo.ZoneInfo, "_unpickle")(key, 1)`."""
    from zoneinfo import ZoneInfo

    if obj is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle
    raise Bad(f"getattr({obj!r}, {name!r}) refused")


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        SEEN_GLOBALS.add(f"{module}.{name}")
        if (module, name) == ("builtins", "getattr"):
            return _zoneinfo_getattr
        if (module, name) not in PICKLE_GLOBALS:
            raise Bad(f"pickle global {module}.{name} not whitelisted")
        return super().find_class(module, name)


def unpickle(data: bytes):
    if data[:1] == b"\x80":
        SEEN_PROTOCOLS.add(data[1])
    return RestrictedUnpickler(io.BytesIO(data)).load()


def cryptbase_open(key_hex: str, stored: str) -> str:
    ct, iv = stored.split("@")
    if len(iv) != 24:
        raise Bad("cryptbase IV is not 24 base64 characters")
    d = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.CTR(base64.b64decode(iv))).decryptor()
    return (d.update(base64.b64decode(ct)) + d.finalize()).decode("utf-8")


def gcm_open(keys_hex: list[str], blob: bytes) -> tuple[bytes, int]:
    nonce, tag, ct = blob[:16], blob[16:32], blob[32:]
    for i, k in enumerate(keys_hex):
        try:
            return AESGCM(bytes.fromhex(k)).decrypt(nonce, ct + tag, None), i
        except Exception:
            continue
    raise Bad("no key opens the AES-GCM value")


# --------------------------------------------------------------------------- values

def jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    raise Bad(f"unexpected unpickled {type(v).__name__}")


def same_json(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def aware(text: str) -> dt.datetime:
    v = dt.datetime.fromisoformat(text)
    return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)  # naive = UTC (the connection zone)


BOOL_TEXT = {"1": True, "0": False, "True": True, "False": False}


def compare_text(kind: str, pt: str, expected, notes: set, where: str) -> None:
    """pt: the plaintext a Fernet/GCM/CTR library stored (str of the value); expected: the manifest."""
    if kind == "text":
        ok = pt == expected
    elif kind == "integer":
        ok = isinstance(expected, int) and pt == str(expected)
    elif kind == "boolean":
        ok = BOOL_TEXT.get(pt) is expected
        notes.add(f"boolean stored as {pt!r}")
    elif kind == "date":
        ok = pt == expected
    elif kind == "datetime":
        got = dt.datetime.fromisoformat(pt)
        exp = aware(expected)
        ok = aware(pt) == exp and (got.tzinfo is None or got.utcoffset() == exp.utcoffset())
        notes.add("datetime stored " + ("with offset (str of the aware value)" if got.tzinfo else "naive, UTC wall clock"))
        if "T" in pt:
            ok = False
    elif kind == "float":
        ok = isinstance(expected, float) and float(pt) == expected and repr(expected) == pt
    elif kind == "decimal":
        ok = pt == expected
    else:
        raise Bad(f"kind {kind} not handled")
    if not ok:
        raise Bad(f"{where}: stored plaintext {pt[:80]!r} does not match manifest {str(expected)[:80]!r}")


# --------------------------------------------------------------------------- database

def fetch(m, columns: list[str], ids: list[int] | None = None):
    u = urlparse(m["database_url"])
    table = m["table"]
    cols = ", ".join(f'"{c}"' for c in ["id"] + columns)
    if m["backend"] == "sqlite":
        import sqlite3

        path = unquote(u.path)
        while path.startswith("//"):
            path = path[1:]
        con = sqlite3.connect(path)
        sql = f'SELECT {cols} FROM "{table}"'
        args: tuple = ()
        if ids is not None:
            sql += f" WHERE id IN ({','.join('?' * len(ids))})"
            args = tuple(ids)
        rows = con.execute(sql + " ORDER BY id", args).fetchall()
        con.close()
        return rows
    import psycopg

    with psycopg.connect(m["database_url"]) as con:
        sql = f'SELECT {cols} FROM "{table}"'
        args = ()
        if ids is not None:
            sql += " WHERE id = ANY(%s)"
            args = (ids,)
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in con.execute(sql + " ORDER BY id", args).fetchall()]


# --------------------------------------------------------------------------- checks

def check_bulk(m) -> tuple[int, list[str]]:
    n = m["rows_bulk"]
    ids = sorted({1, n} | set(random.sample(range(1, n + 1), min(n, 2000))))
    keys = emf_keys(m["settings"])
    errors = []
    rows = fetch(m, ["secret"], ids)
    if len(rows) != len(ids):
        errors.append(f"expected {len(ids)} sampled rows, got {len(rows)}")
    for i, token in rows:
        pt, k = multi_open(keys, token)
        if pt.decode("utf-8") != m["bulk_value_format"].format(i=i) or k != 0:
            errors.append(f"bulk row {i}: {pt!r} under key {k}")
    return len(rows), errors


def check(m) -> tuple[int, list[str], set]:
    if "rows_bulk" in m:
        n, errors = check_bulk(m)
        return n, errors, set()
    lib, s, columns = m["library"], m["settings"], m["columns"]
    names = list(columns)
    raw = {r[0]: dict(zip(names, r[1:])) for r in fetch(m, names)}
    errors: list[str] = []
    notes: set = set()
    count = 0
    if sorted(raw) != [r["id"] for r in m["rows"]]:
        errors.append("row ids in the database differ from the manifest")
    keys = {"emf": emf_keys, "ff": ff_keys, "fef": fef_keys}.get(lib, lambda s: None)(s)
    if m.get("derived_keys", {}).get("fernet_keys") and keys is not None:
        if [k.decode() if isinstance(k, bytes) else k for k in keys] != m["derived_keys"]["fernet_keys"]:
            errors.append("derived Fernet keys differ from the library's")
    if lib == "cryptography" and m.get("derived_keys"):
        aes = pbkdf2(s.get("CRYPTOGRAPHY_KEY") or s["SECRET_KEY"], s["CRYPTOGRAPHY_SALT"], 30_000).hex()
        if aes != m["derived_keys"]["aes_key_hex"]:
            errors.append("derived django-cryptography AES key differs from the library's")

    for row in m["rows"]:
        stored_row = raw.get(row["id"], {})
        want_key = row.get("key_index", 0)
        for col, info in columns.items():
            where = f"{lib} row {row['id']} ({row['label']}) .{col}"
            expected = row["values"][col]
            stored = stored_row.get(col)
            count += 1
            try:
                if stored is None:
                    if expected is not None:
                        raise Bad(f"{where}: NULL in the database, manifest has {str(expected)[:60]!r}")
                    continue
                kind = info["kind"]
                used = None
                if kind == "search":
                    src = row["values"][info["search_of"]]
                    src_text = src if isinstance(src, str) else str(src)
                    h = "xx" + hashlib.sha256((src_text + s["HASH_KEYS"][col]).encode("utf-8")).hexdigest()
                    if not (stored == h == expected):
                        raise Bad(f"{where}: search hash mismatch")
                    continue
                if lib in ("emf", "ff"):
                    if lib == "emf" and not isinstance(stored, str):
                        raise Bad(f"{where}: emf column is not text")
                    if lib == "ff" and not isinstance(stored, bytes):
                        raise Bad(f"{where}: ff column is not binary")
                    pt, used = multi_open(keys, stored)
                    compare_text(kind, pt.decode("utf-8"), expected, notes, where)
                elif lib == "fef":
                    if kind == "json":
                        # SQLite: the JSON text; PostgreSQL: jsonb, already parsed by psycopg
                        tree = json.loads(stored) if m["backend"] == "sqlite" else stored
                        used_set = set()

                        def leaves(v):
                            if isinstance(v, dict):
                                return {k: leaves(x) for k, x in v.items()}
                            if isinstance(v, list):
                                return [leaves(x) for x in v]
                            p, i = multi_open(keys, v)
                            used_set.add(i)
                            return p.decode("utf-8")

                        got = leaves(tree)
                        if not same_json(got, expected):
                            raise Bad(f"{where}: JSON leaves {str(got)[:80]} != manifest {str(expected)[:80]}")
                        used = used_set.pop() if len(used_set) == 1 else (None if not used_set else -1)
                    else:
                        pt, used = multi_open(keys, stored)
                        compare_text(kind, pt.decode("utf-8"), expected, notes, where)
                elif lib == "cryptbase":
                    if cryptbase_open(s["CRYPTBASE_KEY_HEX"], stored) != expected:
                        raise Bad(f"{where}: cryptbase plaintext mismatch")
                elif lib == "searchable":
                    pt, used = gcm_open(s["FIELD_ENCRYPTION_KEYS"], bytes(stored))
                    compare_text(kind, pt.decode("utf-8"), expected, notes, where)
                elif lib == "cryptography":
                    value = unpickle(cryptography_open(s, bytes(stored)))
                    got = jsonable(value)
                    if not same_json(got, expected):
                        raise Bad(f"{where}: unpickled {str(got)[:80]!r} != manifest {str(expected)[:80]!r}")
                    notes.add(f"{kind}: pickled {type(value).__name__}"
                              + (f" tzinfo {type(value.tzinfo).__name__}" if isinstance(value, dt.datetime) else ""))
                if used is not None and used != want_key:
                    raise Bad(f"{where}: opened with key {used}, the row was written with key {want_key}")
            except Bad as e:
                errors.append(str(e))
            except Exception as e:  # noqa: BLE001 - report, keep going
                errors.append(f"{where}: {type(e).__name__}: {e}")
    return count, errors, notes


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            m = json.load(fh)
        try:
            n, errors, notes = check(m)
        except Exception as e:  # noqa: BLE001 - e.g. the table is gone
            n, errors, notes = 0, [f"{type(e).__name__}: {e}"], set()
        status = "OK  " if not errors else "FAIL"
        print(f"{status} {path}: {m['library']} on {m['backend']}, {n} values checked, {len(errors)} mismatches")
        for note in sorted(notes):
            print(f"       note: {note}")
        for e in errors[:30]:
            print(f"       {e}")
        failed += bool(errors)
    if SEEN_GLOBALS:
        print(f"pickle globals seen: {sorted(SEEN_GLOBALS)}; protocols {sorted(SEEN_PROTOCOLS)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
