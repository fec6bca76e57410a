"""Migrating mode: a field reads plaintext (or a legacy library's format) and fieldcrypt
envelopes while the column job converts the column, always writes envelopes, and counts what
it read. The CLI's encrypt-column / import django then finish the column online."""

import logging

import pytest
from django.db import connection

import cli
from fieldcrypt.django import migrating_reads
from testapp.models import Migrating


def insert_plain(note, count):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Migrating._meta.db_table} (note, count) VALUES (%s, %s)", [note, count]
        )


def raw_notes():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT note, count FROM {Migrating._meta.db_table} ORDER BY id")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_plaintext_column_migrates_online(caplog):
    caplog.set_level(logging.WARNING, logger="fieldcrypt.django")
    migrating_reads.clear()
    insert_plain("written before encryption", "41")
    insert_plain("", "0")
    first, second = Migrating.objects.order_by("id")
    assert (first.note, first.count) == ("written before encryption", 41)
    assert (second.note, second.count) == ("", 0)
    assert migrating_reads[("testapp.Migrating.note", "plaintext")] == 2
    assert any("migrating mode" in r.getMessage() for r in caplog.records)
    # Writes are always envelopes.
    first.count = 42
    first.save()
    new = Migrating.objects.create(note="new row", count=7)
    notes = raw_notes()
    assert notes[0][0].startswith("fc1") and notes[0][1].startswith("fc1")
    assert notes[1] == ("", "0")
    assert Migrating.objects.get(pk=new.pk).note == "new row"
    # The column job converts a text column online. (It seals what the column's SQL type holds,
    # so the integer field's text column is converted by re-saving through the model here; a
    # plaintext INTEGER column converts with encrypt-column --into a new column.)
    cli.run_ok(["encrypt-column", "--database-url", cli.database_url(), "--table",
                Migrating._meta.db_table, "--column", "note"])
    for row in Migrating.objects.all():
        row.save(update_fields=["count"])
    assert all(n.startswith("fc1") and c.startswith("fc1") for n, c in raw_notes())
    migrating_reads.clear()
    assert [(m.note, m.count) for m in Migrating.objects.order_by("id")] == [
        ("written before encryption", 42), ("", 0), ("new row", 7)]
    assert set(migrating_reads) == {("testapp.Migrating.note", "fieldcrypt"), ("testapp.Migrating.count", "fieldcrypt")}
    report = cli.run(["doctor", "--database-url", cli.database_url(), "--table", Migrating._meta.db_table])
    assert report.returncode == 0, report.stdout + report.stderr


@pytest.mark.django_db(transaction=True)
def test_plaintext_column_switches_online_while_the_app_writes():
    """The plaintext path with the app serving throughout: reads and writes through the field in
    migrating mode while encrypt-column runs; every value is what the app last wrote, as an
    envelope, and doctor is clean."""
    import random
    import subprocess
    import time

    migrating_reads.clear()
    with connection.cursor() as cursor:
        for i in range(300):
            cursor.execute(f"INSERT INTO {Migrating._meta.db_table} (note) VALUES (%s)", [f"plain {i}"])
    expected = {m.pk: m.note for m in Migrating.objects.all()}
    assert len(expected) == 300 and set(expected.values()) == {f"plain {i}" for i in range(300)}
    job = subprocess.Popen(
        [cli.binary(), "encrypt-column", "--keyring", str(cli.settings.FIELDCRYPT["KEYRING"]),
         "--master-key", str(cli.settings.FIELDCRYPT["MASTER_KEY"]), "--database-url",
         cli.database_url(), "--table", Migrating._meta.db_table, "--column", "note",
         "--batch", "10", "--rows-per-sec", "200"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    rng = random.Random(11)
    pks = list(expected)
    writes = 0
    try:
        while job.poll() is None:
            pk = rng.choice(pks)
            row = Migrating.objects.get(pk=pk)
            assert row.note == expected[pk], pk
            row.note = f"written by the app {writes}"
            row.save(update_fields=["note"])
            expected[pk] = row.note
            writes += 1
            time.sleep(0.002)
    finally:
        out = job.communicate(timeout=120)[0]
    assert job.returncode == 0, out
    assert writes > 20, f"the app wrote only {writes} times while the job ran: {out}"
    notes = [n for n, _ in raw_notes()]
    assert all(n.startswith("fc1") for n in notes)
    assert {m.pk: m.note for m in Migrating.objects.all()} == expected
    assert migrating_reads[("testapp.Migrating.note", "plaintext")] > 0
    report = cli.run(["doctor", "--database-url", cli.database_url(), "--table", Migrating._meta.db_table])
    assert report.returncode == 0, report.stdout + report.stderr


@pytest.mark.django_db
def test_a_plaintext_value_that_does_not_read_is_not_quoted_in_the_error():
    from django.core.exceptions import ValidationError

    insert_plain("note", "SSN 078-05-1120")  # not an integer, and sensitive
    with pytest.raises(ValidationError) as raised:
        list(Migrating.objects.all())
    assert "078-05-1120" not in str(raised.value)
