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
  stream-kat             streams resealed and opened              testdata/vectors/stream.json
  stream-negative        every damaged stream fails with its class testdata/vectors/stream.json
  counts                 every file's count and counts members    testdata/vectors/*.json

The last line is "N passed, M failed"; the exit status is 1 on any failure. On failure only the
vector's name and which check failed are printed, never keys, plaintexts or envelopes.

Usage: python tools/verify_vectors.py [--root REPO] [--quick]
   or: python -m verify_vectors [--root REPO] [--quick]   (from tools/)

The modules, one per concern: primitives (XAES, KC-XAES, CMAC), json_rules (RFC 8259),
envelope (envelope, context, typed plaintext), negative, blind_index (and the normalisers),
keyring (document, MAC, provider level, master-key files, Argon2id settings), counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from .blind_index import blind_index_cases, normalizer_list_cases
from .counts import count_cases
from .envelope import context_limit_cases, envelope_cases, json_payload_cases
from .keyring import (
    argon2id_cases,
    keyring_cases,
    keyring_provider_cases,
    keyring_text_cases,
    master_key_file_cases,
)
from .negative import negative_cases
from .primitives import ACCUMULATED_10K, accumulated_check, xaes_kat_cases
from .stream import stream_cases, stream_negative_cases


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
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
        stream = load("testdata/vectors/stream.json")
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
    report.suite("stream-kat", stream_cases(stream))
    report.suite("stream-negative", stream_negative_cases(stream))
    report.suite("counts", count_cases(envelope, negative, blind, keyring, stream))

    print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
