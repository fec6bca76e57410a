"""The path from django-encrypted-model-fields to fieldcrypt, online: the app switches its field
to fieldcrypt in migrating mode and keeps reading and writing while `fieldcrypt import django`
converts the column; at the end every value is what the app last wrote, as an envelope."""

import random
import subprocess
import threading
import time

import pytest
from django.conf import settings
from django.db import close_old_connections, connection

import cli
from fieldcrypt.django import migrating_reads
from testapp.models import ConvertedNote, LegacyNote


def raw_notes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, note FROM testapp_legacynote ORDER BY id")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_encrypted_model_fields_to_fieldcrypt_without_downtime():
    migrating_reads.clear()
    rows = LegacyNote.objects.bulk_create([LegacyNote(note=f"legacy {i}") for i in range(300)])
    assert not raw_notes()[0][1].startswith("fc1")  # a Fernet token
    expected = {r.pk: f"legacy {i}" for i, r in enumerate(LegacyNote.objects.order_by("id"))}
    # The switched field reads the library's tokens.
    assert {n.pk: n.note for n in ConvertedNote.objects.all()} == expected
    assert migrating_reads[("testapp.ConvertedNote.note", "encrypted-model-fields")] == 300

    import_cmd = [
        cli.binary(), "import", "django", "--flavor", "encrypted-model-fields",
        "--keyring", str(settings.FIELDCRYPT["KEYRING"]), "--master-key", str(settings.FIELDCRYPT["MASTER_KEY"]),
        "--database-url", cli.database_url(), "--table", "testapp_legacynote", "--column", "note",
        "--batch", "10", "--rows-per-sec", "600",
    ]
    env = {"FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY, "PATH": "/usr/bin:/bin"}
    job = subprocess.Popen(import_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    writes = 0
    errors = []
    pks = list(expected)
    rng = random.Random(7)

    # The app keeps serving while the job runs: reads and writes through the switched field.
    try:
        while job.poll() is None:
            pk = rng.choice(pks)
            row = ConvertedNote.objects.get(pk=pk)
            assert row.note == expected[pk]
            row.note = f"written by the app {writes}"
            row.save()
            expected[pk] = row.note
            writes += 1
            time.sleep(0.002)
    except Exception as e:  # keep the job's output for the report
        errors.append(e)
        job.wait(60)
    out = job.communicate(timeout=120)[0]
    assert not errors, (errors, out)
    assert job.returncode == 0, out
    assert writes > 20, f"the app wrote only {writes} times while the job ran: {out}"
    assert all(note.startswith("fc1") for _, note in raw_notes())
    assert {n.pk: n.note for n in ConvertedNote.objects.all()} == expected
    report = cli.run(["doctor", "--database-url", cli.database_url(), "--table", "testapp_legacynote"])
    assert report.returncode == 0, report.stdout + report.stderr
    assert rows
