"""Fernet interop with pyca/cryptography, the reference implementation Django libraries use.

  python tools/fernet_interop.py make N       -> JSON list of N tokens pyca made (random keys,
                                                  awkward plaintexts, some under MultiFernet lists)
  python tools/fernet_interop.py check < JSON -> decrypts tokens fieldcrypt made; prints "ok N"

Used by crates/fieldcrypt-compat/tests/fernet_interop.rs (FIELDCRYPT_TEST_PYTHON).
"""
import base64
import json
import os
import sys

from cryptography.fernet import Fernet, MultiFernet

PLAINTEXTS = [b"", b"x", "Ünïcødé ✓ 𝄞".encode(), b"\x00\xff" * 40, os.urandom(100_000), b"a" * 15, b"a" * 16, b"a" * 17]


def make(n):
    out = []
    for i in range(n):
        keys = [Fernet.generate_key().decode() for _ in range(1 + i % 3)]
        plaintext = PLAINTEXTS[i % len(PLAINTEXTS)] if i < len(PLAINTEXTS) * 2 else os.urandom(i % 300)
        # The token is made by one of the keys; MultiFernet readers must find it.
        maker = Fernet(keys[i % len(keys)].encode())
        token = maker.encrypt(plaintext).decode()
        out.append({"keys": keys, "token": token, "plaintext": base64.b64encode(plaintext).decode()})
    json.dump(out, sys.stdout)


def check():
    cases = json.load(sys.stdin)
    for case in cases:
        f = MultiFernet([Fernet(k.encode()) for k in case["keys"]])
        got = f.decrypt(case["token"].encode())
        assert got == base64.b64decode(case["plaintext"]), case["token"][:20]
    print(f"ok {len(cases)}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(int(sys.argv[2]))
    else:
        check()
