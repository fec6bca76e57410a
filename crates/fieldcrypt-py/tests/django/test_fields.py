"""Round trips of every encrypted field type, on the database FIELDCRYPT_TEST_DB names, and what
the raw column holds."""

import datetime
import decimal
import json
import warnings
from pathlib import Path

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value

from fieldcrypt import CannotOpen
from fieldcrypt.django import keyring
from testapp.models import Bound, Customer, Everything, Order, Renamed

pytestmark = pytest.mark.django_db

UTC = datetime.timezone.utc


def raw(model, column, pk):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} "
            f"WHERE id = %s",
            [pk],
        )
        value = cursor.fetchone()[0]
    return bytes(value) if isinstance(value, memoryview) else value


def write_raw(model, column, pk, value):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET {connection.ops.quote_name(column)} = %s "
            f"WHERE id = %s",
            [value, pk],
        )


VALUES = {
    "char": ["", "ann", "Zoë 😀", "x" * 50],
    "char_binary": ["", "1234-5678"],
    "text": ["", "a" * (1 << 20), "line\nbreak\u0000nul"],
    "email": ["ann@example.org"],
    "integer": [0, -1, 2**31 - 1, -(2**31)],
    "big": [0, 2**63 - 1, -(2**63)],
    "small": [0, -32768, 32767],
    "positive": [0, 2**31 - 1],
    "boolean": [False, True],
    "floating": [0.0, -1.5, 1e300, 5e-324],
    "amount": [decimal.Decimal("0.00"), decimal.Decimal("-12.30"), decimal.Decimal("9999999999.99")],
    "day": [datetime.date(1, 1, 1), datetime.date(2024, 2, 29), datetime.date(9999, 12, 31)],
    "moment": [
        datetime.datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC),
        datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    ],
    "data": [{"a": [1, 2.5, None, {"b": "c"}], "é": True}, [], "just a string", 0, False],
    "blob": [b"", b"\x00\xff" * 10],
    "blob_text": [b"", b"\xfc\x01binary in a text column"],
}


@pytest.mark.parametrize(
    "field,value", [(f, v) for f, values in VALUES.items() for v in values], ids=repr
)
def test_round_trip(field, value):
    row = Everything.objects.create(**{field: value})
    again = Everything.objects.get(pk=row.pk)
    got = getattr(again, field)
    assert got == value
    assert type(got) is type(value)
    if field == "amount":
        assert got.as_tuple().exponent == -2
    if field == "moment":
        assert got.utcoffset() == datetime.timedelta(0)
    stored = raw(Everything, field, row.pk)
    assert stored is not None
    field_obj = Everything._meta.get_field(field)
    if field_obj.storage == "text":
        assert isinstance(stored, str) and stored.startswith("fc1")
    else:
        assert isinstance(stored, bytes) and stored[0] == 0xFC
    if isinstance(value, str) and len(value) >= 3:
        as_bytes = stored.encode() if isinstance(stored, str) else stored
        assert value.encode() not in as_bytes


def test_null_stays_null_and_empty_values_are_sealed():
    row = Everything.objects.create(char="", integer=0, boolean=False)
    for column in ("text", "email", "big", "moment", "data", "blob"):
        assert raw(Everything, column, row.pk) is None
    for column in ("char", "integer", "boolean"):
        assert raw(Everything, column, row.pk).startswith("fc1")
    again = Everything.objects.get(pk=row.pk)
    assert (again.char, again.integer, again.boolean, again.text) == ("", 0, False, None)


def test_values_are_sealed_at_the_fields_scale_and_range():
    row = Everything.objects.create(amount=decimal.Decimal("1.5"))
    assert Everything.objects.get(pk=row.pk).amount.as_tuple() == decimal.Decimal("1.50").as_tuple()
    with pytest.raises(ValidationError):
        Everything.objects.create(integer=2**31)
    with pytest.raises(ValidationError):
        Everything.objects.create(positive=-1)
    with pytest.raises(ValidationError):
        Everything.objects.create(amount=decimal.Decimal("12345678901.00"))
    with pytest.raises(ValidationError):
        Everything.objects.create(boolean="maybe")


