"""The event listeners, registered once on import of ``fieldcrypt.sqlalchemy``:

* ``Column after_parent_attach``: binds an encrypted or blind-index type to its column (a
  column whose type instance is already bound to another column gets a copy of its own: one
  type instance shared by several columns, ``type_annotation_map``, ``Table.to_metadata()``).
* ORM ``before_update``: a flushed object whose indexed source changed gets its index value,
  so the instance holds what the row holds.
* Engine ``before_execute`` (every engine, sync or asyncio): for INSERT and UPDATE statements
  on a table with encrypted columns, refuses what would write something that does not open
  (a SQL expression, a bind of another type), and adds the blind index value where the
  statement sets the source without it (``update().values(email=...)``, executemany
  parameters, named ``bindparam()``s); for SELECTs, refuses a top-level ORDER BY or GROUP BY on
  an encrypted column. It sees the executed statement only: ordering inside a subquery or a
  ``text()`` is not checked.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import Column, bindparam, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.sql import Insert, Select, Update
from sqlalchemy.sql.elements import BindParameter, ClauseElement, Grouping, Label, Null, UnaryExpression
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy import inspect

from fieldcrypt.sqlalchemy.config import EncryptedColumnError
from fieldcrypt.sqlalchemy.index import BlindIndexType
from fieldcrypt.sqlalchemy.types import Encrypted

Params = Dict[str, Any]


def _on_attach(column: Column[Any], table: Any) -> None:
    found = column.type
    if isinstance(found, (Encrypted, BlindIndexType)):
        if found._column is not None and found._column is not column:
            found = found.copy()
            column.type = found
        found.attach(column, table)


def _orm_before_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    state: Any = inspect(target)
    for column in mapper.columns:
        index_type = column.type
        if not isinstance(index_type, BlindIndexType):
            continue
        try:
            source = mapper.get_property_by_column(index_type.source_column())
            index = mapper.get_property_by_column(column)
        except UnmappedColumnError:
            continue
        if state.attrs[source.key].history.has_changes():
            setattr(target, index.key, index_type.value_for(getattr(target, source.key)))


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key.key)


def _check_written(column: Column[Any], value: Any) -> None:
    """Refuses what the column's type would not seal, or what would not open."""
    encrypted = column.type
    assert isinstance(encrypted, Encrypted)
    label = encrypted.context_label()
    if isinstance(value, Null):
        return
    if isinstance(value, BindParameter):
        bound = value.type
        if isinstance(bound, NullType) or (
            isinstance(bound, Encrypted) and (bound.context or bound._bound) == (encrypted.context or encrypted._bound)
        ):
            return
        raise EncryptedColumnError(
            f"{label}: a bind of type {bound!r} (literal(), bindparam(type_=...), type_coerce()) "
            "would be written as is, not sealed for this column; pass the plain value"
        )
    raise EncryptedColumnError(
        f"{label}: writing a SQL expression into an encrypted column stores what the database "
        "computed or copied (ciphertext of another context, or plaintext), which does not open; "
        "read, change and write the value in Python"
    )


def _check_ordering(select: Select[Any]) -> None:
    for clauses, what in ((select._order_by_clauses, "order_by"), (select._group_by_clauses, "group_by")):
        for clause in clauses:
            element: Any = clause
            while isinstance(element, (UnaryExpression, Label, Grouping)):
                element = element.element
            found = getattr(element, "type", None)
            if isinstance(found, Encrypted):
                raise EncryptedColumnError(
                    f"{what}({found.context_label()}): the column holds ciphertext, so the "
                    f"database can only {'order' if what == 'order_by' else 'group'} the "
                    "ciphertext; read the rows and sort or group in Python"
                )


def _check_from_select(elem: Insert, columns: Any) -> None:
    """INSERT ... FROM SELECT copies ciphertext as is (it opens only in the same table and
    column); refused when it copies an indexed source without its index."""
    names = {_key(n) for n in (elem._select_names or ())}
    for index in [c for c in columns if isinstance(c.type, BlindIndexType)]:
        index_type = index.type
        assert isinstance(index_type, BlindIndexType)
        if index_type.source_column().key in names and index.key not in names:
            raise EncryptedColumnError(
                f"INSERT ... FROM SELECT copies {index_type.source_type().context_label()} "
                f"without its blind index {index.name!r}: select the index column too"
            )


