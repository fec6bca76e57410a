"""Blind indexes: a BIGINT beside an encrypted string column, computed in Rust from its
plaintext, for equality lookups without decrypting.

The index is defined as on the Django side and in ``fieldcrypt-sqlx``: the source column's
context (table, column), the index column's name, its normalisers and bits; so a row written
here is found from Django or Rust and the other way round. Truncated on purpose (``rows=``
lets the planner pick the bits), a lookup also finds rows holding other values: those go
through :func:`fieldcrypt.sqlalchemy.search`, which opens the candidates and keeps the
matches. An index of 63 bits is *exact*: ``Customer.email == x`` compiles to a plain WHERE on
it.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from sqlalchemy import BigInteger, Column
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.types import TypeDecorator

from fieldcrypt import WrongType
from fieldcrypt import BlindIndex
from fieldcrypt.sqlalchemy.config import EncryptedColumnError
from fieldcrypt.sqlalchemy.types import Encrypted

EXACT_BITS = 63
#: ``Column.info`` mark of the columns blind_index() / BlindIndexColumn() build.
INFO_KEY = "fieldcrypt.blind_index"


class BlindIndexType(TypeDecorator[int]):
    """The type of a blind index column: the index of the encrypted string column named
    ``source`` in the same table. Build the column with :func:`blind_index` (declarative) or
    :func:`BlindIndexColumn` (Core), which also fill it on INSERT."""

    impl = BigInteger
    cache_ok = True

    def __init__(
        self,
        source: str,
        *,
        normalizers: Sequence[str] = (),
        bits: Optional[int] = None,
        rows: Optional[int] = None,
    ) -> None:
        super().__init__()
        if not source:
            raise ValueError("a blind index names the encrypted column it indexes (source)")
        if (bits is None) == (rows is None):
            raise ValueError("a blind index takes bits= or rows= (the planner picks the bits)")
        self.source = source
        self.normalizers = tuple(normalizers)
        self.bits = bits
        self.rows = rows
        # Checks the definition now (normalisers, bits): a typo fails at import, not at insert.
        self._probe = BlindIndex("t", "c", "i", bits=bits, rows=rows, normalizers=_names(normalizers))
        self._column: Optional[Column[Any]] = None
        self._index: Any = None

    def __repr__(self) -> str:
        size = f"bits={self.bits}" if self.bits is not None else f"rows={self.rows}"
        return f"BlindIndexType({self.source!r}, normalizers={list(self.normalizers)!r}, {size})"

    @property
    def planned_bits(self) -> int:
        return int(self._probe.bits)

    @property
    def exact(self) -> bool:
        """Whether a lookup returns only matching rows (63 bits: a wrong row per lookup with
        probability rows/2^63)."""
        return self.planned_bits >= EXACT_BITS

    @property
    def casefolds(self) -> bool:
        return bool(self._probe.casefolds)

    def attach(self, column: Column[Any], table: Any) -> None:
        if not column.info.get(INFO_KEY):
            raise EncryptedColumnError(
                f"{table.name}.{column.name}: build blind index columns with blind_index() or "
                "BlindIndexColumn(), which fill them on INSERT"
            )
        self._column = column
        self._index = None

    def source_column(self) -> Column[Any]:
        """The encrypted string column this index reads, in the same table."""
        column = self._column
        if column is None:
            raise EncryptedColumnError(f"{self!r} is not attached to a table")
        table = column.table
        found = table.c.get(self.source)
        if found is None:
            found = next((c for c in table.c if c.name == self.source), None)
        if found is None:
            raise EncryptedColumnError(
                f"{table.name}.{column.name}: the blind index source {self.source!r} is not a "
                "column of the table"
            )
        source_type = found.type
        if not isinstance(source_type, Encrypted) or source_type.value_type != "string":
            raise EncryptedColumnError(
                f"{table.name}.{column.name}: the blind index source {self.source!r} is not an "
                "encrypted string column (EncryptedString, EncryptedText)"
            )
        return found

    def source_type(self) -> Encrypted:
        source_type = self.source_column().type
        assert isinstance(source_type, Encrypted)
        return source_type

    def index(self) -> Any:
        """The native index definition: the source's context, this column's name."""
        if self._index is None:
            assert self._column is not None
            table, column = self.source_type().context_names()
            self._index = BlindIndex(
                table,
                column,
                self._column.name,
                bits=self.planned_bits,
                normalizers=_names(self.normalizers),
            )
        return self._index

    def value_for(self, plaintext: Any) -> Optional[int]:
        """The value to write for the source's ``plaintext`` (None for NULL)."""
        if plaintext is None:
            return None
        return self._value_for(self.source_type(), plaintext)

    def _value_for(self, source: Encrypted, plaintext: Any) -> int:
        """:meth:`value_for` of a non-NULL ``plaintext``, ``source`` being :meth:`source_type`."""
        if not isinstance(plaintext, str):
            raise WrongType(f"{source.context_label()} holds str, not {type(plaintext).__name__}")
        return int(self.index().value(source.keyring(), plaintext))

    def lookup_values(self, plaintext: str) -> List[int]:
        """The values to look ``plaintext`` up by: under every index root the keyring holds."""
        return [int(v) for v in self.index().lookup(self.source_type().keyring(), plaintext)]


