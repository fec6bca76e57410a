#!/usr/bin/env python3
"""Baseline: the Django ORM on PostgreSQL, plaintext vs django-encrypted-model-fields (Fernet).

What a Django app pays today for field-level encryption, end to end through the ORM, to set
beside fieldcrypt's Rust numbers. One process, one connection, one thread.

Workload (fixed; change it only together with whatever it is compared with):

  Tables, dropped and created fresh each run (and dropped again at the end):
    bench_dj_plain_customers  id bigint identity pk, name text, email text, notes text,
                              email_idx bigint; b-tree indexes on email_idx and on email
    bench_dj_enc_customers    the same columns, but name and email are EncryptedCharField and
                              notes is EncryptedTextField (each stored as a Fernet token in a
                              text column); b-tree index on email_idx only
  email_idx is a blind index computed in Python, since the library has none:
    int.from_bytes(HMAC-SHA256(index_key, email.strip().lower())[:8], "big", signed=True) & 0xFFFF
  i.e. 16 bits, so each value is shared by about rows/65536 emails. The plaintext table carries
  it too, so both tables pay the same HMAC on insert.
  Rows i = 0..N-1 (default N = 100000): name "Customer 000123", email
  "customer000123@example.org", notes a ~100-character sentence containing the number.
  Fernet key (FIELD_ENCRYPTION_KEY) and index key are random per run.

  insert  model instances built (with email_idx) and saved with bulk_create(batch_size=1000),
          one transaction.atomic() per batch of 1000; rows/s over all N rows.
  select  every row through .iterator(chunk_size=2000), touching name, email and notes (so every
          encrypted field is decrypted); the summed lengths are checked against the expected ones.
  lookup  1000 lookups of emails spread over the table. Plaintext: filter(email=...).
          Encrypted: filter(email_idx=blind_index(email)), then each candidate's decrypted email
          compared in Python; exactly one must match. lookups/s.

  After each insert the table is VACUUM ANALYZEd, untimed, so select and lookup see a table in
  steady state (hint bits set, statistics present) rather than one just bulk-loaded.
  Once, after the encrypted insert, a raw cursor checks that the stored columns are Fernet
  tokens ("gAAAAA...") and not the plaintext: the library silently returns undecryptable values
  as they are, so reading through the ORM alone would not catch a plaintext column.

Prints a table (to stdout; to stderr with --json) and, with --json, one line of JSON on stdout:
  {"rows":100000,"django":"5.2.19","library":"django-encrypted-model-fields 0.6.5",
   "plain":{"insert_rows_per_s":...,"select_rows_per_s":...,"lookups_per_s":...},
   "encrypted":{...},"psycopg":"3.3.9","cryptography":"50.0.2","postgresql":"15.20",
   "python":"3.11.7"}

Usage: python bench/django_bench.py [--rows N] [--json] [--database-url URL]
The database URL defaults to $FIELDCRYPT_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import sys
import time
import urllib.parse
from importlib.metadata import version

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
PLAIN_TABLE = "bench_dj_plain_customers"
ENC_TABLE = "bench_dj_enc_customers"
BATCH_SIZE = 1000
CHUNK_SIZE = 2000
LOOKUPS = 1000
INDEX_MASK = 0xFFFF
FERNET_PREFIX = "gAAAAA"


def parse_database_url(url: str) -> dict:
    """Django DATABASES entry for postgres://user[:password]@host[:port]/dbname."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise ValueError(f"expected postgres://user@host:port/dbname, got {url!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": urllib.parse.unquote(parts.path.lstrip("/")),
        "USER": urllib.parse.unquote(parts.username or ""),
        "PASSWORD": urllib.parse.unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def setup_django(database: dict) -> None:
    import django
    from cryptography.fernet import Fernet
    from django.conf import settings

    settings.configure(
        # DEBUG stays False: with it Django keeps every query in memory.
        DEBUG=False,
        DATABASES={"default": database},
        # Models below name their app_label explicitly, so no app has to be installed.
        INSTALLED_APPS=[],
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        USE_TZ=True,
    )
    django.setup()


