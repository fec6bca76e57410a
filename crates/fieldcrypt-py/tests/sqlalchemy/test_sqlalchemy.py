"""fieldcrypt.sqlalchemy on the database FIELDCRYPT_TEST_DB names (see conftest.py): round trips
of every type, what the raw column holds, context binding, tampering, blind-index lookups and
search(), the index kept in step by every kind of write, refused operations, cache keys, the
asyncio engine, and agreement with the core API (Keyring.open, BlindIndex)."""

import asyncio
import datetime
import decimal
import os
import re
import secrets
from typing import Any, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column

from fieldcrypt import BlindIndex, CannotOpen, InvalidValue, Keyring, KeyringError, UnknownKey, WrongType
from fieldcrypt import sqlalchemy as fc
from fieldcrypt.sqlalchemy import (
    BlindIndexColumn,
    BlindIndexType,
    Encrypted,
    EncryptedBigInteger,
    EncryptedBinary,
    EncryptedBoolean,
    EncryptedColumnError,
    EncryptedDate,
    EncryptedDateTime,
    EncryptedFloat,
    EncryptedInteger,
    EncryptedJSON,
    EncryptedNumeric,
    EncryptedString,
    EncryptedText,
    blind_index,
    index_value,
    search,
)

UTC = datetime.timezone.utc
KEYRING = Keyring.generate()
OTHER_KEYRING = Keyring.generate()
fc.configure(KEYRING)

# Several runs may share the database: this run's tables carry the suffix and a random part.
_suffix = re.sub(r"[^a-z0-9_]", "", os.environ.get("FIELDCRYPT_TEST_DB_SUFFIX", "").lower())
PREFIX = f"fc{_suffix}_{secrets.token_hex(3)}_"


class Base(DeclarativeBase):
    pass


class Everything(Base):
    __tablename__ = PREFIX + "everything"
    id: Mapped[int] = mapped_column(primary_key=True)
    string: Mapped[Optional[str]] = mapped_column(EncryptedString(50))
    string_binary: Mapped[Optional[str]] = mapped_column(EncryptedString(20, storage="binary"))
    text: Mapped[Optional[str]] = mapped_column(EncryptedText())
    generic: Mapped[Optional[str]] = mapped_column(Encrypted(str, storage="binary"))
    integer: Mapped[Optional[int]] = mapped_column(EncryptedInteger())
    big: Mapped[Optional[int]] = mapped_column(EncryptedBigInteger())
    boolean: Mapped[Optional[bool]] = mapped_column(EncryptedBoolean())
    floating: Mapped[Optional[float]] = mapped_column(EncryptedFloat())
    amount: Mapped[Optional[decimal.Decimal]] = mapped_column(EncryptedNumeric(12, 2))
    day: Mapped[Optional[datetime.date]] = mapped_column(EncryptedDate())
    moment: Mapped[Optional[datetime.datetime]] = mapped_column(EncryptedDateTime())
    moment_utc: Mapped[Optional[datetime.datetime]] = mapped_column(EncryptedDateTime(naive_as_utc=True))
    data: Mapped[Optional[Any]] = mapped_column(EncryptedJSON())
    blob: Mapped[Optional[bytes]] = mapped_column(EncryptedBinary())
    blob_text: Mapped[Optional[bytes]] = mapped_column(EncryptedBinary(storage="text"))
    plain: Mapped[int] = mapped_column(default=0)


class Customer(Base):
    __tablename__ = PREFIX + "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Truncated (the planner's bits for 100,000 rows): lookups through search().
    email: Mapped[Optional[str]] = mapped_column(EncryptedString(254))
    email_index: Mapped[Optional[int]] = blind_index("email", normalizers=["trim", "casefold"], rows=100_000)
    # Exact: == and in_() compile to a WHERE on the index.
    national_id: Mapped[Optional[str]] = mapped_column(EncryptedString(20))
    national_id_index: Mapped[Optional[int]] = blind_index("national_id", normalizers=["digits"], bits=63)


class Narrow(Base):
    """A 2-bit index: 4 index values, so most rows share one with others."""

    __tablename__ = PREFIX + "narrow"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[Optional[str]] = mapped_column(EncryptedText())
    email_index: Mapped[Optional[int]] = blind_index("email", bits=2)


class Renamed(Base):
    """Keeps the context of the table it was first created as."""

    __tablename__ = PREFIX + "renamed"
    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[Optional[str]] = mapped_column(EncryptedText(context=("legacy_notes", "note")))