def _names(normalizers: Sequence[str]) -> Any:
    """The normalisers as given: the native constructor checks them (and names the bad one)."""
    return list(normalizers)


def _fill_on_insert(context: ExecutionContext) -> Optional[int]:
    """The column default of a blind index: computed from the source value of the row being
    inserted (Core ``insert()`` with values or executemany parameters, ORM flushes and bulk
    inserts)."""
    column: Any = context.current_column  # type: ignore[attr-defined]
    index_type = column.type
    assert isinstance(index_type, BlindIndexType)
    parameters = context.get_current_parameters()  # type: ignore[attr-defined]
    source = index_type.source_column()  # once a row: value_for() would look it up again
    plaintext = parameters.get(source.key)
    if plaintext is None:
        return None
    source_type = source.type
    assert isinstance(source_type, Encrypted)
    return index_type._value_for(source_type, plaintext)


def _index_type(
    source: str, normalizers: Sequence[str], bits: Optional[int], rows: Optional[int], unique: bool
) -> BlindIndexType:
    index_type = BlindIndexType(source, normalizers=normalizers, bits=bits, rows=rows)
    if unique and not index_type.exact:
        raise ValueError(
            f"unique=True on a blind index of {index_type.planned_bits} bits would refuse distinct "
            "values that share an index value: use bits=63 (an exact index)"
        )
    return index_type


def blind_index(
    source: str,
    *,
    normalizers: Sequence[str] = (),
    bits: Optional[int] = None,
    rows: Optional[int] = None,
    unique: bool = False,
    name: Optional[str] = None,
) -> MappedColumn[Any]:
    """A declarative blind index column of the encrypted string column named ``source``::

        email_index: Mapped[Optional[int]] = blind_index("email", normalizers=["trim", "casefold"], rows=100_000)

    ``bits`` (1 to 63), or ``rows`` (the rows the table will hold; the planner picks the bits).
    ``normalizers``: ``trim``, ``casefold``, ``nfkc``, ``digits``. Nullable, indexed (or
    ``unique=True``, exact indexes only)."""
    index_type = _index_type(source, normalizers, bits, rows, unique)
    extra: Any = {"name": name} if name is not None else {}
    return mapped_column(
        index_type,
        default=_fill_on_insert,
        nullable=True,
        index=not unique,
        unique=unique,
        info={INFO_KEY: True},
        **extra,
    )


def BlindIndexColumn(  # noqa: N802 (a Column constructor)
    name: str,
    source: str,
    *,
    normalizers: Sequence[str] = (),
    bits: Optional[int] = None,
    rows: Optional[int] = None,
    unique: bool = False,
) -> Column[int]:
    """:func:`blind_index` for a Core ``Table``: ``BlindIndexColumn("email_index", "email", rows=...)``."""
    index_type = _index_type(source, normalizers, bits, rows, unique)
    return Column(
        name,
        index_type,
        default=_fill_on_insert,
        nullable=True,
        index=not unique,
        unique=unique,
        info={INFO_KEY: True},
    )


