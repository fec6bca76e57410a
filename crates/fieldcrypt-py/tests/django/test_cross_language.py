"""Rows written by Django are read by a Rust program through fieldcrypt-sqlx's column types as
the same typed values (and blind-index values), and rows the Rust program writes are read by
Django, on PostgreSQL. The Rust side: crates/fieldcrypt-sqlx/examples/cross_language.rs
(FIELDCRYPT_TEST_CROSS; scripts/python-django.sh sets it to the workspace's build)."""

import datetime
import decimal
import json
import os
import subprocess

import pytest
from django.conf import settings
from django.db import connection

import cli
from testapp.models import Bound, Customer, Everything

UTC = datetime.timezone.utc


def rust(mode):
    path = os.environ.get("FIELDCRYPT_TEST_CROSS")
    if not path or not os.path.exists(path):
        message = "MISSING: the cross_language example (FIELDCRYPT_TEST_CROSS)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        print("\nSKIPPED, " + message)
        pytest.skip(message)
    env = {**os.environ, "FIELDCRYPT_MASTER_KEY": str(settings.FIELDCRYPT["MASTER_KEY"])}
    out = subprocess.run(
        [path, cli.database_url(), str(settings.FIELDCRYPT["KEYRING"]), mode],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def rfc3339(moment):
    """A timestamp as Rust's Timestamp prints it: UTC, fraction without trailing zeros."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def shown(obj):
    """What the Rust program prints for a Django row."""
    def opt(v, f=lambda x: x):
        return None if v is None else f(v)
    return {
        "char": obj.char, "char_binary": obj.char_binary, "text": obj.text,
        "integer": obj.integer, "big": obj.big, "boolean": obj.boolean, "floating": obj.floating,
        "amount": opt(obj.amount, str), "day": opt(obj.day, datetime.date.isoformat),
        "moment": opt(obj.moment, rfc3339), "data": obj.data,
        "blob": opt(obj.blob, bytes.hex), "blob_text": opt(obj.blob_text, bytes.hex),
    }


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the cross-language test runs on PostgreSQL (the issue's database for it)")


@pytest.mark.django_db(transaction=True)
def test_django_rows_read_by_rust_and_rust_rows_read_by_django():
    rows = [
        Everything.objects.create(
            char="Zoë 😀", char_binary="1234-5678", text="a" * 100_000, integer=-(2**31), big=2**63 - 1,
            boolean=True, floating=1e300, amount=decimal.Decimal("-12.30"),
            day=datetime.date(2024, 2, 29),
            moment=datetime.datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC),
            data={"a": [1, 2.5, None, {"b": "c"}], "é": True}, blob=b"\x00\xff", blob_text=b"",
        ),
        Everything.objects.create(char="", integer=0, boolean=False, floating=0.0, data=[]),
        Everything.objects.create(),
    ]
    ann = Customer.objects.create(name="ann", email="Ann@Example.org", national_id="123-45-6789")
    bound = Bound.objects.create(secret="only in its row")

    seen = rust("read-django")
    by_table = {}
    for line in seen:
        by_table.setdefault(line.pop("table"), []).append(line)
    assert len(by_table["everything"]) == 3
    for obj, line in zip(rows, by_table["everything"]):
        assert line.pop("id") == obj.pk
        assert line == shown(Everything.objects.get(pk=obj.pk))
    [customer] = by_table["customer"]
    assert customer["email"] == "Ann@Example.org" and customer["national_id"] == "123-45-6789"
    assert customer["email_index"] == customer["email_index_rust"]
    assert customer["national_id_index"] == customer["national_id_index_rust"]
    assert by_table["bound"] == [{"id": str(bound.pk), "secret": "only in its row"}]

    written = {line["table"]: line["id"] for line in rust("write-django")}
    from_rust = Everything.objects.get(pk=written["everything"])
    assert shown(from_rust) == {
        "char": "from Rust ✓", "char_binary": "binary from Rust", "text": "", "integer": -42,
        "big": -(2**63), "boolean": False, "floating": -0.5, "amount": "-1234.50",
        "day": "2024-02-29", "moment": "2024-03-31T01:30:00.123456Z",
        "data": {"nested": [1, 2.5, None, {"k": "v"}], "ok": True}, "blob": "0001 02ff".replace(" ", ""),
        "blob_text": "fc00",
    }
    assert type(from_rust.amount) is decimal.Decimal and from_rust.moment.tzinfo is not None
    # Rust's blind-index values find the row from Django: the exact index through filter(),
    # the truncated one through search().
    rust_customer = Customer.objects.get(pk=written["customer"])
    assert list(Customer.objects.filter(national_id="555-12-3456")) == [rust_customer]
    assert Customer.objects.search(email__iexact="rust@example.org") == [rust_customer]
    assert Customer.objects.search(email="Ann@Example.org") == [ann]
    assert Bound.objects.get(pk=written["bound"]).secret == "sealed by Rust"