SHARED = EncryptedText()  # one instance in two columns: each gets its own context
core = Table(
    PREFIX + "core",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("code", EncryptedString(40)),
    BlindIndexColumn("code_index", "code", normalizers=["trim"], bits=63),
    Column("first", SHARED),
    Column("second", SHARED),
    Column("own_keyring", EncryptedText(keyring=lambda: OTHER_KEYRING)),
)

VALUES = {
    "string": ["", "ann", "Zoë 😀", "x" * 50],
    "string_binary": ["", "1234-5678"],
    "text": ["", "a" * (1 << 20), "line\nbreak\u00e9"],
    "generic": ["", "generic text"],
    "integer": [0, -1, 2**31 - 1, -(2**31)],
    "big": [0, -42, 2**63 - 1, -(2**63)],
    "boolean": [False, True],
    "floating": [0.0, -1.5, 1e300, 5e-324],
    "amount": [decimal.Decimal("0.00"), decimal.Decimal("-12.30"), decimal.Decimal("9999999999.99")],
    "day": [datetime.date(1, 1, 1), datetime.date(2024, 2, 29), datetime.date(9999, 12, 31)],
    "moment": [
        datetime.datetime(2024, 3, 31, 1, 30, 0, 123456, tzinfo=UTC),
        datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    ],
    "data": [
        {"a": [1, 2.5, None, {"b": "c"}], "é": True, "deep": [[[{"x": [{}]}]]]},
        [],
        "just a string",
        0,
        False,
    ],
    "blob": [b"", b"\x00\xff" * 10],
    "blob_text": [b"", b"\xfc\x01binary in a text column"],
}


@pytest.fixture(scope="module")
def tables(engine: sa.Engine) -> Iterator[None]:
    Base.metadata.create_all(engine)
    try:
        yield
    finally:
        Base.metadata.drop_all(engine)


@pytest.fixture(autouse=True)
def clean(engine: sa.Engine, tables: None) -> Iterator[None]:
    yield
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def quote(engine: sa.Engine, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote(name))


def raw(engine: sa.Engine, table: str, column: str, pk: int) -> Any:
    """The column's stored value, read with a plain text() query (no fieldcrypt type)."""
    sql = f"SELECT {quote(engine, column)} FROM {quote(engine, table)} WHERE id = :id"
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql), {"id": pk}).scalar_one()
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value


def write_raw(engine: sa.Engine, table: str, column: str, pk: int, value: Any) -> None:
    sql = f"UPDATE {quote(engine, table)} SET {quote(engine, column)} = :v WHERE id = :id"
    with engine.begin() as conn:
        conn.execute(sa.text(sql), {"v": value, "id": pk})


def create(engine: sa.Engine, obj: Any) -> int:
    with Session(engine) as session:
        session.add(obj)
        session.commit()
        return int(obj.id)


def load(engine: sa.Engine, model: Any, pk: int) -> Any:
    with Session(engine) as session:
        return session.get(model, pk)


def orig(error: pytest.ExceptionInfo[StatementError]) -> BaseException:
    found = error.value.orig
    assert found is not None
    return found


def sealed_like(stored: Any, storage: str) -> bool:
    if storage == "text":
        return isinstance(stored, str) and stored.startswith("fc1")
    return isinstance(stored, bytes) and stored[:1] == b"\xfc"


# ---- round trips and what the column holds ---------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [(f, v) for f, values in VALUES.items() for v in values],
    ids=[f"{f}-{i}" for f, values in VALUES.items() for i in range(len(values))],
)
def test_round_trip(engine: sa.Engine, field: str, value: Any) -> None:
    pk = create(engine, Everything(**{field: value}))
    got = getattr(load(engine, Everything, pk), field)
    assert got == value
    assert type(got) is type(value)
    if field == "amount":
        assert got.as_tuple().exponent == -2
    if field == "moment":
        assert got.utcoffset() == datetime.timedelta(0)
    stored = raw(engine, Everything.__tablename__, field, pk)
    column_type = Everything.__table__.c[field].type
    assert sealed_like(stored, column_type.storage)
    if isinstance(value, str) and len(value) >= 3:
        as_bytes = stored.encode() if isinstance(stored, str) else stored
        assert value.encode() not in as_bytes


def test_null_stays_null_and_empty_values_are_sealed(engine: sa.Engine) -> None:
    pk = create(engine, Everything(string="", integer=0, boolean=False, blob=b"", data=None))
    for column in ("text", "big", "moment", "data", "amount", "string_binary"):
        assert raw(engine, Everything.__tablename__, column, pk) is None
    for column in ("string", "integer", "boolean"):
        assert sealed_like(raw(engine, Everything.__tablename__, column, pk), "text")
    assert sealed_like(raw(engine, Everything.__tablename__, "blob", pk), "binary")
    row = load(engine, Everything, pk)
    assert (row.string, row.integer, row.boolean, row.blob, row.text, row.data) == ("", 0, False, b"", None, None)