def define_models():
    # encrypted_model_fields builds its Fernet object at import time from the settings, so this
    # import (and the models using it) must come after setup_django().
    from django.db import models
    from encrypted_model_fields.fields import EncryptedCharField, EncryptedTextField

    class PlainCustomer(models.Model):
        id = models.BigAutoField(primary_key=True)
        name = models.TextField()
        email = models.TextField()
        notes = models.TextField()
        email_idx = models.BigIntegerField()

        class Meta:
            app_label = "django_bench"
            db_table = PLAIN_TABLE
            # Meta.indexes rather than db_index=True: on PostgreSQL db_index on a text field
            # also adds a second, text_pattern_ops index, which would tax the plaintext insert.
            indexes = [
                models.Index(fields=["email_idx"], name="bench_dj_plain_email_idx"),
                models.Index(fields=["email"], name="bench_dj_plain_email"),
            ]

    class EncryptedCustomer(models.Model):
        id = models.BigAutoField(primary_key=True)
        name = EncryptedCharField(max_length=100)
        email = EncryptedCharField(max_length=100)
        notes = EncryptedTextField()
        email_idx = models.BigIntegerField()

        class Meta:
            app_label = "django_bench"
            db_table = ENC_TABLE
            indexes = [models.Index(fields=["email_idx"], name="bench_dj_enc_email_idx")]

    return PlainCustomer, EncryptedCustomer


def normalize_email(email: str) -> str:
    return email.strip().lower()


def blind_index(key: bytes, email: str) -> int:
    digest = hmac.new(key, normalize_email(email).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True) & INDEX_MASK


def customer(i: int) -> tuple[str, str, str]:
    n = f"{i:06d}"
    return (
        f"Customer {n}",
        f"customer{n}@example.org",
        f"Customer {n} asked for a copy of invoice {n} and prefers to be contacted by email in the morning.",
    )


