#!/usr/bin/env python3
"""Baseline: Python `cryptography.fernet.Fernet` sealing and opening one 64-byte field.

Fernet (AES-128-CBC + HMAC-SHA-256, base64 token) is what django-encrypted-model-fields runs for
each field. This measures one field sealed and then opened, N times, on one thread, with the
same key object reused (as a web process would), after a warm-up. Each iteration encrypts
(fresh random IV and timestamp, as Fernet always does) and decrypts (HMAC check, no TTL).

Prints one line of JSON on stdout, e.g.
  {"impl":"python-fernet","field_bytes":64,"iterations":200000,"seal_open_us":9.87,
   "fields_per_s":101317,"cryptography_version":"50.0.2","python_version":"3.11.7"}

Usage: python bench/fernet_bench.py [--iterations N] [--field-bytes B]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import cryptography
from cryptography.fernet import Fernet


def main() -> int:
    ap = argparse.ArgumentParser(description="Fernet seal+open per-field benchmark")
    ap.add_argument("--iterations", type=int, default=200_000, help="timed iterations (default 200000)")
    ap.add_argument("--field-bytes", type=int, default=64, help="plaintext size (default 64)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="untimed iterations first (default: iterations/10, at most 10000)")
    args = ap.parse_args()
    if args.iterations < 1 or args.field_bytes < 0:
        ap.error("--iterations must be at least 1 and --field-bytes non-negative")
    warmup = args.warmup if args.warmup is not None else min(10_000, max(1, args.iterations // 10))

    f = Fernet(Fernet.generate_key())
    field = os.urandom(args.field_bytes)
    encrypt, decrypt = f.encrypt, f.decrypt

    # Correctness once, then warm-up.
    if decrypt(encrypt(field)) != field:
        print("fernet round trip failed", file=sys.stderr)
        return 1
    for _ in range(warmup):
        decrypt(encrypt(field))

    start = time.perf_counter()
    for _ in range(args.iterations):
        decrypt(encrypt(field))
    elapsed = time.perf_counter() - start

    per_field_us = elapsed / args.iterations * 1e6
    print(json.dumps({
        "impl": "python-fernet",
        "field_bytes": args.field_bytes,
        "iterations": args.iterations,
        "warmup": warmup,
        "elapsed_s": round(elapsed, 4),
        "seal_open_us": round(per_field_us, 3),
        "fields_per_s": round(args.iterations / elapsed),
        "cryptography_version": cryptography.__version__,
        "python_version": platform.python_version(),
    }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