def test_values_are_checked_and_sealed_at_the_columns_scale(engine: sa.Engine) -> None:
    pk = create(engine, Everything(amount=decimal.Decimal("1.5"), big=-(2**63)))
    assert load(engine, Everything, pk).amount.as_tuple() == decimal.Decimal("1.50").as_tuple()
    pk = create(engine, Everything(amount=decimal.Decimal("-0.001")))  # rounds to -0.00: stored 0.00
    assert str(load(engine, Everything, pk).amount) == "0.00"
    refused = [
        ({"integer": 2**31 + 12345}, InvalidValue),
        ({"big": 2**63 + 12345}, InvalidValue),
        ({"string": "y" * 51}, InvalidValue),
        ({"amount": decimal.Decimal("12345678901.00")}, InvalidValue),
        ({"amount": decimal.Decimal("NaN")}, InvalidValue),
        ({"amount": 1.5}, WrongType),
        ({"string": 5}, WrongType),
        ({"integer": "5"}, WrongType),
        ({"integer": True}, WrongType),
        ({"boolean": "not-a-boolean"}, WrongType),
        ({"day": datetime.datetime(2024, 1, 1, tzinfo=UTC)}, WrongType),
        ({"blob": "text, not bytes"}, WrongType),
    ]
    with engine.connect() as conn:
        for values, error in refused:
            with pytest.raises(StatementError) as caught:
                conn.execute(insert(Everything).values(**values))
            assert isinstance(orig(caught), error), values
            # The message names the column, never the value (checked where the value's text is
            # distinctive: "5" may well be in the random table prefix).
            shown = str(next(iter(values.values())))
            assert len(shown) < 6 or shown not in str(orig(caught))


def test_naive_datetimes_are_refused_unless_the_column_takes_them_as_utc(engine: sa.Engine) -> None:
    naive = datetime.datetime(2024, 7, 1, 12, 0)
    with engine.connect() as conn:
        with pytest.raises(StatementError) as caught:
            conn.execute(insert(Everything).values(moment=naive))
    assert isinstance(orig(caught), InvalidValue)
    assert "naive" in str(orig(caught))
    pk = create(engine, Everything(moment_utc=naive))
    assert load(engine, Everything, pk).moment_utc == datetime.datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


# ---- context: another column or table does not open; tampering ----------------------------


def test_a_value_copied_into_another_column_does_not_open(engine: sa.Engine) -> None:
    table = Everything.__tablename__
    pk = create(engine, Everything(string="alpha", text="beta"))
    write_raw(engine, table, "text", pk, raw(engine, table, "string", pk))
    with pytest.raises(CannotOpen):
        load(engine, Everything, pk)
    # Into another table's column of the same name and type.
    other = create(engine, Renamed(note="kept"))
    pk2 = create(engine, Everything(text="moved"))
    write_raw(engine, Renamed.__tablename__, "note", other, raw(engine, table, "text", pk2))
    with pytest.raises(CannotOpen):
        load(engine, Renamed, other)


