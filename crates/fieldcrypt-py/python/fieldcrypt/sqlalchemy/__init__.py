"""fieldcrypt for SQLAlchemy 2: encrypted column types and blind indexes, on the fieldcrypt
format and keyrings (the same envelopes and indexes as ``fieldcrypt.django``, a Rust service
with ``fieldcrypt-sqlx``, or the ``fieldcrypt`` command)::

    from fieldcrypt import Keyring
    from fieldcrypt import sqlalchemy as fc

    fc.configure(Keyring.open_file("keyring.json"))

    class Customer(Base):
        __tablename__ = "customers"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(fc.EncryptedString(254))
        email_index: Mapped[Optional[int]] = fc.blind_index("email", normalizers=["trim", "casefold"], bits=63)

    session.scalars(select(Customer).where(Customer.email == "ann@example.org"))

Each value is sealed for (table name, column name) of its column (or ``context=``), so a value
copied into another column does not open. Equality goes through a blind index; every other
operator on an encrypted column raises :class:`EncryptedColumnError`. Row binding (Django's
``bind_row``) is not offered: a SQLAlchemy type sees one value, never its row.

Not caught (SQLAlchemy gives no hook, or the check would walk every statement): an encrypted
column on the right of a plain column's operator (``Customer.name == Customer.email``), inside
a SQL function (``func.lower(Customer.email)``), ordered or grouped inside a subquery or by a
label name (``order_by("e")``), or in ``text()``. Top-level ``order_by()``/``group_by()`` of an
executed statement are refused.
"""

from fieldcrypt.sqlalchemy import hooks as _hooks
from fieldcrypt.sqlalchemy.config import EncryptedColumnError, KeyringSource, configure, keyring
from fieldcrypt.sqlalchemy.index import (
    BlindIndexColumn,
    BlindIndexType,
    blind_index,
    index_value,
)
from fieldcrypt.sqlalchemy.search import asearch, search
from fieldcrypt.sqlalchemy.types import (
    Encrypted,
    EncryptedBigInteger,
    EncryptedBinary,
    EncryptedBoolean,
    EncryptedDate,
    EncryptedDateTime,
    EncryptedFloat,
    EncryptedInteger,
    EncryptedJSON,
    EncryptedNumeric,
    EncryptedString,
    EncryptedText,
)

_hooks.install()

__all__ = [
    "BlindIndexColumn",
    "BlindIndexType",
    "Encrypted",
    "EncryptedBigInteger",
    "EncryptedBinary",
    "EncryptedBoolean",
    "EncryptedColumnError",
    "EncryptedDate",
    "EncryptedDateTime",
    "EncryptedFloat",
    "EncryptedInteger",
    "EncryptedJSON",
    "EncryptedNumeric",
    "EncryptedString",
    "EncryptedText",
    "KeyringSource",
    "asearch",
    "blind_index",
    "configure",
    "index_value",
    "keyring",
    "search",
]
