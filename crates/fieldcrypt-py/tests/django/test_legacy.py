"""The path from each Django field-encryption library to fieldcrypt, online: the app switches its
field to fieldcrypt in migrating mode and keeps reading and writing while `fieldcrypt import
django` converts the column; at the end every value is what the app last wrote, as an envelope,
and `fieldcrypt doctor` is clean.

One case per library (text values), plus a date (django-fernet-fields, a binary column) and an
integer (django-fernet-encrypted-fields, a text column). The tables: testapp.LegacyNote for
django-encrypted-model-fields, legacyapp (see its models.py) for the others.

Which venv runs which library. No venv holds all six: django-cryptography 1.1 needs Django <= 4.2,
and django-fernet-encrypted-fields and django-searchable-encrypted-fields are both the module
`encrypted_fields`. So scripts/python-django.sh runs this file in three venvs
(scripts/django-env.sh): py52 (encrypted-model-fields, fernet-fields, fernet-encrypted-fields,
cryptbase), py42 (encrypted-model-fields, cryptography) and py52s (encrypted-model-fields,
fernet-fields, cryptbase, searchable), and tells each one, in FIELDCRYPT_TEST_LEGACY, the flavors
it must run. A case whose library is not installed is skipped loudly ("SKIPPED, MISSING: ...");
under CI=true that is a failure for a flavor the venv must run (all of them when
FIELDCRYPT_TEST_LEGACY is unset), and a plain skip for the others, which another venv runs.
"""

import dataclasses
import datetime
import hashlib
import json
import os
import random
import subprocess
import time
from typing import Any, Callable, Tuple

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings

import cli
import settings as project_settings
from fieldcrypt._native import is_envelope
from fieldcrypt.django import migrating_reads
from fieldcrypt.django.fields import LEGACY_FLAVORS
from legacyapp.models import LIBRARIES, installed

ROWS = 300


def text_value(i: int) -> str:
    return f"légacy {i} ✓"


def written_text(n: int) -> str:
    return f"written by the app {n}"


def day_value(i: int) -> datetime.date:
    return datetime.date(2000, 1, 1) + datetime.timedelta(days=i)


def written_day(n: int) -> datetime.date:
    return datetime.date(2030, 1, 1) + datetime.timedelta(days=n)


@dataclasses.dataclass(frozen=True)
class Case:
    flavor: str
    kind: str  # --kind
    legacy: str  # the library's model (it creates the table)
    converted: str  # fieldcrypt's model over the same table, migrating=flavor
    column: str
    settings: Tuple[str, ...]  # the Django settings the import reads, as the operator exports them
    value: Callable[[int], Any] = text_value  # what the app wrote with the library
    written: Callable[[int], Any] = written_text  # what it writes through fieldcrypt's field
    # The app gives fieldcrypt's fields these settings in FIELDCRYPT["LEGACY"] (else they read
    # Django's settings by the same names).
    fieldcrypt_legacy: bool = False

    @property
    def id(self) -> str:
        return f"{self.flavor}-{self.kind}"


CASES = [
    Case("encrypted-model-fields", "text", "testapp.LegacyNote", "testapp.ConvertedNote", "note",
         ("FIELD_ENCRYPTION_KEY",)),
    Case("fernet-fields", "text", "legacyapp.FernetNote", "legacyapp.FernetNoteConverted", "note",
         ("FERNET_KEYS",)),
    Case("fernet-fields", "date", "legacyapp.FernetDay", "legacyapp.FernetDayConverted", "day",
         ("FERNET_KEYS",), value=day_value, written=written_day),
    Case("fernet-encrypted-fields", "text", "legacyapp.FefNote", "legacyapp.FefNoteConverted", "note",
         ("SECRET_KEY", "SALT_KEY")),
    # The library stores a falsy value as NULL: the counts start at 1.
    Case("fernet-encrypted-fields", "integer", "legacyapp.FefCount", "legacyapp.FefCountConverted",
         "count", ("SECRET_KEY", "SALT_KEY"), value=lambda i: i + 1, written=lambda n: -(10**9) - n),
    Case("cryptbase", "text", "legacyapp.CryptbaseNote", "legacyapp.CryptbaseNoteConverted", "note",
         ("CRYPTBASE_KEY",)),
    # django-cryptography replaces settings.CRYPTOGRAPHY_KEY by the key it derives from it; the
    # field reads settings.py's value from the module (test_cryptography_key_rewritten_by_the_library).
    Case("cryptography", "text", "legacyapp.CryptographyNote", "legacyapp.CryptographyNoteConverted",
         "note", ("SECRET_KEY", "CRYPTOGRAPHY_KEY")),
    Case("searchable", "text", "legacyapp.SearchableNote", "legacyapp.SearchableNoteConverted", "note",
         ("FIELD_ENCRYPTION_KEYS",)),
]