def test_a_tampered_value_raises_on_its_row_only(engine: sa.Engine) -> None:
    table = Everything.__tablename__
    pks = [create(engine, Everything(string=f"value {i}", blob=bytes([i]) * 8)) for i in range(3)]
    stored = raw(engine, table, "string", pks[1])
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    write_raw(engine, table, "string", pks[1], flipped)
    with pytest.raises(CannotOpen):
        load(engine, Everything, pks[1])
    assert [load(engine, Everything, pks[i]).string for i in (0, 2)] == ["value 0", "value 2"]
    blob = bytearray(raw(engine, table, "blob", pks[2]))
    blob[len(blob) // 2] ^= 0x01
    write_raw(engine, table, "blob", pks[2], bytes(blob))
    with pytest.raises(CannotOpen):
        load(engine, Everything, pks[2])
    assert load(engine, Everything, pks[0]).blob == b"\x00" * 8


def test_context_override_keeps_the_first_tables_context(engine: sa.Engine) -> None:
    pk = create(engine, Renamed(note="kept"))
    assert load(engine, Renamed, pk).note == "kept"
    envelope = raw(engine, Renamed.__tablename__, "note", pk)
    assert KEYRING.open("legacy_notes", "note", envelope) == "kept"
    with pytest.raises(CannotOpen):
        KEYRING.open(Renamed.__tablename__, "note", envelope)


def test_one_type_instance_in_two_columns_seals_for_each(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        pk = conn.execute(insert(core).values(first="one", second="two")).inserted_primary_key[0]
        assert conn.execute(select(core.c.first, core.c.second).where(core.c.id == pk)).one() == ("one", "two")
    first = raw(engine, core.name, "first", pk)
    assert KEYRING.open(core.name, "first", first) == "one"
    with pytest.raises(CannotOpen):
        KEYRING.open(core.name, "second", first)


def test_copied_tables_and_mixins_take_their_own_context() -> None:
    copy = core.to_metadata(MetaData(), name="copied_core")
    assert copy.c.code.type.context_names() == ("copied_core", "code")
    assert core.c.code.type.context_names() == (core.name, "code")
    assert copy.c.code_index.type.source_column() is copy.c.code

    class Mixin:
        secret: Mapped[Optional[str]] = mapped_column(EncryptedText())

    class Local(DeclarativeBase):
        pass

    class One(Mixin, Local):
        __tablename__ = "one"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Two(Mixin, Local):
        __tablename__ = "two"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert One.__table__.c.secret.type.context_names() == ("one", "secret")
    assert Two.__table__.c.secret.type.context_names() == ("two", "secret")


def test_type_definitions_are_checked() -> None:
    for build in (
        lambda: Encrypted("uuid"),
        lambda: Encrypted(set),
        lambda: Encrypted("string", storage="blob"),
        lambda: Encrypted("string", context=("only-a-table",)),
        lambda: Encrypted("int", scale=2),
        lambda: Encrypted("string", naive_as_utc=True),
        lambda: EncryptedString(0),
    ):
        with pytest.raises(ValueError):
            build()


def test_a_types_own_keyring(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        pk = conn.execute(insert(core).values(own_keyring="mine")).inserted_primary_key[0]
        assert conn.execute(select(core.c.own_keyring).where(core.c.id == pk)).scalar_one() == "mine"
    stored = raw(engine, core.name, "own_keyring", pk)
    assert OTHER_KEYRING.open(core.name, "own_keyring", stored) == "mine"
    with pytest.raises((CannotOpen, UnknownKey)):
        KEYRING.open(core.name, "own_keyring", stored)


def test_without_a_keyring_nothing_is_sealed(engine: sa.Engine) -> None:
    fc.configure(None)
    try:
        with engine.connect() as conn:
            with pytest.raises(StatementError) as caught:
                conn.execute(insert(Everything).values(string="x"))
        assert isinstance(orig(caught), KeyringError)
    finally:
        fc.configure(KEYRING)


# ---- agreement with the core API ----------------------------------------------------------------


def test_cross_check_with_keyring_open_and_blind_index(engine: sa.Engine) -> None:
    table = Customer.__tablename__
    pk = create(engine, Customer(name="x", email=" Ann@Example.org", national_id="123-45-6789"))
    envelope = raw(engine, table, "email", pk)
    assert KEYRING.open(table, "email", envelope, expect="string") == " Ann@Example.org"
    bits = BlindIndex("t", "c", "i", rows=100_000).bits
    assert bits < 63
    expected = BlindIndex(table, "email", "email_index", bits=bits, normalizers=["trim", "casefold"])
    assert raw(engine, table, "email_index", pk) == expected.value(KEYRING, " Ann@Example.org")
    exact = BlindIndex(table, "national_id", "national_id_index", bits=63, normalizers=["digits"])
    assert raw(engine, table, "national_id_index", pk) == exact.value(KEYRING, "123456789")
    # And the other way: an envelope sealed by the core API opens through the type.
    write_raw(engine, table, "email", pk, KEYRING.seal(table, "email", "from core", text=True))
    assert load(engine, Customer, pk).email == "from core"
    # A binary column's envelope is the core API's binary form.
    pk = create(engine, Everything(generic="binary form"))
    assert KEYRING.open(Everything.__tablename__, "generic", raw(engine, Everything.__tablename__, "generic", pk)) == "binary form"


# ---- blind-index lookups ---------------------------------------------------------------------


@pytest.fixture
def customers(engine: sa.Engine) -> List[int]:
    return [
        create(engine, Customer(name="ann", email="Ann@Example.org", national_id="123-45-6789")),
        create(engine, Customer(name="bob", email="bob@example.org", national_id="987 65 4321")),
        create(engine, Customer(name="cy", email=" CY@example.org", national_id=None)),
    ]


def ids(session: Session, statement: Any) -> List[int]:
    return sorted(c.id for c in session.scalars(statement))


def test_exact_index_serves_where_in_not_in_count_update_delete(engine: sa.Engine, customers: List[int]) -> None:
    # Lookups go through every index root still held (BlindIndex.lookup); the lookup across a
    # root rotation is not tested here: roots rotate with the CLI only (no Python API), and the
    # Django suite covers it (tests/django/test_lookups.py) on the same native index code.
    ann, bob, cy = customers
    with Session(engine) as session:
        assert ids(session, select(Customer).where(Customer.national_id == "123-45-6789")) == [ann]
        # The index normalises to digits: another spelling of the same digits finds the row.
        assert ids(session, select(Customer).where(Customer.national_id == "123 45 6789")) == [ann]
        assert ids(session, select(Customer).where(Customer.national_id == "000")) == []
        assert ids(session, select(Customer).where(Customer.national_id.in_(["987654321", "123456789"]))) == [ann, bob]
        assert ids(session, select(Customer).where(Customer.national_id != "123456789")) == [bob]
        assert ids(session, select(Customer).where(Customer.national_id.not_in(["987654321"]))) == [ann]
        assert ids(session, select(Customer).where(Customer.national_id.is_(None))) == [cy]
        assert ids(session, select(Customer).where(Customer.national_id == None)) == [cy]  # noqa: E711
        assert ids(session, select(Customer).where(Customer.national_id.in_([]))) == []
        assert [c.name for c in session.query(Customer).filter_by(national_id="987654321")] == ["bob"]
        count = select(func.count()).select_from(Customer).where(Customer.national_id == "987654321")
        assert session.scalar(count) == 1
        other = aliased(Customer)
        assert ids(session, select(other).where(other.national_id == "987654321")) == [bob]
        session.execute(update(Customer).where(Customer.national_id == "987654321").values(name="robert"))
        assert session.get(Customer, bob).name == "robert"
        session.execute(delete(Customer).where(Customer.national_id == "987654321"))
        session.commit()
        assert session.get(Customer, bob) is None
    statement = select(Customer.id).where(Customer.national_id == "123-45-6789")
    compiled = statement.compile(engine)
    assert "national_id_index" in str(compiled)
    assert list(compiled.params.values()) == [index_value(Customer.national_id_index, "123456789")]
    # Core table and column.
    with engine.begin() as conn:
        conn.execute(insert(core), [{"code": "A-1"}, {"code": " B-2 "}])
        assert conn.execute(select(core.c.code).where(core.c.code == "B-2")).scalars().all() == [" B-2 "]
        assert sorted(conn.execute(select(core.c.code).where(core.c.code.in_(["A-1", "B-2"]))).scalars()) == [" B-2 ", "A-1"]


def test_truncated_index_refuses_where_and_search_keeps_only_matches(engine: sa.Engine, customers: List[int]) -> None:
    ann, bob, cy = customers
    for build in (
        lambda: Customer.email == "bob@example.org",
        lambda: Customer.email != "bob@example.org",
        lambda: Customer.email.in_(["x"]),
    ):
        with pytest.raises(EncryptedColumnError, match=r"search\(session"):
            build()
    with Session(engine) as session:
        assert [c.id for c in search(session, Customer.email, "Ann@Example.org")] == [ann]
        assert search(session, Customer.email, "ann@example.org") == []  # exact is exact
        assert [c.id for c in search(session, Customer.email, "ANN@example.ORG", iexact=True)] == [ann]
        assert search(session, Customer.email, "cy@example.org", iexact=True) == []  # " CY@..." has a space
        assert sorted(c.id for c in search(session, Customer.email, ["bob@example.org", "Ann@Example.org"])) == [ann, bob]
        narrowed = select(Customer).where(Customer.name == "bob")
        assert search(session, Customer.email, "Ann@Example.org", statement=narrowed) == []
        with pytest.raises(EncryptedColumnError, match="no blind index"):
            search(session, Everything.text, "x")
    with engine.connect() as conn:  # Core: rows of the table
        rows = search(conn, Customer.__table__.c.email, "bob@example.org")
        assert [r.id for r in rows] == [bob]


def test_search_drops_rows_that_share_only_the_index_value(engine: sa.Engine) -> None:
    rows = [create(engine, Narrow(email=f"user{i}@example.org")) for i in range(40)]
    with Session(engine) as session:
        for i, pk in enumerate(rows[:10]):
            email = f"user{i}@example.org"
            candidates = session.scalar(
                select(func.count()).select_from(Narrow).where(Narrow.email_index == index_value(Narrow.email_index, email))
            )
            assert candidates > 1
            assert [n.id for n in search(session, Narrow.email, email)] == [pk]


# ---- the index follows every write -------------------------------------------------------------


def stored_index(engine: sa.Engine, pk: int) -> Optional[int]:
    return raw(engine, Customer.__tablename__, "national_id_index", pk)  # type: ignore[no-any-return]


def expected(national_id: Optional[str]) -> Optional[int]:
    return index_value(Customer.national_id_index, national_id)


def test_the_index_follows_orm_and_core_writes(engine: sa.Engine) -> None:
    table = Customer.__table__
    with Session(engine) as session:
        customer = Customer(name="a", email="a@example.org", national_id="111")
        session.add(customer)
        session.flush()
        assert customer.national_id_index == expected("111")  # filled by the column default
        customer.national_id = "222"
        session.flush()
        assert customer.national_id_index == expected("222")  # the ORM before_update event
        customer.name = "renamed"  # an UPDATE that does not touch the source
        session.commit()
        pk = customer.id
    assert stored_index(engine, pk) == expected("222")
    writes = [
        ("333", lambda conn: conn.execute(update(table).where(table.c.id == pk).values(national_id="333"))),
        ("444", lambda conn: conn.execute(update(table).where(table.c.id == pk).values({table.c.national_id: "444"}))),
        ("555", lambda conn: conn.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(national_id=bindparam("b_nid")),
            [{"b_id": pk, "b_nid": "555"}, {"b_id": -1, "b_nid": "x"}],
        )),
        ("666", lambda conn: conn.execute(update(table).where(table.c.id == bindparam("b_id")), [{"b_id": pk, "national_id": "666"}])),
        (None, lambda conn: conn.execute(update(table).where(table.c.id == pk).values(national_id=None))),
        ("777", lambda conn: conn.execute(update(table).where(table.c.id == pk).ordered_values(
            (table.c.national_id, "777"), (table.c.national_id_index, index_value(table.c.national_id_index, "777"))))),
    ]
    for value, write in writes:
        with engine.begin() as conn:
            write(conn)
        assert stored_index(engine, pk) == expected(value), value
    with Session(engine) as session:
        session.execute(update(Customer).where(Customer.id == pk).values(national_id="888"))
        session.commit()
        assert stored_index(engine, pk) == expected("888")
        session.execute(update(Customer), [{"id": pk, "national_id": "999"}])  # ORM bulk by primary key
        session.commit()
        assert stored_index(engine, pk) == expected("999")
        assert ids(session, select(Customer).where(Customer.national_id == "999")) == [pk]
        assert ids(session, select(Customer).where(Customer.national_id == "888")) == []


def test_the_index_is_filled_by_every_kind_of_insert(engine: sa.Engine) -> None:
    table = Customer.__table__
    with engine.begin() as conn:
        conn.execute(insert(table).values(name="values", national_id="1"))
        conn.execute(insert(table), [{"name": "many", "national_id": "2"}, {"name": "many", "national_id": "3"}])
        conn.execute(insert(table).values([{"name": "multi", "national_id": "4"}, {"name": "multi", "national_id": "5"}]))
        conn.execute(insert(table).values(name="named", national_id=bindparam("n")), [{"n": "6"}, {"n": "7"}])
        conn.execute(insert(table).values(name="null", national_id=None))
    with Session(engine) as session:
        session.execute(insert(Customer), [{"name": "bulk", "national_id": "8"}, {"name": "bulk", "national_id": "9"}])
        session.commit()
        rows = session.execute(select(Customer.national_id, Customer.national_id_index)).all()
    assert sorted((n or "", i) for n, i in rows) == sorted((n or "", expected(n)) for n in [*"123456789", None])


# ---- refused -----------------------------------------------------------------------------------


REFUSED_OPERATORS = {
    "like": lambda: Customer.national_id.like("1%"),
    "ilike": lambda: Customer.national_id.ilike("1%"),
    "contains": lambda: Customer.national_id.contains("1"),
    "startswith": lambda: Customer.national_id.startswith("1"),
    "lt": lambda: Customer.national_id < "5",
    "ge": lambda: Everything.integer >= 5,
    "reversed gt": lambda: 5 < Everything.integer,
    "between": lambda: Everything.day.between(datetime.date(2000, 1, 1), datetime.date(2001, 1, 1)),
    "desc": lambda: Customer.national_id.desc(),
    "asc": lambda: Customer.national_id.asc(),
    "concat": lambda: Customer.national_id + "x",
    "json item": lambda: Everything.data["key"],
    "in subquery": lambda: Customer.national_id.in_(select(Customer.name)),
    "int value": lambda: Customer.national_id == 5,
    "no index": lambda: Everything.text == "x",
    "is true": lambda: Everything.boolean.is_(True),
    "collate": lambda: Customer.national_id.collate("C"),
}


@pytest.mark.parametrize("build", REFUSED_OPERATORS.values(), ids=list(REFUSED_OPERATORS))
def test_refused_operators(build: Any) -> None:
    with pytest.raises(EncryptedColumnError):
        build()


def test_refusals_name_the_column_never_the_value() -> None:
    with pytest.raises(EncryptedColumnError) as caught:
        Customer.email == "secret-value@example.org"  # noqa: B015
    assert "customers.email" in str(caught.value) and "secret-value" not in str(caught.value)


REFUSED_STATEMENTS = {
    "order_by": lambda: select(Customer).order_by(Customer.email),
    "group_by": lambda: select(Customer.email, func.count()).group_by(Customer.email),
    "column == column": lambda: select(Customer).where(Customer.email == Customer.name),
    "column == bindparam": lambda: select(Customer).where(Customer.national_id == bindparam("x")),
    "update with a column": lambda: update(Customer).values(email=Customer.name),
    "update with a function": lambda: update(Customer).values(email=func.upper("x")),
    "insert a typed literal": lambda: insert(Customer).values(name="n", email=literal("plaintext")),
    "insert a typed literal (multi)": lambda: insert(Customer).values([{"name": "n", "email": literal("p")}]),
    "ordered_values without the index": lambda: update(Customer.__table__).ordered_values((Customer.__table__.c.national_id, "1")),
    "insert from select without the index": lambda: insert(Customer.__table__).from_select(
        ["name", "national_id"], select(Customer.name, Customer.national_id)
    ),
}


@pytest.mark.parametrize("build", REFUSED_STATEMENTS.values(), ids=list(REFUSED_STATEMENTS))
def test_refused_statements(engine: sa.Engine, build: Any) -> None:
    create(engine, Customer(name="n", email="e@example.org", national_id="1"))
    with Session(engine) as session:
        with pytest.raises(EncryptedColumnError):
            session.execute(build())
    with Session(engine) as session:  # nothing was written
        assert session.scalars(select(Customer.name)).all() == ["n"]


def test_copying_within_the_table_with_the_index_is_allowed(engine: sa.Engine) -> None:
    pk = create(engine, Customer(name="n", email="e@example.org", national_id="12"))
    table = Customer.__table__
    with engine.begin() as conn:
        conn.execute(insert(table).from_select(
            ["name", "national_id", "national_id_index"],
            select(literal("copy"), table.c.national_id, table.c.national_id_index).where(table.c.id == pk),
        ))
    with Session(engine) as session:
        assert sorted(c.name for c in session.scalars(select(Customer).where(Customer.national_id == "12"))) == ["copy", "n"]


def test_a_type_without_its_column_refuses_to_seal(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(StatementError) as caught:
            conn.execute(select(literal("x", EncryptedText())))
    assert isinstance(orig(caught), EncryptedColumnError)
    assert "not attached" in str(orig(caught))
    # With a context it works unattached (a bind, type_coerce()).
    with engine.connect() as conn:
        stored = conn.execute(select(literal("x", EncryptedText(context=("t", "c"))))).scalar_one()
    assert stored == "x"


@pytest.mark.parametrize(
    "options",
    [{"index": True}, {"unique": True}, {"primary_key": True}, {"server_default": "plain"}],
    ids=lambda o: next(iter(o)),
)
def test_column_options_that_would_key_ciphertext_are_refused(options: Any) -> None:
    with pytest.raises(EncryptedColumnError):
        Table("bad", MetaData(), Column("id", Integer, primary_key="primary_key" not in options), Column("s", EncryptedText(), **options))


def test_blind_index_definitions_are_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="bits=63"):
        blind_index("email", rows=1000, unique=True)
    with pytest.raises(ValueError, match="bits= or rows="):
        blind_index("email")
    with pytest.raises(Exception, match="normaliser"):
        blind_index("email", normalizers=["upper"], bits=63)
    with pytest.raises(EncryptedColumnError, match="blind_index"):
        Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("s", EncryptedText()), Column("i", BlindIndexType("s", bits=63)))
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("n", EncryptedInteger()), BlindIndexColumn("i", "n", bits=63))
    with pytest.raises(EncryptedColumnError, match="not an encrypted string column"):
        table.c.n == "1"  # noqa: B015
    assert isinstance(table.c.i.type, BlindIndexType) and isinstance(table.c.i.type.impl, BigInteger)


