"""Lookups on encrypted fields: equality through blind indexes, refusals for the rest, search()
that drops rows sharing only an index value, and lookups across a blind-index root rotation."""

import pytest
from django.core.exceptions import FieldError
from django.db import connection

import cli
from fieldcrypt.django import conf, search
from testapp.models import Customer, Everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    return [
        Customer.objects.create(name="ann", email="Ann@Example.org", national_id="123-45-6789"),
        Customer.objects.create(name="bob", email="bob@example.org", national_id="987 65 4321"),
        Customer.objects.create(name="cy", email=" CY@example.org", national_id=None),
    ]


def test_exact_index_serves_filter_exclude_count_update_delete(customers):
    ann, bob, cy = customers
    assert list(Customer.objects.filter(national_id="123-45-6789")) == [ann]
    # Exact means exact: another spelling of the same digits is another value.
    assert list(Customer.objects.filter(national_id="123 45 6789")) == []
    assert Customer.objects.filter(national_id="000").count() == 0
    assert set(Customer.objects.filter(national_id__in=["987 65 4321", "123-45-6789"])) == {ann, bob}
    assert set(Customer.objects.exclude(national_id="123-45-6789")) == {bob, cy}
    assert list(Customer.objects.filter(national_id__isnull=True)) == [cy]
    assert list(Customer.objects.filter(national_id=None)) == [cy]
    assert Customer.objects.filter(national_id="987 65 4321").update(name="robert") == 1
    assert Customer.objects.get(pk=bob.pk).name == "robert"
    assert Customer.objects.filter(national_id="987 65 4321").delete()[0] == 1
    assert not Customer.objects.filter(pk=bob.pk).exists()


def test_a_normalising_exact_index_does_not_serve_filter(customers):
    # 63 bits, but the digits normaliser makes "123 45 6789" share "123-45-6789"'s index value:
    # filter() would return a row that does not match, so it refuses and names search().
    field = Customer._meta.get_field("national_id_index")
    saved = field.normalizers
    field.normalizers = ("digits",)
    try:
        with pytest.raises(FieldError, match="search"):
            list(Customer.objects.filter(national_id="123 45 6789"))
    finally:
        field.normalizers = saved


def test_writes_keep_the_blind_index_in_step(customers):
    ann, bob, cy = customers
    # update(): the index is rewritten with the value; the old value no longer finds the row.
    assert Customer.objects.filter(pk=ann.pk).update(national_id="111-11-1111", email="new@example.org") == 1
    assert list(Customer.objects.filter(national_id="123-45-6789")) == []
    assert list(Customer.objects.filter(national_id="111-11-1111")) == [ann]
    assert Customer.objects.search(email="new@example.org") == [ann]
    # bulk_update(): the same, although only the source field is named.
    bob.national_id = "222-22-2222"
    Customer.objects.bulk_update([bob], ["national_id"])
    assert list(Customer.objects.filter(national_id="987 65 4321")) == []
    assert list(Customer.objects.filter(national_id="222-22-2222")) == [bob]
    # save(update_fields=[source]) without the index would leave it stale: refused.
    cy.national_id = "333-33-3333"
    with pytest.raises(FieldError, match="national_id_index"):
        cy.save(update_fields=["national_id"])
    cy.save(update_fields=["national_id", "national_id_index"])
    assert list(Customer.objects.filter(national_id="333-33-3333")) == [cy]



def test_truncated_index_refuses_filter_and_search_keeps_only_matches(customers):
    ann, bob, cy = customers
    for lookup in ({"email": "bob@example.org"}, {"email__iexact": "BOB@example.org"}, {"email__in": ["x"]}):
        with pytest.raises(FieldError, match="search"):
            list(Customer.objects.filter(**lookup))
    assert Customer.objects.search(email="Ann@Example.org") == [ann]
    assert Customer.objects.search(email="ann@example.org") == []  # exact is exact
    assert Customer.objects.search(email__iexact="ANN@example.ORG") == [ann]
    assert Customer.objects.search(email__iexact="cy@example.org") == []  # " CY@..." has a space
    assert {c.pk for c in Customer.objects.search(email__in=["bob@example.org", "Ann@Example.org"])} == {ann.pk, bob.pk}
    assert search(Customer.objects.filter(name="ann"), email__iexact="ann@example.org") == [ann]
    pks = Customer.objects.search_pks(email="bob@example.org")
    assert Customer.objects.filter(pk__in=pks).update(name="b") == 1


def test_search_drops_rows_that_share_only_the_index_value():
    # 2 bits: 4 index values, so 40 distinct emails share them; each search must return
    # exactly its own row even though the index finds several.
    from fieldcrypt.django.index import BlindIndexField

    field = Customer._meta.get_field("email_index")
    narrow = BlindIndexField(source="email", normalizers=["trim", "casefold"], bits=2)
    narrow.set_attributes_from_name("email_index")
    narrow.model = Customer
    original = field.__dict__.copy()
    try:
        field.__dict__.update(narrow.__dict__)
        field.__dict__.pop("_index", None)
        field.model = Customer
        rows = [Customer.objects.create(name=str(i), email=f"user{i}@example.org") for i in range(40)]
        for row in rows[:10]:
            candidates = Customer.objects.filter(email_index__in=field.lookup_values(row.email)).count()
            assert candidates > 1
            assert Customer.objects.search(email=row.email) == [row]
    finally:
        field.__dict__.clear()
        field.__dict__.update(original)


@pytest.mark.parametrize(
    "lookup",
    ["char__contains", "char__icontains", "char__startswith", "integer__gt", "integer__lte",
     "day__year", "data__key", "char__regex", "text", "email__iexact"],
)
def test_refused_lookups_raise(lookup):
    with pytest.raises(FieldError):
        list(Everything.objects.filter(**{lookup: "x" if "year" not in lookup else 2020}))


def test_ordering_on_an_encrypted_field_raises():
    for order in ("char", "-integer", "?moment"):
        with pytest.raises(FieldError, match="encrypted"):
            Everything.objects.order_by(order)
    Everything.objects.order_by("plain", "-id")


@pytest.mark.django_db(transaction=True)
def test_lookups_across_a_blind_index_root_rotation():
    before = Customer.objects.create(name="old", email="old@example.org", national_id="111")
    cli.run_ok(["keyring", "rotate", "--index-root"])
    conf.reset()
    after = Customer.objects.create(name="new", email="new@example.org", national_id="222")
    # Rows written under the old root and the new one are both found (the lookup tries every
    # root still held), through the exact index and through search().
    assert list(Customer.objects.filter(national_id="111")) == [before]
    assert list(Customer.objects.filter(national_id="222")) == [after]
    assert Customer.objects.search(email="old@example.org") == [before]
    assert Customer.objects.search(email__iexact="NEW@example.org") == [after]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT national_id_index FROM {Customer._meta.db_table} ORDER BY id")
        old_value, new_value = [r[0] for r in cursor.fetchall()]
    assert old_value != Customer._meta.get_field("national_id_index").value_for("111")
    assert new_value == Customer._meta.get_field("national_id_index").value_for("222")
