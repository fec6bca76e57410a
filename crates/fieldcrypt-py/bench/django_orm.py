"""Django ORM benchmark (not a test): 100,000 rows with three encrypted fields and one blind
index, inserted with bulk_create and read back by iterating the queryset, beside the same model
in plaintext and beside django-encrypted-model-fields, on PostgreSQL, in one run. Each model runs
in its own process, so each peak RSS is its own.

    .venv-django-py52/bin/python crates/fieldcrypt-py/bench/django_orm.py [--rows 100000]

Needs the release wheel (scripts/python-package.sh) and PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

KINDS = ("plaintext", "fieldcrypt", "encrypted-model-fields")


def setup(kind: str, keys: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        SECRET_KEY="bench-only",
        INSTALLED_APPS=["django.contrib.contenttypes", "fieldcrypt.django"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "test",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": "5432",
            }
        },
        FIELDCRYPT={"KEYRING": os.path.join(keys, "keyring.json"), "CREATE": True,
                    "MASTER_KEY": os.path.join(keys, "master.key")},
        FIELD_ENCRYPTION_KEY="Nmn8NNdnl2W1tAMC-nFBVpm2v9ahpyItbeiBW65gKlk=",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def model_for(kind: str):
    from django.db import models

    class Meta:
        app_label = "bench"
        db_table = f"bench_{kind.replace('-', '_')}"

    if kind == "plaintext":
        attrs = {
            "email": models.EmailField(max_length=254, db_index=True),
            "national_id": models.CharField(max_length=20),
            "note": models.TextField(),
        }
    elif kind == "fieldcrypt":
        import fieldcrypt.django as fd

        attrs = {
            "email": fd.EncryptedEmailField(max_length=254),
            "email_index": fd.BlindIndexField(source="email", normalizers=["trim", "casefold"], rows=100_000),
            "national_id": fd.EncryptedCharField(max_length=20),
            "note": fd.EncryptedTextField(),
            "objects": fd.EncryptedManager(),
        }
    else:
        from encrypted_model_fields import fields as emf

        attrs = {
            "email": emf.EncryptedEmailField(max_length=254),
            "national_id": emf.EncryptedCharField(max_length=20),
            "note": emf.EncryptedTextField(),
        }
    return type(f"Bench{kind.title().replace('-', '')}", (models.Model,), {
        "__module__": __name__, "Meta": Meta, "name": models.CharField(max_length=100), **attrs})


def run_one(kind: str, rows: int, keys: str) -> dict:
    setup(kind, keys)
    from django.db import connection

    Model = model_for(kind)
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {Model._meta.db_table}")
        editor.create_model(Model)
    if kind == "fieldcrypt":
        import fieldcrypt.django as fd

        fd.keyring()  # opened (and created) before the clock starts, as in a running app
    objs = [
        Model(name=f"customer {i}", email=f"user{i}@example.org", national_id=f"{i:09d}",
              note=f"note {i}: " + "x" * 40)
        for i in range(rows)
    ]
    started = time.perf_counter()
    Model.objects.bulk_create(objs, batch_size=1000)
    insert = time.perf_counter() - started
    del objs
    started = time.perf_counter()
    total = 0
    for obj in Model.objects.all().iterator(chunk_size=2000):
        total += len(obj.email) + len(obj.national_id) + len(obj.note)
    select = time.perf_counter() - started
    with connection.schema_editor() as editor:
        editor.delete_model(Model)
    return {"kind": kind, "rows": rows, "insert_s": insert, "select_s": select,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "check": total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--one", choices=KINDS)
    parser.add_argument("--keys")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.rows, args.keys)))
        return
    keys = tempfile.mkdtemp(prefix="fieldcrypt-bench-")
    results = {}
    try:
        for kind in KINDS:
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--rows", str(args.rows), "--keys", keys],
                                 check=True, capture_output=True, text=True)
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(keys, ignore_errors=True)
    plain = results["plaintext"]
    print(f"Django ORM, PostgreSQL, {args.rows} rows, 3 encrypted fields + 1 blind index (fieldcrypt)")
    print(f"{'':26}{'bulk_create':>14}{'iterate':>14}{'peak RSS':>12}")
    for kind in KINDS:
        r = results[kind]
        print(f"{kind:26}{r['insert_s']:>12.2f} s{r['select_s']:>12.2f} s{r['peak_rss_mib']:>8.0f} MiB")
    fc, emf = results["fieldcrypt"], results["encrypted-model-fields"]
    print(f"fieldcrypt / plaintext:    insert {fc['insert_s'] / plain['insert_s']:.2f}x (target <= 1.5x), "
          f"select {fc['select_s'] / plain['select_s']:.2f}x (target <= 1.5x)")
    print(f"encrypted-model-fields / fieldcrypt: select {emf['select_s'] / fc['select_s']:.2f}x faster "
          f"(target >= 6x), insert {emf['insert_s'] / fc['insert_s']:.2f}x")


if __name__ == "__main__":
    main()