# ---- cache keys and reprs ------------------------------------------------------------------------


def flatten(obj: Any) -> Iterator[Any]:
    yield obj
    if isinstance(obj, (tuple, list)):
        for item in obj:
            yield from flatten(item)


def test_cache_keys_hold_no_key_material_and_statements_share_the_cache(engine: sa.Engine) -> None:
    for column in [*Everything.__table__.c, *Customer.__table__.c, *core.c]:
        key = column.type._static_cache_key
        assert not any(isinstance(part, Keyring) for part in flatten(key))
        assert KEYRING.id not in repr(key) and OTHER_KEYRING.id not in repr(key)
    # The context is in the key (not secret); the keyring is not.
    assert Customer.__table__.c.email.type._static_cache_key[-1] == (Customer.__tablename__, "email")
    own = EncryptedText(keyring=KEYRING, context=("t", "c"))
    assert own._static_cache_key == EncryptedText(context=("t", "c"))._static_cache_key
    assert "keyring" not in repr(own).lower() and KEYRING.id not in repr(own)
    assert repr(Customer.__table__.c.email.type) == "EncryptedString(length=254)"
    # Statements differing only by their values share a cache key holding no value.
    pairs = [
        (insert(Everything).values(string="alpha-plaintext"), insert(Everything).values(string="beta")),
        (select(Customer).where(Customer.national_id == "111"), select(Customer).where(Customer.national_id == "222")),
    ]
    for a, b in pairs:
        key_a, key_b = a._generate_cache_key(), b._generate_cache_key()
        assert key_a is not None and key_b is not None
        assert key_a.key == key_b.key
        assert "alpha-plaintext" not in repr(key_a.key)
        assert not any(isinstance(part, Keyring) for part in flatten(key_a.key))
    # And the engine's compiled cache serves the second execution (the index value added to
    # the INSERT does not change the statement's shape).
    with engine.begin() as conn:
        for make in (
            lambda v: insert(Customer).values(name="n", email=f"{v}@example.org", national_id=v),
            lambda v: select(Customer.id).where(Customer.national_id == v),
        ):
            conn.execute(make("1"))
            assert conn.execute(make("2")).context.cache_hit is CACHE_HIT  # type: ignore[attr-defined]