def test_every_flavor_has_a_case():
    assert {c.flavor for c in CASES} == set(LEGACY_FLAVORS) == set(LIBRARIES)


def require_library(case: Case) -> None:
    if installed(case.flavor):
        return
    dist, module = LIBRARIES[case.flavor]
    expected = os.environ.get("FIELDCRYPT_TEST_LEGACY")
    must_run = expected is None or case.flavor in expected.split(",")
    message = f"MISSING: {dist} (module {module}) for the {case.flavor} legacy path, in this venv"
    if not must_run:
        pytest.skip(f"{message}; another venv runs it (FIELDCRYPT_TEST_LEGACY={expected})")
    print("\nSKIPPED, " + message)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, which must run it (FIELDCRYPT_TEST_LEGACY={expected or 'unset: all'})")
    pytest.skip(message)


def raw_values(table: str, column: str):
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {qn('id')}, {qn(column)} FROM {qn(table)} ORDER BY {qn('id')}")
        return [(pk, bytes(v) if isinstance(v, memoryview) else v) for pk, v in cursor.fetchall()]


def legacy_settings(case: Case) -> dict:
    """The settings the case's library reads, from the project's settings module as written
    (django.conf.settings may hold what a library rewrote in place)."""
    return {name: getattr(project_settings, name) for name in case.settings}


def legacy_env(case: Case) -> dict:
    """The settings the import reads, as environment variables named as in Django (a list as a
    JSON array): what the operator exports."""
    env = {"PATH": "/usr/bin:/bin"}
    for name, value in legacy_settings(case).items():
        env[name] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_legacy_library_to_fieldcrypt_without_downtime(case: Case):
    require_library(case)
    if case.fieldcrypt_legacy:
        fieldcrypt_settings = {**project_settings.FIELDCRYPT, "LEGACY": legacy_settings(case)}
        with override_settings(FIELDCRYPT=fieldcrypt_settings):
            switch_online(case)
    else:
        switch_online(case)