def test_naive_datetime_is_taken_in_the_current_zone_as_django_does():
    naive = datetime.datetime(2024, 7, 1, 12, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = Everything.objects.create(moment=naive)
    assert any("naive datetime" in str(w.message) for w in caught)
    got = Everything.objects.get(pk=row.pk).moment
    # Europe/Paris in July is UTC+2.
    assert got == datetime.datetime(2024, 7, 1, 10, 0, tzinfo=UTC)


def test_a_value_copied_to_another_row_or_column_does_not_open():
    a = Everything.objects.create(char="alpha", text="beta")
    b = Everything.objects.create(char="gamma")
    # Another column of the same row: the context names the column.
    write_raw(Everything, "text", a.pk, raw(Everything, "char", a.pk))
    with pytest.raises(CannotOpen):
        Everything.objects.get(pk=a.pk)
    # Unbound fields open in another row (same table and column) by design; bound ones do not.
    x = Bound.objects.create(secret="mine")
    y = Bound.objects.create(secret="yours")
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Bound._meta.db_table)
        cursor.execute(f"SELECT secret FROM {table} WHERE id = %s", [x.pk.hex if connection.vendor != "postgresql" else x.pk])
        envelope = cursor.fetchone()[0]
        cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [envelope, y.pk.hex if connection.vendor != "postgresql" else y.pk])
    assert Bound.objects.get(pk=x.pk).secret == "mine"
    with pytest.raises(CannotOpen):
        Bound.objects.get(pk=y.pk).secret
    assert Everything.objects.get(pk=b.pk).char == "gamma"


def test_a_tampered_value_raises_on_its_row_only():
    rows = [Everything.objects.create(char=f"value {i}") for i in range(3)]
    stored = raw(Everything, "char", rows[1].pk)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    write_raw(Everything, "char", rows[1].pk, flipped)
    with pytest.raises(CannotOpen):
        Everything.objects.get(pk=rows[1].pk)
    assert Everything.objects.get(pk=rows[0].pk).char == "value 0"
    assert Everything.objects.get(pk=rows[2].pk).char == "value 2"


def test_renamed_model_keeps_its_context():
    row = Renamed.objects.create(note="kept")
    assert Renamed.objects.get(pk=row.pk).note == "kept"
    envelope = raw(Renamed, "note", row.pk)
    assert keyring().open("testapp_oldname", "note", envelope) == "kept"
    with pytest.raises(CannotOpen):
        keyring().open(Renamed._meta.db_table, "note", envelope)


def test_row_binding():
    row = Bound.objects.create(secret="s3cret")
    assert Bound.objects.get(pk=row.pk).secret == "s3cret"
    envelope = raw_bound(row.pk)
    assert keyring().open(Bound._meta.db_table, "secret", envelope, row=str(row.pk)) == "s3cret"
    with pytest.raises(CannotOpen):
        keyring().open(Bound._meta.db_table, "secret", envelope)
    with pytest.raises(FieldError, match="bound to its row"):
        Bound.objects.filter(pk=row.pk).update(secret="x")
    [value] = Bound.objects.values_list("secret", flat=True)
    assert value.open(row=row.pk) == "s3cret"
    with pytest.raises(FieldError):
        value == "s3cret"
    loaded = Bound.objects.get(pk=row.pk)
    loaded.secret = "changed"
    loaded.save()
    assert Bound.objects.get(pk=row.pk).secret == "changed"


def raw_bound(pk):
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Bound._meta.db_table)
        cursor.execute(f"SELECT secret FROM {table} WHERE id = %s", [pk.hex if connection.vendor != "postgresql" else pk])
        return cursor.fetchone()[0]


def test_bulk_create_bulk_update_update_values_only_defer_iterator():
    rows = Everything.objects.bulk_create(
        [Everything(char=f"c{i}", integer=i, data={"i": i}) for i in range(20)]
    )
    pks = [r.pk for r in Everything.objects.filter(plain=0)]
    assert sorted(Everything.objects.values_list("integer", flat=True)) == list(range(20))
    objs = list(Everything.objects.filter(pk__in=pks))
    for o in objs:
        o.char = o.char.upper()
    Everything.objects.bulk_update(objs, ["char"])
    assert sorted(Everything.objects.values_list("char", flat=True)) == sorted(f"C{i}" for i in range(20))
    Everything.objects.filter(pk__in=pks).update(text="same for all", plain=1)
    assert set(Everything.objects.values_list("text", flat=True)) == {"same for all"}
    assert {d["data"]["i"] for d in Everything.objects.values("data")} == set(range(20))
    only = Everything.objects.only("char").get(pk=pks[0])
    assert only.integer == 0 and only.char == "C0"
    deferred = Everything.objects.defer("data").get(pk=pks[3])
    assert deferred.data == {"i": 3}
    assert sum(1 for _ in Everything.objects.iterator(chunk_size=7)) == 20
    with pytest.raises(FieldError, match="with an expression"):
        Everything.objects.update(text=F("char"))
    Everything.objects.filter(pk=pks[0]).update(text=Value("via Value"))
    assert Everything.objects.get(pk=pks[0]).text == "via Value"
    assert rows