def lookup_targets(rows: int) -> list[str]:
    return [customer(k * rows // LOOKUPS)[1] for k in range(LOOKUPS)]


def recreate_tables(model_classes) -> None:
    from django.db import connection

    drop_tables()
    with connection.schema_editor() as editor:
        for model in model_classes:
            editor.create_model(model)


def drop_tables() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}, {ENC_TABLE}")


def vacuum_analyze(model) -> None:
    from django.db import connection

    # Django runs in autocommit outside atomic(), as VACUUM requires.
    with connection.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def bench_insert(model, rows: int, index_key: bytes) -> float:
    from django.db import transaction

    start = time.perf_counter()
    for first in range(0, rows, BATCH_SIZE):
        objs = []
        for i in range(first, min(first + BATCH_SIZE, rows)):
            name, email, notes = customer(i)
            objs.append(model(name=name, email=email, notes=notes,
                              email_idx=blind_index(index_key, email)))
        with transaction.atomic():
            model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
    return time.perf_counter() - start


def check_stored_encrypted(model) -> None:
    from django.db import connection

    name, email, notes = customer(0)
    with connection.cursor() as cur:
        cur.execute(f"SELECT name, email, notes FROM {model._meta.db_table} ORDER BY id LIMIT 1")
        stored = cur.fetchone()
    for column, plain, raw in zip(("name", "email", "notes"), (name, email, notes), stored):
        if raw == plain or not raw.startswith(FERNET_PREFIX):
            raise AssertionError(f"{column} is not stored as a Fernet token: {raw[:40]!r}")
    if model.objects.order_by("id").first().email != email:
        raise AssertionError("the ORM did not decrypt the stored email")


def bench_select(model, expected_chars: int, rows: int) -> float:
    start = time.perf_counter()
    count = chars = 0
    for obj in model.objects.iterator(chunk_size=CHUNK_SIZE):
        chars += len(obj.name) + len(obj.email) + len(obj.notes)
        count += 1
    elapsed = time.perf_counter() - start
    if count != rows or chars != expected_chars:
        raise AssertionError(f"select read {count} rows and {chars} characters, "
                             f"expected {rows} and {expected_chars}")
    return elapsed


def bench_lookup_plain(model, targets: list[str]) -> float:
    start = time.perf_counter()
    for email in targets:
        found = list(model.objects.filter(email=email))
        if len(found) != 1:
            raise AssertionError(f"{email}: {len(found)} rows")
    return time.perf_counter() - start


def bench_lookup_encrypted(model, targets: list[str], index_key: bytes) -> tuple[float, float]:
    """Elapsed seconds and the mean number of candidate rows the index returned per lookup."""
    start = time.perf_counter()
    candidates = 0
    for email in targets:
        wanted = normalize_email(email)
        rows = list(model.objects.filter(email_idx=blind_index(index_key, email)))
        candidates += len(rows)
        found = [c for c in rows if normalize_email(c.email) == wanted]
        if len(found) != 1:
            raise AssertionError(f"{email}: {len(found)} matches among {len(rows)} candidates")
    return time.perf_counter() - start, candidates / len(targets)


def run(rows: int) -> tuple[dict, float]:
    """Per-table throughputs, and the encrypted lookups' mean candidate count."""
    plain_model, enc_model = define_models()
    index_key = os.urandom(32)
    expected_chars = sum(sum(map(len, customer(i))) for i in range(rows))
    targets = lookup_targets(rows)
    results = {}
    recreate_tables((plain_model, enc_model))
    try:
        insert_s = bench_insert(plain_model, rows, index_key)
        vacuum_analyze(plain_model)
        select_s = bench_select(plain_model, expected_chars, rows)
        lookup_s = bench_lookup_plain(plain_model, targets)
        results["plain"] = throughputs(rows, insert_s, select_s, lookup_s)

        insert_s = bench_insert(enc_model, rows, index_key)
        check_stored_encrypted(enc_model)
        vacuum_analyze(enc_model)
        select_s = bench_select(enc_model, expected_chars, rows)
        lookup_s, candidates = bench_lookup_encrypted(enc_model, targets, index_key)
        results["encrypted"] = throughputs(rows, insert_s, select_s, lookup_s)
    finally:
        drop_tables()
    return results, candidates


def throughputs(rows: int, insert_s: float, select_s: float, lookup_s: float) -> dict:
    return {
        "insert_rows_per_s": round(rows / insert_s),
        "select_rows_per_s": round(rows / select_s),
        "lookups_per_s": round(LOOKUPS / lookup_s),
    }


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()[0].split()[0]


def format_table(report: dict, candidates: float) -> str:
    lines = [
        f"{report['library']}, Django {report['django']}, psycopg {report['psycopg']}, "
        f"cryptography {report['cryptography']}, PostgreSQL {report['postgresql']}, "
        f"Python {report['python']}; {report['rows']} rows",
        f"{'':<18}{'plain':>12}{'encrypted':>12}{'enc/plain':>11}",
    ]
    for key, label in (("insert_rows_per_s", "insert rows/s"),
                       ("select_rows_per_s", "select rows/s"),
                       ("lookups_per_s", "lookups/s")):
        plain, enc = report["plain"][key], report["encrypted"][key]
        lines.append(f"{label:<18}{plain:>12,}{enc:>12,}{enc / plain:>10.0%}")
    lines.append(f"encrypted lookups: {candidates:.2f} candidate rows decrypted per lookup "
                 f"({INDEX_MASK.bit_length()}-bit blind index)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description="Django ORM: plaintext vs django-encrypted-model-fields")
    ap.add_argument("--rows", type=int, default=100_000, help="rows per table (default 100000)")
    ap.add_argument("--json", action="store_true",
                    help="one line of JSON on stdout (the table goes to stderr)")
    ap.add_argument("--database-url",
                    default=os.environ.get("FIELDCRYPT_BENCH_PG_URL", DEFAULT_DATABASE_URL),
                    help="postgres://user@host:port/dbname (default: $FIELDCRYPT_BENCH_PG_URL, "
                         f"else {DEFAULT_DATABASE_URL})")
    args = ap.parse_args()
    if args.rows < 1:
        ap.error("--rows must be at least 1")
    try:
        database = parse_database_url(args.database_url)
    except ValueError as e:
        ap.error(str(e))

    setup_django(database)
    results, candidates = run(args.rows)
    report = {
        "rows": args.rows,
        "django": version("django"),
        "library": f"django-encrypted-model-fields {version('django-encrypted-model-fields')}",
        **results,
        "psycopg": version("psycopg"),
        "cryptography": version("cryptography"),
        "postgresql": server_version(),
        "python": platform.python_version(),
    }
    table = format_table(report, candidates)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(report, separators=(",", ":")))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