def _before_execute(
    conn: Connection, elem: Any, multiparams: List[Params], params: Params, options: Any
) -> Tuple[Any, List[Params], Params]:
    if isinstance(elem, Select):
        _check_ordering(elem)
        return elem, multiparams, params
    if not isinstance(elem, (Insert, Update)):
        return elem, multiparams, params
    columns = getattr(elem.table, "c", None)
    if columns is None:
        return elem, multiparams, params
    encrypted = {c.key: c for c in columns if isinstance(c.type, Encrypted)}
    if not encrypted:
        return elem, multiparams, params
    values = {_key(k): v for k, v in (elem._values or {}).items()}
    ordered: Dict[str, Any] = {}
    if isinstance(elem, Update) and elem._ordered_values:
        ordered = {_key(k): v for k, v in elem._ordered_values}
    for key, value in [*values.items(), *ordered.items()]:
        if key in encrypted:
            _check_written(encrypted[key], value)
    if isinstance(elem, Insert):
        for rows in elem._multi_values:
            for row in rows:
                items = row.items() if isinstance(row, dict) else zip(elem.table.c, row)
                for row_key, row_value in items:
                    if _key(row_key) in encrypted and isinstance(row_value, ClauseElement):
                        _check_written(encrypted[_key(row_key)], row_value)
        if elem.select is not None:
            _check_from_select(elem, columns)
    dicts = list(multiparams) if multiparams else ([params] if params else [])
    given = set(values) | set(ordered) | (set(dicts[0]) if dicts else set())
    added: Dict[Any, Any] = {}
    rewritten: Optional[List[Params]] = None
    for index in [c for c in columns if isinstance(c.type, BlindIndexType)]:
        index_type = index.type
        assert isinstance(index_type, BlindIndexType)
        source = index_type.source_column().key
        if index.key in given or source not in given:
            continue  # set explicitly, or left alone
        label = index_type.source_type().context_label()
        if source in ordered:
            raise EncryptedColumnError(
                f"ordered_values() sets {label} without its blind index {index.name!r}: add "
                f"({index.name}, fieldcrypt.sqlalchemy.index_value(<index column>, value))"
            )
        if source in values:
            value = values[source]
            if isinstance(value, BindParameter) and any(value.key in d for d in dicts):
                # A named bindparam() filled from the executemany parameters.
                name = f"fieldcrypt_{index.key}"
                rewritten = rewritten or [dict(d) for d in dicts]
                for d in rewritten:
                    d[name] = index_type.value_for(d.get(value.key, value.effective_value))
                added[index] = bindparam(name, type_=index_type)
            else:
                plain = None if isinstance(value, Null) else value.effective_value
                added[index] = index_type.value_for(plain)
        elif isinstance(elem, Update):
            # An UPDATE's SET from the parameters (ORM bulk UPDATE by primary key, executemany).
            # An INSERT's parameters are read by the index column's default instead.
            rewritten = rewritten or [dict(d) for d in dicts]
            for d in rewritten:
                d[index.key] = index_type.value_for(d.get(source))
    if added:
        elem = elem.values(added)
    if rewritten is not None:
        if multiparams:
            return elem, rewritten, params
        return elem, multiparams, rewritten[0]
    return elem, multiparams, params


def install() -> None:
    """Registers the listeners (idempotent)."""
    if not event.contains(Column, "after_parent_attach", _on_attach):
        event.listen(Column, "after_parent_attach", _on_attach)
    if not event.contains(Mapper, "before_update", _orm_before_update):
        event.listen(Mapper, "before_update", _orm_before_update)
    if not event.contains(Engine, "before_execute", _before_execute):
        event.listen(Engine, "before_execute", _before_execute, retval=True)