def indexes_of(encrypted: Encrypted) -> List[Column[Any]]:
    """The blind index columns of an attached encrypted column, in table order."""
    column = encrypted._column
    if column is None:
        return []
    return [
        c
        for c in column.table.c
        if isinstance(c.type, BlindIndexType) and c.type.source_column() is column
    ]


def index_value(index_column: Any, plaintext: Optional[str]) -> Optional[int]:
    """The value of the blind index column (a ``Column`` or mapped attribute) for
    ``plaintext``: to write by hand where it is not filled for you (``ordered_values()``)."""
    column = index_column.__clause_element__() if hasattr(index_column, "__clause_element__") else index_column
    index_type = getattr(column, "type", None)
    if not isinstance(index_type, BlindIndexType):
        raise EncryptedColumnError(f"index_value(): {column!r} is not a blind index column")
    return index_type.value_for(plaintext)


def relative(expr: Any, index_column: Column[Any], label: str) -> ColumnElement[Any]:
    """The index column in the FROM the compared column comes from (an alias, a subquery)."""
    parent = getattr(expr, "table", None)
    if parent is None or parent is index_column.table:
        return index_column
    found = parent.c.get(index_column.key)
    if found is None:
        raise EncryptedColumnError(
            f"{label}: its blind index column {index_column.name!r} is not in the alias or "
            "subquery compared; select it there too"
        )
    return found  # type: ignore[no-any-return]


def lookup_all(index_column: Column[Any], label: str, values: Sequence[Any]) -> List[int]:
    index_type = index_column.type
    assert isinstance(index_type, BlindIndexType)
    found: List[int] = []
    for value in values:
        if isinstance(value, ClauseElement) or hasattr(value, "__clause_element__"):
            raise EncryptedColumnError(
                f"{label}: a blind-index comparison takes values, not SQL expressions (comparing "
                "ciphertext with ciphertext never matches)"
            )
        if not isinstance(value, str):
            raise EncryptedColumnError(
                f"{label}: a blind-index comparison takes str, not {type(value).__name__}"
            )
        for v in index_type.lookup_values(value):
            if v not in found:
                found.append(v)
    return found


def index_comparison(expr: Any, encrypted: Encrypted, op: Any, other: Any) -> ColumnElement[Any]:
    """``==``, ``!=``, ``in_()``, ``not_in()`` of an encrypted column, through its exact blind
    index (the values under every index root still held). Through an index with normalisers,
    values compare once normalised (as Django's exact lookup)."""
    label = encrypted.context_label()
    symbol = {operators.eq: "==", operators.ne: "!=", operators.in_op: "in_()"}.get(op, "not_in()")
    indexes = indexes_of(encrypted)
    exact = [c for c in indexes if isinstance(c.type, BlindIndexType) and c.type.exact]
    if not exact:
        column = label.rpartition(".")[2]
        if indexes:
            first = indexes[0].type
            assert isinstance(first, BlindIndexType)
            raise EncryptedColumnError(
                f"{label} {symbol} ...: its blind index ({indexes[0].name}, {first.planned_bits} "
                "bits) is truncated and also matches other values, so a WHERE on it would return "
                "rows that do not match. Use fieldcrypt.sqlalchemy.search(session, <Model>."
                f"{column}, value) (asearch() with asyncio), which opens the candidates and keeps "
                "the matches; or give the index bits=63"
            )
        raise EncryptedColumnError(
            f"{label} {symbol} ...: an encrypted column has no equality without a blind index; "
            f"add blind_index({column!r}, bits=63, ...) (or rows=... and search())"
        )
    if op in (operators.in_op, operators.not_in_op):
        if isinstance(other, ClauseElement) or not isinstance(other, (list, tuple, set, frozenset)):
            raise EncryptedColumnError(f"{label}.{symbol}: takes a list of str values")
        values = list(other)
    else:
        values = [other]
    target = relative(expr, exact[0], label)
    found = lookup_all(exact[0], label, values)
    positive = op in (operators.eq, operators.in_op)
    if len(found) == 1 and op in (operators.eq, operators.ne):
        return target == found[0] if positive else target != found[0]
    return target.in_(found) if positive else target.not_in(found)
