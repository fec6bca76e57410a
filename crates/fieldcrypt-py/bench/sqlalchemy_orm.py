"""SQLAlchemy ORM benchmark (not a test): 100,000 rows with three encrypted fields and one blind
index (fieldcrypt.sqlalchemy), beside the same model in plaintext, on PostgreSQL, in one run.

Inserted in batches of 1000 rows per commit, both ways a user bulk-inserts through the ORM (both
fill the blind index, through its column default):

* ``add_all``: ``session.add_all([Model(...), ...])`` then ``session.commit()`` (a flush: one
  multi-row INSERT ... RETURNING per batch);
* ``insert()``: ``session.execute(insert(Model), [dict, ...])`` then ``session.commit()`` (ORM
  bulk INSERT, no objects).

Then read back with ``session.scalars(select(Model).execution_options(yield_per=2000))``
(streamed through a server-side cursor), touching every encrypted attribute. Each model and
insert way runs in its own process, so each peak RSS is its own (it includes the 100,000 input
dicts, built before the clock starts, as in django_orm.py).

    .venv-django-py52/bin/python crates/fieldcrypt-py/bench/sqlalchemy_orm.py [--rows 100000]
        [--insert both|add_all|insert] [--profile]

``--profile`` then runs the fieldcrypt variants again under cProfile and prints the top 15
functions by tottime of the insert and of the select (those runs are not in the table).

Needs the release wheel (scripts/python-package.sh) and PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KINDS = ("plaintext", "fieldcrypt")
METHODS = ("add_all", "insert")
LABELS = {"add_all": "add_all+commit", "insert": "insert()+commit"}
BATCH = 1000
YIELD_PER = 2000


def model_for(kind: str, table: str):
    from typing import Optional

    from sqlalchemy import BigInteger, String, Text
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    if kind == "plaintext":
        attrs = {
            "email": mapped_column(String(254), index=True),
            "national_id": mapped_column(String(20)),
            "note": mapped_column(Text),
        }
        annotations = {"email": Mapped[str], "national_id": Mapped[str], "note": Mapped[str]}
    else:
        from fieldcrypt import sqlalchemy as fc

        attrs = {
            "email": mapped_column(fc.EncryptedString(254)),
            "email_index": fc.blind_index("email", normalizers=["trim", "casefold"], rows=100_000),
            "national_id": mapped_column(fc.EncryptedString(20)),
            "note": mapped_column(fc.EncryptedText()),
        }
        annotations = {"email": Mapped[str], "email_index": Mapped[Optional[int]],
                       "national_id": Mapped[str], "note": Mapped[str]}
    return type(f"Bench{kind.title()}", (Base,), {
        "__module__": __name__,
        "__tablename__": table,
        "__annotations__": {"id": Mapped[int], "name": Mapped[str], **annotations},
        "id": mapped_column(BigInteger, primary_key=True),
        "name": mapped_column(String(100)),
        **attrs,
    })


def insert_rows(engine, Model, method: str, data: list) -> None:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        for start in range(0, len(data), BATCH):
            batch = data[start:start + BATCH]
            if method == "add_all":
                session.add_all([Model(**row) for row in batch])
            else:
                session.execute(insert(Model), batch)
            session.commit()


def select_rows(engine, Model) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    total = 0
    with Session(engine) as session:
        # The yield_per execution option streams (a server-side cursor); Result.yield_per()
        # after the fact would batch the objects but buffer every row in the driver first.
        for obj in session.scalars(select(Model).execution_options(yield_per=YIELD_PER)):
            total += len(obj.email) + len(obj.national_id) + len(obj.note)
    return total


def profiled(function, *args):
    import cProfile
    import io
    import pstats

    profile = cProfile.Profile()
    result = profile.runcall(function, *args)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    return result, out.getvalue()


def run_one(kind: str, method: str, rows: int, keys: str, profile: bool) -> dict:
    from sqlalchemy import create_engine, func, select

    if kind == "fieldcrypt":
        from fieldcrypt import Keyring
        from fieldcrypt import sqlalchemy as fc

        # Opened before the clock starts, as in a running app.
        fc.configure(Keyring.open_local(os.path.join(keys, "keyring.json"), os.path.join(keys, "master.key")))
    table = f"bench_sa_{kind}_{method}_{secrets.token_hex(4)}"
    Model = model_for(kind, table)
    engine = create_engine(URL)
    Model.metadata.create_all(engine)
    reports = {}
    try:
        data = [
            {"name": f"customer {i}", "email": f"user{i}@example.org", "national_id": f"{i:09d}",
             "note": f"note {i}: " + "x" * 40}
            for i in range(rows)
        ]
        started = time.perf_counter()
        if profile:
            _, reports["insert"] = profiled(insert_rows, engine, Model, method, data)
        else:
            insert_rows(engine, Model, method, data)
        insert = time.perf_counter() - started
        del data
        insert_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with engine.connect() as conn:  # not timed: every row is there, with its index value
            count = conn.scalar(select(func.count()).select_from(Model.__table__))
            unindexed = (conn.scalar(select(func.count()).where(Model.__table__.c.email_index.is_(None)))
                         if kind == "fieldcrypt" else 0)
        started = time.perf_counter()
        if profile:
            total, reports["select"] = profiled(select_rows, engine, Model)
        else:
            total = select_rows(engine, Model)
        select_s = time.perf_counter() - started
    finally:
        Model.metadata.drop_all(engine)
        engine.dispose()
    return {"kind": kind, "method": method, "rows": count, "unindexed": unindexed,
            "insert_s": insert, "select_s": select_s, "insert_peak_rss_mib": insert_peak,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "check": total, "profile": reports}


def spawn(kind: str, method: str, rows: int, keys: str, profile: bool) -> dict:
    command = [sys.executable, __file__, "--one", kind, "--method", method, "--rows", str(rows), "--keys", keys]
    out = subprocess.run(command + (["--profile"] if profile else []), capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind}/{method} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rows"] != rows or result["unindexed"]:
        raise SystemExit(f"{kind}/{method}: {result['rows']} rows, {result['unindexed']} without an index value")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--insert", choices=("both", *METHODS), default="both",
                        help="the ORM insert way(s) to measure")
    parser.add_argument("--profile", action="store_true",
                        help="then profile the fieldcrypt insert and select (cProfile, top 15 by tottime)")
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.method, args.rows, args.keys, args.profile)))
        return
    methods = METHODS if args.insert == "both" else (args.insert,)
    keys = tempfile.mkdtemp(prefix="fieldcrypt-bench-")
    try:
        from fieldcrypt import Keyring

        Keyring.open_local(os.path.join(keys, "keyring.json"), os.path.join(keys, "master.key"))  # creates it
        results = {(kind, method): spawn(kind, method, args.rows, keys, False) for method in methods for kind in KINDS}
        checks = {r["check"] for r in results.values()}
        if len(checks) != 1:
            raise SystemExit(f"the runs read back different values: {checks}")
        print(f"SQLAlchemy ORM, PostgreSQL (psycopg 3), {args.rows} rows, 3 encrypted fields + 1 blind "
              f"index (fieldcrypt), batches of {BATCH} per commit, read streamed with yield_per={YIELD_PER}")
        print(f"{'':30}{'insert':>10}{'select':>10}{'peak RSS':>12}")
        for method in methods:
            for kind in KINDS:
                r = results[(kind, method)]
                print(f"{kind + ' ' + LABELS[method]:30}{r['insert_s']:>8.2f} s{r['select_s']:>8.2f} s"
                      f"{r['peak_rss_mib']:>8.0f} MiB")
        for method in methods:
            plain, fc = results[("plaintext", method)], results[("fieldcrypt", method)]
            print(f"fieldcrypt / plaintext, {LABELS[method] + ':':17} "
                  f"insert {fc['insert_s'] / plain['insert_s']:.2f}x (target <= 1.5x), "
                  f"select {fc['select_s'] / plain['select_s']:.2f}x (target <= 1.5x), "
                  f"peak RSS {fc['peak_rss_mib'] / plain['peak_rss_mib']:.2f}x "
                  f"(+{fc['peak_rss_mib'] - plain['peak_rss_mib']:.0f} MiB; target: beside plaintext's)")
        if args.profile:
            for n, method in enumerate(methods):
                r = spawn("fieldcrypt", method, args.rows, keys, True)
                for phase in ("insert", "select") if n == 0 else ("insert",):  # one select is enough
                    print(f"\n==== fieldcrypt {LABELS[method] if phase == 'insert' else 'select'} under "
                          f"cProfile ({r[phase + '_s']:.2f} s profiled): top 15 by tottime ====")
                    print(r["profile"][phase].strip())
    finally:
        shutil.rmtree(keys, ignore_errors=True)


if __name__ == "__main__":
    main()