def test_select_related_and_async():
    from asgiref.sync import async_to_sync

    customer = Customer.objects.create(name="n", email="n@example.org")
    Order.objects.create(customer=customer, note="deliver at noon")
    order = Order.objects.select_related("customer").get()
    assert (order.note, order.customer.email) == ("deliver at noon", "n@example.org")

    async def read():
        found = await Order.objects.select_related("customer").aget()
        return found.note, found.customer.email

    assert async_to_sync(read)() == ("deliver at noon", "n@example.org")


def test_dumpdata_loaddata(tmp_path: Path):
    Everything.objects.create(char="dumped", amount=decimal.Decimal("3.10"), blob=b"\x01\x02", data={"k": [1]}, moment=datetime.datetime(2020, 1, 1, tzinfo=UTC))
    out = tmp_path / "dump.json"
    call_command("dumpdata", "testapp.Everything", output=str(out))
    Everything.objects.all().delete()
    call_command("loaddata", str(out))
    row = Everything.objects.get()
    assert (row.char, row.amount, row.blob, row.data) == ("dumped", decimal.Decimal("3.10"), b"\x01\x02", {"k": [1]})
    assert raw(Everything, "char", row.pk).startswith("fc1")
    assert json.loads(out.read_text())[0]["fields"]["char"] == "dumped"


def test_bulk_create_seals_in_batches_in_one_transaction():
    rows = [Everything(char=f"row {i}", integer=i) for i in range(2500)]
    Everything.objects.bulk_create(rows)
    assert Everything.objects.count() == 2500
    assert sorted(Everything.objects.values_list("integer", flat=True)) == list(range(2500))
    assert all(raw(Everything, "char", r.pk).startswith("fc1") for r in Everything.objects.all()[:5])


@pytest.mark.django_db(transaction=True)
def test_bulk_create_is_one_transaction_across_its_batches():
    # Autocommit (no test transaction around it): a row the database refuses in the third
    # batch leaves nothing of the call written, as Django's own bulk_create.
    bad = [Everything(char="x", integer=i) for i in range(2500)]
    bad[2200].plain = None  # NOT NULL
    with pytest.raises(IntegrityError):
        Everything.objects.bulk_create(bad)
    assert Everything.objects.count() == 0


def test_expressions_are_never_sealed_as_text_nor_written_as_plaintext():
    from django.db.models import F as F_, Value as V_
    from django.db.models.functions import Lower

    row = Everything.objects.create(char="a", text="b")
    row.text = V_("via an instance Value")
    row.save()
    assert Everything.objects.get(pk=row.pk).text == "via an instance Value"
    row.text = Lower("char")
    with pytest.raises(FieldError, match="expression"), transaction.atomic():
        row.save()
    other = Everything.objects.get(pk=row.pk)
    other.text = F_("char")
    with pytest.raises(FieldError, match="expression"):
        Everything.objects.bulk_update([other], ["text"])
    other.text = V_("bulk Value")
    Everything.objects.bulk_update([other], ["text"])
    assert Everything.objects.get(pk=row.pk).text == "bulk Value"
    assert raw(Everything, "text", row.pk).startswith("fc1")


def test_a_failed_bulk_create_leaves_no_sealed_value_behind():
    obj = Everything(data={"k": 1}, plain=None)  # NOT NULL: the INSERT fails
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Everything.objects.bulk_create([obj, Everything(data={"k": 0})])
    obj.data["k"] = 2  # the same dict, changed
    obj.plain = 0
    obj.save()
    assert Everything.objects.get(pk=obj.pk).data == {"k": 2}