def switch_online(case: Case) -> None:
    Legacy = apps.get_model(case.legacy)
    Converted = apps.get_model(case.converted)
    table = Legacy._meta.db_table
    assert Converted._meta.db_table == table and not Converted._meta.managed
    field = Converted._meta.get_field(case.column)
    migrating_reads.clear()

    # The app before the switch: the library writes the column.
    Legacy.objects.bulk_create([Legacy(**{case.column: case.value(i)}) for i in range(ROWS)])
    raw = raw_values(table, case.column)
    assert len(raw) == ROWS and not any(v is None or is_envelope(v) for _, v in raw)
    expected = {pk: case.value(i) for i, (pk, _) in enumerate(raw)}
    # The library reads its own values (the fixture is what the test thinks it is) ...
    assert {r.pk: getattr(r, case.column) for r in Legacy.objects.all()} == expected
    # ... and so does the switched field, counting them as the library's.
    assert {r.pk: getattr(r, case.column) for r in Converted.objects.all()} == expected
    assert migrating_reads[(f"{Converted._meta.label}.{field.name}", case.flavor)] == ROWS

    import_cmd = [
        cli.binary(), "import", "django", "--flavor", case.flavor, "--kind", case.kind,
        "--keyring", str(project_settings.FIELDCRYPT["KEYRING"]),
        "--master-key", str(project_settings.FIELDCRYPT["MASTER_KEY"]),
        "--database-url", cli.database_url(), "--table", table, "--column", case.column,
        "--batch", "10", "--rows-per-sec", "200",  # a second or more: an SQLite write takes ~25 ms
    ]
    started = time.monotonic()
    job = subprocess.Popen(import_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=legacy_env(case))
    writes = 0
    errors = []
    pks = list(expected)
    rng = random.Random(7)

    # The app keeps serving while the job runs: reads and writes through the switched field.
    try:
        while job.poll() is None:
            pk = rng.choice(pks)
            row = Converted.objects.get(pk=pk)
            assert getattr(row, case.column) == expected[pk], pk
            setattr(row, case.column, case.written(writes))
            row.save()
            expected[pk] = case.written(writes)
            writes += 1
            time.sleep(0.002)
    except Exception as e:  # keep the job's output for the report
        errors.append(e)
        job.wait(60)
    out = job.communicate(timeout=120)[0]
    elapsed = time.monotonic() - started
    assert not errors, (errors, out)
    assert job.returncode == 0, out
    assert writes > 20, f"the app wrote only {writes} times in the job's {elapsed:.1f}s: {out}"
    print(f"\n{case.id} on {connection.vendor}: {writes} writes by the app during the {elapsed:.1f}s job")

    # Nothing lost: every row holds what the app last wrote, and only envelopes are stored
    # (in the column's own form: text envelopes in a text column, bytes in a binary one).
    raw = raw_values(table, case.column)
    assert [pk for pk, _ in raw] == sorted(expected)
    assert all(v is not None and is_envelope(v) for _, v in raw), [v for _, v in raw if v is None or not is_envelope(v)][:3]
    assert all(isinstance(v, bytes) == (field.storage == "binary") for _, v in raw)
    assert {r.pk: getattr(r, case.column) for r in Converted.objects.all()} == expected
    report = cli.run(["doctor", "--database-url", cli.database_url(), "--table", table])
    assert report.returncode == 0, report.stdout + report.stderr


def test_cryptography_key_rewritten_by_the_library():
    """django-cryptography's AppConf (proxy = True) replaces settings.CRYPTOGRAPHY_KEY by the key
    it derives, and CRYPTOGRAPHY_SALT by its bytes, once django_cryptography is imported. The
    other flavors' readers are unaffected, and the cryptography reader takes the value
    settings.py gave (from the settings module), so it reads what the library wrote."""
    case = next(c for c in CASES if c.flavor == "cryptography")
    require_library(case)
    import pickle

    from django.conf import settings
    from django_cryptography.utils.crypto import FernetBytes

    from fieldcrypt.django import conf

    assert isinstance(settings.CRYPTOGRAPHY_KEY, bytes) and settings.CRYPTOGRAPHY_SALT == b"django-cryptography"
    conf.reset()
    conf.legacy_reader("encrypted-model-fields", "text")
    conf.legacy_reader("fernet-encrypted-fields", "integer")
    # The library encrypts under the key it derived (settings.CRYPTOGRAPHY_KEY, rewritten);
    # the reader, given settings.py's CRYPTOGRAPHY_KEY, derives the same key in Rust.
    stored = FernetBytes(settings.CRYPTOGRAPHY_KEY).encrypt(pickle.dumps("written by the library"))
    assert conf.legacy_reader("cryptography", "text").read(stored) == "written by the library"
    # Independently: the library's key is PBKDF2 of settings.py's value, not of SECRET_KEY.
    assert settings.CRYPTOGRAPHY_KEY == hashlib.pbkdf2_hmac(
        "sha256", project_settings.CRYPTOGRAPHY_KEY.encode(), b"django-cryptography", 30000, 32)
