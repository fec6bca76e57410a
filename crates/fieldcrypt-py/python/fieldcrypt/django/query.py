"""``EncryptedQuerySet`` (and ``EncryptedManager``): ``search()`` through truncated blind
indexes, which opens the candidates and keeps only the rows that match, and ``order_by()``
that refuses encrypted fields instead of ordering ciphertext."""

from __future__ import annotations

import contextvars
from typing import Any, Dict, List, Tuple

from django.core.exceptions import FieldError
from django.db import models


_bulk_updating: "contextvars.ContextVar[bool]" = contextvars.ContextVar(
    "fieldcrypt_bulk_updating", default=False
)


def _encrypted(model: Any, name: str) -> Any:
    from fieldcrypt.django.fields import EncryptedMixin

    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    return field if isinstance(field, EncryptedMixin) else None


def _parse(model: Any, key: str) -> Tuple[Any, str]:
    name, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    field = _encrypted(model, name)
    if field is None:
        raise FieldError(f"search({key}=...): {name} is not an encrypted field of {model.__name__}")
    if lookup not in ("exact", "iexact", "in"):
        raise FieldError(f"search({key}=...): search() takes exact, iexact and in lookups")
    return field, lookup


def _index(field: Any, lookup: str) -> Any:
    indexes = [i for i in field.blind_indexes() if lookup != "iexact" or i.casefolds]
    if not indexes:
        folds = lookup == "iexact"
        raise FieldError(
            f"{field._label()}: no blind index{' that case-folds' if folds else ''}; add "
            f"BlindIndexField(source={field.name!r}"
            + (", normalizers=['casefold']" if folds else "")
            + ", rows=...)"
        )
    # The widest index reads the fewest candidates.
    return max(indexes, key=lambda i: i.planned_bits)


def search(queryset: Any, **lookups: Any) -> List[Any]:
    """The rows of ``queryset`` whose encrypted fields equal the values given
    (``email="a@b.org"``, ``email__iexact=...``, ``email__in=[...]``): found through the blind
    index, then opened and compared, so rows that only share an index value are dropped.
    Evaluates the query."""
    model = queryset.model
    checks: List[Tuple[Any, str, Any]] = []
    narrowed = queryset
    for key, value in lookups.items():
        field, lookup = _parse(model, key)
        index = _index(field, lookup)
        queries = list(value) if lookup == "in" else [value]
        if any(not isinstance(q, str) for q in queries):
            raise FieldError(f"search({key}=...) takes text")
        values: List[int] = []
        for q in queries:
            for v in index.lookup_values(q):
                if v not in values:
                    values.append(v)
        narrowed = narrowed.filter(**{f"{index.name}__in": values})
        checks.append((field, lookup, queries))
    found = []
    for obj in narrowed:
        if all(_keeps(field, lookup, queries, getattr(obj, field.attname)) for field, lookup, queries in checks):
            found.append(obj)
    return found


def _keeps(field: Any, lookup: str, queries: List[str], plaintext: Any) -> bool:
    if not isinstance(plaintext, str):
        return False
    if lookup == "iexact":
        return any(q.casefold() == plaintext.casefold() for q in queries)
    return plaintext in queries


class EncryptedQuerySet(models.QuerySet):
    def search(self, **lookups: Any) -> List[Any]:
        """See :func:`fieldcrypt.django.search`."""
        return search(self, **lookups)

    def search_pks(self, **lookups: Any) -> List[Any]:
        """The primary keys of :meth:`search`: ``filter(pk__in=...)`` then counts, updates or
        deletes exactly the matching rows."""
        return [obj.pk for obj in search(self, **lookups)]

    def update(self, **kwargs: Any) -> int:
        """``QuerySet.update()``, refusing what would write an envelope that does not open: a
        row-bound field (the UPDATE has no row), and an expression over encrypted fields (the
        database would copy or compute ciphertext). ``Value(x)`` and plain values are sealed."""
        if not _bulk_updating.get():
            for name, value in list(kwargs.items()):
                _check_write(self.model, name, value, "update()")
                if isinstance(value, models.Value) and _encrypted(self.model, name) is not None:
                    # Value(x) compiles with its own output field: it would write x as is.
                    kwargs[name] = value.value
        return int(super().update(**kwargs))

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> int:
        for name in fields:
            _check_write(self.model, name, None, "bulk_update()")
        # Django's bulk_update writes CASE expressions of Value()s, each sealed by the field.
        token = _bulk_updating.set(True)
        try:
            return int(super().bulk_update(objs, fields, batch_size=batch_size))
        finally:
            _bulk_updating.reset(token)

    def order_by(self, *field_names: Any) -> "EncryptedQuerySet":
        for name in field_names:
            if isinstance(name, str):
                bare = name.lstrip("-+?")
                if _encrypted(self.model, bare) is not None:
                    raise FieldError(
                        f"order_by({name!r}): {self.model.__name__}.{bare} is encrypted, and the "
                        "database can only order its ciphertext; sort in Python after reading"
                    )
        result: EncryptedQuerySet = super().order_by(*field_names)
        return result


def _check_write(model: Any, name: str, value: Any, what: str) -> None:
    field = _encrypted(model, name)
    if field is None:
        return
    if field.bind_row:
        raise FieldError(
            f"{what} of {field._label()}: the field is bound to its row, and {what} writes "
            "without the row, so the value would not open; set it on each instance and save()"
        )
    if hasattr(value, "resolve_expression") and not isinstance(value, models.Value):
        raise FieldError(
            f"{what} of {field._label()} with an expression: the database would write "
            "ciphertext it computed or copied, which does not open; read, change and save "
            "in Python"
        )


class EncryptedManager(models.Manager.from_queryset(EncryptedQuerySet)):  # type: ignore[misc]
    """A manager with :meth:`EncryptedQuerySet.search` and the ``order_by`` guard."""