def test_a_refused_value_appears_nowhere_in_the_error(engine: sa.Engine) -> None:
    # Neither fieldcrypt's message nor SQLAlchemy's wrapping of it (StatementError) shows the
    # value; a database error shows the parameters as sent, that is sealed.
    with engine.connect() as conn:
        with pytest.raises(StatementError) as caught:
            conn.execute(insert(Everything).values(string="secret-plaintext" * 4))
    assert "secret-plaintext" not in str(caught.value)
    assert "secret-plaintext" not in repr(caught.value)


# ---- asyncio ------------------------------------------------------------------------------------


def test_asyncio_engine(engine: sa.Engine, async_url: str) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

    async def run() -> Any:
        async_engine = create_async_engine(async_url)
        try:
            async with AsyncSession(async_engine) as session:
                session.add_all([
                    Customer(name="async", email="Async@Example.org", national_id="42-42"),
                    Customer(name="other", email="other@example.org", national_id="7"),
                    Everything(string="async", amount=decimal.Decimal("3.1"), moment=moment, data={"a": [1]}, blob=b"\x00\x01"),
                ])
                await session.commit()
            async with AsyncSession(async_engine) as session:
                found = (await session.scalars(select(Customer.name).where(Customer.national_id == "4242"))).all()
                searched = [c.name for c in await fc.asearch(session, Customer.email, "async@example.org", iexact=True)]
                row = (await session.scalars(select(Everything))).one()
                values = (row.string, row.amount, row.moment, row.data, row.blob)
                with pytest.raises(EncryptedColumnError):
                    await session.execute(select(Customer).order_by(Customer.email))
                await session.execute(update(Customer).where(Customer.national_id == "7").values(national_id="8"))
                await session.commit()
                moved = (await session.scalars(select(Customer.name).where(Customer.national_id == "8"))).all()
            async with async_engine.begin() as conn:
                await conn.execute(insert(core), [{"code": "async-1"}, {"code": "async-2"}])
                codes = (await conn.execute(select(core.c.code).where(core.c.code.in_(["async-2"])))).scalars().all()
            return found, searched, values, moved, codes
        finally:
            await async_engine.dispose()

    found, searched, values, moved, codes = asyncio.run(run())
    assert found == ["async"] and searched == ["async"] and moved == ["other"] and codes == ["async-2"]
    assert values == ("async", decimal.Decimal("3.10"), moment, {"a": [1]}, b"\x00\x01")
    with Session(engine) as session:
        pk = session.scalars(select(Everything.id)).one()
    assert sealed_like(raw(engine, Everything.__tablename__, "string", pk), "text")
    assert sealed_like(raw(engine, Everything.__tablename__, "blob", pk), "binary")
