"""``Encrypted`` and its convenience types: each column holds only fieldcrypt envelopes.

A type seals for ``(table name, column name)`` of the column it is attached to, or for the
``context=(table, column)`` given (a renamed table keeps opening its rows). It learns its
column when the column is attached to a ``Table`` (Core ``Table(...)`` or declarative
``mapped_column``): a value sealed or opened before that raises ``EncryptedColumnError``.
NULL stays NULL; ``""``, ``0``, ``False`` and ``b""`` are sealed like any value. A value copied
into another column does not open (``CannotOpen``); one copied into another row of the same
column does, by design (row binding is not offered here, see the package docstring).

Naive datetimes are refused (``InvalidValue``): an instant needs a zone. ``EncryptedDateTime(
naive_as_utc=True)`` takes them as UTC instead. Timestamps read back aware, in UTC.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, ClassVar, Dict, List, Literal, Optional, Tuple, Type, Union, cast

from sqlalchemy import Column, LargeBinary, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BinaryExpression, ClauseElement, ColumnElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

from fieldcrypt import InvalidValue, Json, Keyring, WrongType
from fieldcrypt._native import envelope_length
from fieldcrypt.sqlalchemy.config import EncryptedColumnError, KeyringSource, resolve

TypeName = Literal["string", "bytes", "int", "float", "bool", "date", "timestamp", "decimal", "json"]
TYPE_NAMES: Dict[str, type] = {
    "string": str,
    "bytes": bytes,
    "int": int,
    "float": float,
    "bool": bool,
    "date": datetime.date,
    "timestamp": datetime.datetime,
    "decimal": decimal.Decimal,
    "json": object,
}
_FROM_PYTHON: Dict[type, str] = {
    str: "string",
    bytes: "bytes",
    int: "int",
    float: "float",
    bool: "bool",
    datetime.date: "date",
    datetime.datetime: "timestamp",
    decimal.Decimal: "decimal",
    dict: "json",
    list: "json",
}
STORAGES = ("text", "binary")
#: Longest varchar a text-storage column with ``length`` becomes, in characters (envelopes are
#: ASCII); beyond it, or on other databases, the column is TEXT / LONGTEXT.
VARCHAR_LIMITS = {"mysql": 16383, "mariadb": 16383, "postgresql": 10485760}
INT64 = (-(2**63), 2**63 - 1)
#: Operators served through a blind index; ``is_``/``is_not`` (and ``== None``) as usual.
INDEXED_OPERATORS = (operators.eq, operators.ne, operators.in_op, operators.not_in_op)
_ORDERING = (operators.asc_op, operators.desc_op, operators.nulls_first_op, operators.nulls_last_op)


class EncryptedComparator(TypeDecorator.Comparator[Any]):
    """Equality through the column's exact blind index, ``IS [NOT] NULL`` as usual; every other
    operator raises ``EncryptedColumnError``: the database holds only ciphertext."""

    __slots__ = ()

    def operate(self, op: OperatorType, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
        # expr.type, not self.type: the column may have been given its own copy since.
        encrypted = self.expr.type
        assert isinstance(encrypted, Encrypted)
        first = other[0] if other else None
        if op in (operators.is_, operators.is_not) and first is None:
            return super().operate(op, *other, **kwargs)
        if op in (operators.eq, operators.ne) and first is None:
            return super().operate(op, *other, **kwargs)  # IS NULL / IS NOT NULL
        if op in (operators.eq, operators.ne) and (
            isinstance(first, ClauseElement) or hasattr(first, "__clause_element__")
        ):
            # SQLAlchemy compares columns with == internally (dict lookups keyed by columns)
            # and takes the identity-based truth of the result: build it, refuse to compile it.
            found = super().operate(op, *other, **kwargs)
            if isinstance(found, BinaryExpression):
                return CiphertextComparison(
                    found.left, found.right, found.operator, type_=found.type, negate=found.negate
                )
            return found
        if op in INDEXED_OPERATORS:
            from fieldcrypt.sqlalchemy.index import index_comparison

            return index_comparison(self.expr, encrypted, op, first)
        raise refused(encrypted, op)

    def reverse_operate(self, op: OperatorType, other: Any, **kwargs: Any) -> ColumnElement[Any]:
        encrypted = self.expr.type
        assert isinstance(encrypted, Encrypted)
        raise refused(encrypted, op)


class CiphertextComparison(BinaryExpression[Any]):
    """``encrypted_column == <SQL expression>``: true in Python when both sides are the same
    column (as any column comparison), refused when compiled (it would compare ciphertext)."""

    inherit_cache = True


@compiles(CiphertextComparison)
def _refuse_comparison(element: CiphertextComparison, compiler: Any, **kw: Any) -> str:
    label = "an encrypted column"
    for side in (element.left, element.right):
        side_type = getattr(side, "type", None)
        if isinstance(side_type, Encrypted):
            label = side_type.context_label()
            break
    raise EncryptedColumnError(
        f"{label} compared with a SQL expression (a column, bindparam(), a subquery): the "
        "database would compare ciphertext, which never matches; compare with a value "
        "(through a blind index)"
    )


def refused(encrypted: "Encrypted", op: Any) -> EncryptedColumnError:
    name = str(getattr(op, "__name__", None) or getattr(op, "opstring", None) or op)
    name = name[:-3] if name.endswith("_op") else name
    column = encrypted.context_label().rpartition(".")[2]
    if op in _ORDERING:
        return EncryptedColumnError(
            f"{encrypted.context_label()}.{name}(): the column holds ciphertext, so the database "
            "can only order the ciphertext; sort in Python after reading"
        )
    return EncryptedColumnError(
        f"{encrypted.context_label()}: the database holds only ciphertext for this column, so it "
        f"cannot compute {name!r} over it. Equality (==, !=, in_(), not_in()) goes through a "
        f"blind index (blind_index({column!r}, ...)); for anything else read the rows and "
        "filter or sort in Python"
    )


class Encrypted(TypeDecorator[Any]):
    """A column holding fieldcrypt envelopes of ``value_type`` (a fieldcrypt type name:
    ``string``, ``bytes``, ``int``, ``float``, ``bool``, ``date``, ``timestamp``, ``decimal``,
    ``json``, or the Python type). ``storage``: ``"text"`` (the ``fc1...`` text form in a
    TEXT/VARCHAR column) or ``"binary"`` (a BLOB/BYTEA column). ``keyring``: a ``Keyring`` or a
    callable returning one, else :func:`fieldcrypt.sqlalchemy.configure`'s; it is never part
    of the cache key."""

    impl: Union[TypeEngine[Any], Type[TypeEngine[Any]]] = Text
    cache_ok = True

    #: The value type of the convenience subclasses (their repr omits it).
    fixed_type: ClassVar[Optional[str]] = None
    default_storage: ClassVar[str] = "text"
    min_value: ClassVar[int] = INT64[0]
    max_value: ClassVar[int] = INT64[1]

    def __init__(
        self,
        value_type: Union[str, type],
        *,
        storage: Optional[str] = None,
        context: Optional[Tuple[str, str]] = None,
        keyring: Optional[KeyringSource] = None,
        length: Optional[int] = None,
        precision: Optional[int] = None,
        scale: Optional[int] = None,
        naive_as_utc: bool = False,
    ) -> None:
        super().__init__()
        name = _FROM_PYTHON.get(value_type) if isinstance(value_type, type) else value_type
        if name not in TYPE_NAMES:
            raise ValueError(f"Encrypted({value_type!r}): one of {sorted(TYPE_NAMES)} or their Python types")
        storage = storage or self.default_storage
        if storage not in STORAGES:
            raise ValueError(f"storage={storage!r}: one of {STORAGES}")
        if context is not None:
            if len(context) != 2 or not all(isinstance(c, str) and c for c in context):
                raise ValueError("context=(table, column): two non-empty names")
            context = (context[0], context[1])
        if length is not None and (name != "string" or length < 1):
            raise ValueError("length= bounds a string column (characters, at least 1)")
        if (precision is not None or scale is not None) and name != "decimal":
            raise ValueError("precision= and scale= belong to a decimal column")
        if naive_as_utc and name != "timestamp":
            raise ValueError("naive_as_utc= belongs to a timestamp column")
        self.value_type: TypeName = cast(TypeName, name)
        self.storage = storage
        self.context = context
        self.length = length
        self.precision = precision
        self.scale = scale
        self.naive_as_utc = naive_as_utc
        self._keyring_source = keyring
        self._column: Optional[Column[Any]] = None
        self._bound: Optional[Tuple[str, str]] = None
        if storage == "binary":
            self.impl = LargeBinary()

    # ---- identity -------------------------------------------------------------------------

    @property
    def _static_cache_key(self) -> Tuple[Any, ...]:
        # Settings and context only: no keyring (nor anything derived from one).
        return (
            type(self),
            self.value_type,
            self.storage,
            self.length,
            self.precision,
            self.scale,
            self.naive_as_utc,
            self.context or self._bound,
        )

    def __repr__(self) -> str:
        args: List[str] = [] if self.fixed_type else [repr(self.value_type)]
        for key, value, default in (
            ("length", self.length, None),
            ("precision", self.precision, None),
            ("scale", self.scale, None),
            ("storage", self.storage, self.default_storage),
            ("context", self.context, None),
            ("naive_as_utc", self.naive_as_utc, False),
        ):
            if value != default:
                args.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    @property
    def python_type(self) -> type:
        return TYPE_NAMES[self.value_type]

    @property
    def comparator_factory(self) -> Any:  # type: ignore[override]
        return EncryptedComparator

    # ---- context --------------------------------------------------------------------------

    def attach(self, column: Column[Any], table: Any) -> None:
        """Binds the type to the column it was attached to (the attach listener calls it, with
        a type of its own for each column)."""
        for flag, what in (
            (column.primary_key, "primary_key=True"),
            (column.unique, "unique=True"),
            (column.index, "index=True"),
        ):
            if flag:
                raise EncryptedColumnError(
                    f"{table.name}.{column.name}: {what} on an encrypted column would key or index "
                    "ciphertext, which no lookup uses; add blind_index(..., bits=63, unique=...) "
                    "for lookups and uniqueness"
                )
        if column.server_default is not None:
            raise EncryptedColumnError(
                f"{table.name}.{column.name}: a server_default would store plaintext in an "
                "encrypted column; use a Python-side default="
            )
        self._column = column
        self._bound = (str(table.name), str(column.name))

    def context_names(self) -> Tuple[str, str]:
        if self.context is not None:
            return self.context
        if self._bound is None:
            raise EncryptedColumnError(
                f"{self!r} is not attached to a table column, so it has no context to seal or "
                "open for: use it in a Column of a Table (or a mapped_column), or give "
                "context=(table, column)"
            )
        return self._bound

    def context_label(self) -> str:
        found = self.context or self._bound
        return f"{found[0]}.{found[1]}" if found else repr(self)

    def keyring(self) -> Keyring:
        return resolve(self._keyring_source)

    # ---- values ---------------------------------------------------------------------------

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        name = dialect.name
        if self.storage == "binary":
            if name in ("mysql", "mariadb"):
                return dialect.type_descriptor(mysql.LONGBLOB())
            return dialect.type_descriptor(LargeBinary())
        if self.length is not None and name in VARCHAR_LIMITS:
            longest = int(envelope_length(self.length * 4, text=True))  # 4 UTF-8 bytes a char
            if longest <= VARCHAR_LIMITS[name]:
                return dialect.type_descriptor(String(longest))
        if name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.LONGTEXT())  # TEXT holds 64 KiB
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        table, column = self.context_names()
        plain = self.to_sealable(value)
        return self.keyring().seal(table, column, plain, text=self.storage == "text")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not str:  # a text column read as str needs neither conversion
            if isinstance(value, (memoryview, bytearray)):
                value = bytes(value)
            if self.storage == "text" and isinstance(value, bytes):
                value = value.decode("ascii")  # a driver returning a text column as bytes
        table, column = self.context_names()
        return self.keyring().open(table, column, value, expect=self.value_type)

    def to_sealable(self, value: Any) -> Any:
        """The value to seal, checked against the column's type (the database cannot check
        ciphertext): ``WrongType`` or ``InvalidValue``, naming the column, never the value."""
        kind = self.value_type
        if kind == "string" and type(value) is str and (self.length is None or len(value) <= self.length):
            return value  # the common case, without building the label only errors use
        label = self.context_label()
        if kind == "string":
            if not isinstance(value, str):
                raise _wrong(label, "str", value)
            if self.length is not None and len(value) > self.length:
                raise InvalidValue(f"{label} holds at most {self.length} characters")
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _wrong(label, "int", value)
            if not self.min_value <= value <= self.max_value:
                raise InvalidValue(f"{label} holds {self.min_value} to {self.max_value}")
            return value
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)  # as SQLAlchemy's Boolean takes 0 and 1
            raise _wrong(label, "bool", value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _wrong(label, "float", value)
            try:
                return float(value)
            except OverflowError:
                raise InvalidValue(f"{label}: an int too large for a float") from None
        if kind == "decimal":
            return self._decimal(label, value)
        if kind == "date":
            if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
                raise _wrong(label, "date", value)
            return value
        if kind == "timestamp":
            if not isinstance(value, datetime.datetime):
                raise _wrong(label, "datetime", value)
            if value.tzinfo is None or value.utcoffset() is None:
                if not self.naive_as_utc:
                    raise InvalidValue(
                        f"{label}: a naive datetime names no instant; attach a tzinfo, or "
                        "declare the column EncryptedDateTime(naive_as_utc=True)"
                    )
                value = value.replace(tzinfo=datetime.timezone.utc)
            return value
        if kind == "bytes":
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise _wrong(label, "bytes", value)
            return bytes(value)
        return value if isinstance(value, Json) else Json(value)  # json

    def _decimal(self, label: str, value: Any) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, (decimal.Decimal, int)):
            raise _wrong(label, "Decimal (or int)", value)
        number = decimal.Decimal(value)
        if not number.is_finite():
            raise InvalidValue(f"{label} holds a finite Decimal")
        if self.scale is not None:
            # As the plain NUMERIC column stores it: rounded to the scale, refused beyond the
            # precision (Django's DecimalField does the same).
            context = decimal.Context(prec=self.precision or 28, traps=[decimal.InvalidOperation])
            try:
                number = number.quantize(decimal.Decimal(1).scaleb(-self.scale), context=context)
            except decimal.DecimalException:
                raise InvalidValue(
                    f"{label}: the value does not fit precision={self.precision}, scale={self.scale}"
                ) from None
        elif self.precision is not None and len(number.as_tuple().digits) > self.precision:
            raise InvalidValue(f"{label}: more than precision={self.precision} digits")
        if number.is_zero() and number.is_signed():
            number = abs(number)  # -0.00 has no encoding; it is 0.00
        return number


def _wrong(label: str, expected: str, value: Any) -> WrongType:
    return WrongType(f"{label} holds {expected}, not {type(value).__name__}")


# ---- convenience types ------------------------------------------------------------------------


class EncryptedString(Encrypted):
    """A string of at most ``length`` characters (checked before sealing); the column is sized
    for the envelope (VARCHAR on PostgreSQL and MySQL while it fits, TEXT elsewhere)."""

    cache_ok = True
    fixed_type = "string"

    def __init__(self, length: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__("string", length=length, **kwargs)


class EncryptedText(Encrypted):
    cache_ok = True
    fixed_type = "string"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("string", **kwargs)


class EncryptedBigInteger(Encrypted):
    """A 64-bit signed int."""

    cache_ok = True
    fixed_type = "int"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("int", **kwargs)


class EncryptedInteger(EncryptedBigInteger):
    """A 32-bit signed int, as the plain INTEGER column holds (checked before sealing)."""

    cache_ok = True
    min_value = -(2**31)
    max_value = 2**31 - 1


class EncryptedBoolean(Encrypted):
    cache_ok = True
    fixed_type = "bool"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("bool", **kwargs)


class EncryptedFloat(Encrypted):
    cache_ok = True
    fixed_type = "float"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("float", **kwargs)


class EncryptedNumeric(Encrypted):
    """A ``Decimal`` sealed at ``scale`` (rounded as NUMERIC(precision, scale) stores it, refused
    beyond ``precision``); reads back with that exponent."""

    cache_ok = True
    fixed_type = "decimal"

    def __init__(
        self, precision: Optional[int] = None, scale: Optional[int] = None, **kwargs: Any
    ) -> None:
        super().__init__("decimal", precision=precision, scale=scale, **kwargs)


class EncryptedDate(Encrypted):
    cache_ok = True
    fixed_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("date", **kwargs)


class EncryptedDateTime(Encrypted):
    """An instant: an aware ``datetime`` (naive ones refused unless ``naive_as_utc=True``);
    reads back aware, in UTC."""

    cache_ok = True
    fixed_type = "timestamp"

    def __init__(self, *, naive_as_utc: bool = False, **kwargs: Any) -> None:
        super().__init__("timestamp", naive_as_utc=naive_as_utc, **kwargs)


class EncryptedJSON(Encrypted):
    """Any JSON value (dict, list, str, number, bool); ``None`` is SQL NULL. In-place changes
    to a dict or list are not tracked: assign a new value."""

    cache_ok = True
    fixed_type = "json"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("json", **kwargs)

    @property
    def python_type(self) -> type:
        return dict


class EncryptedBinary(Encrypted):
    """Bytes, in a binary column by default (``storage="text"`` for a text column)."""

    cache_ok = True
    fixed_type = "bytes"
    default_storage = "binary"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("bytes", **kwargs)
