"""Rows written through fieldcrypt.sqlalchemy are read by a Rust program through
fieldcrypt-sqlx's column types as the same typed values (and blind-index values), and a row the
Rust program writes is read back here, on PostgreSQL. The Rust side:
crates/fieldcrypt-sqlx/examples/cross_language.rs (FIELDCRYPT_TEST_CROSS)."""

import datetime
import decimal
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from fieldcrypt import Keyring, KeyringError
from fieldcrypt import sqlalchemy as fc

DB = os.environ.get("FIELDCRYPT_TEST_DB", "sqlite")
UTC = datetime.timezone.utc
KEYS = Path(tempfile.mkdtemp(prefix="fieldcrypt-cross-"))
FILE_KEYRING = Keyring.open_local(str(KEYS / "keyring.json"), str(KEYS / "master.key"))


class Base(DeclarativeBase):
    pass


class Cross(Base):
    # A fixed name: the Rust program declares its columns at compile time.
    __tablename__ = "sa_cross"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    email: Mapped[str] = mapped_column(fc.EncryptedText(keyring=FILE_KEYRING))
    email_index: Mapped[Optional[int]] = fc.blind_index(
        "email", normalizers=["trim", "casefold"], rows=100_000
    )
    amount: Mapped[Optional[decimal.Decimal]] = mapped_column(
        fc.EncryptedNumeric(12, 2, keyring=FILE_KEYRING), nullable=True
    )
    moment: Mapped[Optional[datetime.datetime]] = mapped_column(
        fc.EncryptedDateTime(keyring=FILE_KEYRING), nullable=True
    )
    data: Mapped[Optional[Any]] = mapped_column(fc.EncryptedJSON(keyring=FILE_KEYRING), nullable=True)
    blob: Mapped[Optional[bytes]] = mapped_column(fc.EncryptedBinary(keyring=FILE_KEYRING), nullable=True)


def rust(mode: str) -> List[Dict[str, Any]]:
    path = os.environ.get("FIELDCRYPT_TEST_CROSS")
    if not path or not os.path.exists(path):
        message = "MISSING: the cross_language example (FIELDCRYPT_TEST_CROSS)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        print("\nSKIPPED, " + message)
        pytest.skip(message)
    env = {**os.environ, "FIELDCRYPT_MASTER_KEY": str(KEYS / "master.key")}
    out = subprocess.run(
        [path, "postgres://postgres@127.0.0.1:5432/test", str(KEYS / "keyring.json"), mode],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(DB != "postgres", reason="the cross-language test runs on PostgreSQL")
def test_sqlalchemy_rows_read_by_rust_and_a_rust_row_read_here(engine: sa.Engine) -> None:
    try:
        previous: Optional[Keyring] = fc.keyring()
    except KeyringError:
        previous = None
    fc.configure(FILE_KEYRING)  # the index's keyring: the file the Rust program opens
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add_all([
                Cross(id=1, email="Ann@Example.org", amount=decimal.Decimal("12.30"),
                      moment=datetime.datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC),
                      data={"a": [1, None]}, blob=b"\x00\xff"),
                Cross(id=2, email="", amount=None, moment=None, data=None, blob=None),
            ])
            session.commit()
        lines = [line for line in rust("read-sa") if line.pop("table") == "sa_cross"]
        assert lines == [
            {"id": 1, "email": "Ann@Example.org", "email_index": lines[0]["email_index_rust"],
             "email_index_rust": lines[0]["email_index_rust"], "amount": "12.30",
             "moment": "2024-03-31T01:30:00.123456Z", "data": {"a": [1, None]}, "blob": "00ff"},
            {"id": 2, "email": "", "email_index": lines[1]["email_index_rust"],
             "email_index_rust": lines[1]["email_index_rust"], "amount": None, "moment": None,
             "data": None, "blob": None},
        ]
        written = {line["table"]: line["id"] for line in rust("write-sa")}
        with Session(engine) as session:
            row = session.get(Cross, written["sa_cross"])
            assert row is not None
            assert (row.email, row.amount, row.moment, row.data, row.blob) == (
                "Rust@Example.org", decimal.Decimal("0.05"),
                datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), [1, "two", {"3": None}], b"rust")
            found = fc.search(session, Cross.email, "rust@example.org", iexact=True)
            assert [r.id for r in found] == [written["sa_cross"]]
    finally:
        Base.metadata.drop_all(engine)
        fc.configure(previous)
