"""Lookups on encrypted fields: ``isnull`` as usual; ``exact``, ``in`` (and ``iexact`` when
the index case-folds) through an exact blind index; everything else raises ``FieldError``
naming what to do. A truncated index never serves ``filter()``: it would return, count,
update or delete rows that do not match. ``EncryptedQuerySet.search()`` serves it instead."""

from __future__ import annotations

from typing import Any, List, Sequence

from django.core.exceptions import FieldError
from django.db.models import lookups

INDEXED = ("exact", "iexact", "in")


class IndexLookup(lookups.Lookup):
    """``<index column> IN (values)``: the values under every index root still held."""

    lookup_name = "exact"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def __init__(self, lhs: Any, rhs: Any, index_field: Any, values: Sequence[int]) -> None:
        self.index_field = index_field
        self.values = list(values)
        super().__init__(lhs, rhs)

    def get_prep_lookup(self) -> Any:
        return self.rhs

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        alias = getattr(self.lhs, "alias", None)
        column = connection.ops.quote_name(self.index_field.column)
        target = f"{compiler.quote_name_unless_alias(alias)}.{column}" if alias else column
        if not self.values:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(self.values))
        return f"{target} IN ({placeholders})", list(self.values)


def _index_for(field: Any, lookup_name: str) -> Any:
    indexes = field.blind_indexes()
    # filter() returns exactly the matching rows only through an exact index that hashes the
    # value itself (no normaliser), or, for iexact, its case-folded form and nothing else: a
    # normaliser that also trims or keeps digits makes other values share the index value.
    wanted = ("casefold",) if lookup_name == "iexact" else ()
    exact = [i for i in indexes if i.exact and tuple(i.normalizers) == wanted]
    if exact:
        return exact[0]
    label = field._label()
    if indexes:
        raise FieldError(
            f"{label}__{lookup_name}: its blind index ({indexes[0].name}, "
            f"{indexes[0].planned_bits} bits, normalisers {list(indexes[0].normalizers)}) also "
            f"matches other values (truncated, or normalised), so "
            f"filter() would return rows that do not match. Use "
            f"{field.model.__name__}.objects.search({field.name}{'' if lookup_name == 'exact' else '__' + lookup_name}=...) "
            f"(an EncryptedManager), or fieldcrypt.django.search(queryset, ...), which open the "
            f"candidates and keep the matches"
        )
    raise FieldError(
        f"{label}__{lookup_name}: an encrypted field has no {lookup_name} lookup without a blind "
        f"index; add BlindIndexField(source={field.name!r}, ...) and use search()"
    )


def lookup_for(field: Any, lookup_name: str) -> Any:
    if lookup_name == "isnull":
        return lookups.IsNull
    if lookup_name not in INDEXED:
        raise FieldError(
            f"{field._label()}__{lookup_name}: the database holds only ciphertext, so it cannot "
            f"compute {lookup_name!r}. Equality goes through a blind index (BlindIndexField); "
            "anything else: read the rows and filter in Python"
        )
    index_field = _index_for(field, lookup_name)

    def build(lhs: Any, rhs: Any) -> Any:
        if rhs is None and lookup_name != "in":
            return lookups.IsNull(lhs, True)
        if lookup_name == "in":
            values: List[int] = []
            for item in rhs:
                for v in index_field.lookup_values(_text(field, item)):
                    if v not in values:
                        values.append(v)
        else:
            if rhs is None:
                raise FieldError(f"{field._label()}=None: use {field.name}__isnull=True")
            values = index_field.lookup_values(_text(field, rhs))
        lookup = IndexLookup(lhs, rhs, index_field, values)
        lookup.lookup_name = lookup_name
        return lookup

    build.lookup_name = lookup_name  # type: ignore[attr-defined]
    return build


def _text(field: Any, value: Any) -> str:
    if hasattr(value, "resolve_expression"):
        raise FieldError(
            f"{field._label()}: a lookup through a blind index compares with a value, not an "
            "expression"
        )
    if not isinstance(value, str):
        raise FieldError(f"{field._label()}: a blind-index lookup takes a str")
    return value
