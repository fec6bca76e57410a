"""``search()`` and ``asearch()``: equality lookups through a blind index of any width.

A truncated index (``rows=``) also matches other values, so no WHERE on it is the answer:
these select the candidates by the index (the values under every index root still held),
open them, and keep the rows whose value equals the one searched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Tuple, Union

from sqlalchemy import select
from sqlalchemy.engine import Connection, Result
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql import Select

from fieldcrypt.sqlalchemy.config import EncryptedColumnError
from fieldcrypt.sqlalchemy.index import BlindIndexType, indexes_of, lookup_all, relative
from fieldcrypt.sqlalchemy.types import Encrypted

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Searched = Union[QueryableAttribute[Any], Any]


def _plan(
    attribute: Searched,
    value: Union[str, Iterable[str]],
    iexact: bool,
    statement: Optional[Select[Any]],
) -> Tuple[Select[Any], Callable[[Result[Any]], List[Any]]]:
    expr: Any = attribute.__clause_element__() if hasattr(attribute, "__clause_element__") else attribute
    encrypted = getattr(expr, "type", None)
    if not isinstance(encrypted, Encrypted) or encrypted.value_type != "string":
        raise EncryptedColumnError(f"search(): {attribute!r} is not an encrypted string column")
    label = encrypted.context_label()
    queries = [value] if isinstance(value, str) else list(value)
    indexes = [
        c for c in indexes_of(encrypted)
        if isinstance(c.type, BlindIndexType) and (not iexact or c.type.casefolds)
    ]
    if not indexes:
        column = label.rpartition(".")[2]
        folds = ", normalizers=['casefold']" if iexact else ""
        raise EncryptedColumnError(
            f"search({label}): no blind index{' that case-folds' if iexact else ''}; add "
            f"blind_index({column!r}{folds}, rows=...)"
        )
    # The widest index reads the fewest candidates.
    index = max(indexes, key=lambda c: c.type.planned_bits)  # type: ignore[attr-defined]
    wanted = lookup_all(index, label, queries)
    orm = isinstance(attribute, QueryableAttribute)
    if statement is None:
        statement = select(attribute.parent.entity) if orm else select(expr.table)
    statement = statement.where(relative(expr, index, label).in_(wanted))
    folded = {q.casefold() for q in queries}

    def keeps(plaintext: Any) -> bool:
        if not isinstance(plaintext, str):
            return False
        return plaintext.casefold() in folded if iexact else plaintext in queries

    def keep(result: Result[Any]) -> List[Any]:
        if orm:
            key = attribute.key
            return [o for o in result.scalars().unique().all() if keeps(getattr(o, key))]
        return [row for row in result.all() if keeps(row._mapping[expr])]

    return statement, keep


def search(
    session: Union[Session, Connection],
    attribute: Searched,
    value: Union[str, Iterable[str]],
    *,
    iexact: bool = False,
    statement: Optional[Select[Any]] = None,
) -> List[Any]:
    """The rows whose encrypted ``attribute`` (``Customer.email``, or a table's column) equals
    ``value`` (a str, or several: any of them), found through its widest blind index, opened
    and compared; ``iexact=True`` compares case-folded, through an index that case-folds.
    ORM attributes give instances (``select(Customer)``, or ``statement``: narrow it with your
    own ``where()``); Core columns give rows of ``select(table)``."""
    stmt, keep = _plan(attribute, value, iexact, statement)
    return keep(session.execute(stmt))


async def asearch(
    session: Union["AsyncSession", "AsyncConnection"],
    attribute: Searched,
    value: Union[str, Iterable[str]],
    *,
    iexact: bool = False,
    statement: Optional[Select[Any]] = None,
) -> List[Any]:
    """:func:`search` on an ``AsyncSession`` or ``AsyncConnection``."""
    stmt, keep = _plan(attribute, value, iexact, statement)
    return keep(await session.execute(stmt))
