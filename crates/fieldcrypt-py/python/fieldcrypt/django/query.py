"""``EncryptedQuerySet`` (and ``EncryptedManager``): ``search()`` through truncated blind
indexes, which opens the candidates and keeps only the rows that match, and ``order_by()``
that refuses encrypted fields instead of ordering ciphertext."""

from __future__ import annotations

import contextvars
import datetime
import decimal
import itertools
from typing import Any, Dict, Iterator, List, Tuple

from django.core.exceptions import FieldError
from django.db import models, transaction
from django.db.models.query import ModelIterable

from fieldcrypt import FieldcryptError
from fieldcrypt.django import conf
from fieldcrypt.django.fields import PRESEALED, _Pending, pending_batch


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


#: Objects sealed per batch by bulk_create when it is given no batch_size.
PRESEAL_BATCH = 1000
#: Values that are never SQL expressions (no resolve_expression lookup needed).
PLAIN_TYPES = frozenset(
    (str, bytes, int, float, bool, decimal.Decimal, datetime.date, datetime.datetime, dict, list)
)

#: Rows read per batch before their envelopes are opened together.
BATCH = 200


def _open_batch(batch: List[Any]) -> None:
    """Opens a batch's pending envelopes, one open_many per field. A field whose batch does
    not open is left to its values' first access, which opens each alone: the error surfaces
    on its own row."""
    by_field: Dict[Any, List[Any]] = {}
    for pending in batch:
        by_field.setdefault(pending.field, []).append(pending)
    keyring = conf.keyring()
    for field, pendings in by_field.items():
        table, column = field.context_names()
        try:
            values = keyring.open_many(
                table, column, [p.envelope for p in pendings], expect=field.value_type
            )
        except FieldcryptError:
            continue
        convert = field.from_opened
        for pending, value in zip(pendings, values):
            pending.value = convert(value)
            pending.done = True


def _encrypted_attnames(model: Any) -> Tuple[str, ...]:
    found = model.__dict__.get("_fieldcrypt_attnames")
    if found is None:
        from fieldcrypt.django.fields import EncryptedMixin

        found = tuple(
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedMixin) and not f.bind_row and not f.migrating
        )
        model._fieldcrypt_attnames = found
    return found  # type: ignore[no-any-return]


def _settle(obj: Any, depth: int = 0) -> None:
    """Puts each opened value of ``obj`` (and of its select_related objects) in its place."""
    data = obj.__dict__
    for name in _encrypted_attnames(type(obj)):
        value = data.get(name)
        if type(value) is _Pending:
            data[name] = value.value if value.done else value.field.open_value(value.envelope)
    cache = data["_state"].fields_cache
    if cache and depth < 8:
        for related in cache.values():
            if related is not None and hasattr(related, "_state"):
                _settle(related, depth + 1)


class EncryptedModelIterable(ModelIterable):
    """Django's ModelIterable, reading rows in batches of BATCH whose envelopes are opened
    together (GIL released, on every core) before the rows are handed out."""

    def __iter__(self) -> Iterator[Any]:
        inner = super().__iter__()
        while True:
            batch: List[Any] = []
            token = pending_batch.set(batch)
            try:
                rows = list(itertools.islice(inner, BATCH))
            finally:
                pending_batch.reset(token)
            if not rows:
                return
            _open_batch(batch)
            for obj in rows:
                _settle(obj)  # a value whose batch failed raises here, on its own row
                yield obj


class EncryptedQuerySet(models.QuerySet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if getattr(self, "_iterable_class", None) is ModelIterable:
            self._iterable_class: Any = EncryptedModelIterable

    def bulk_create(self, objs: Any, batch_size: Any = None, **kwargs: Any) -> Any:
        """``QuerySet.bulk_create``, sealing each encrypted field's values (and computing each
        blind index's) in one batch per field and per ``batch_size`` objects (1,000 by
        default): GIL released, on every core, and no more envelopes held at once than one
        batch's. One transaction, as Django's own."""
        objs = list(objs)
        step = batch_size or PRESEAL_BATCH
        try:
            if len(objs) <= step:
                _preseal(self.model, objs)
                return super().bulk_create(objs, batch_size=batch_size, **kwargs)
            with transaction.atomic(using=self.db, savepoint=False):
                for start in range(0, len(objs), step):
                    part = objs[start : start + step]
                    _preseal(self.model, part)
                    super().bulk_create(part, batch_size=batch_size, **kwargs)
            return objs
        finally:
            # Never left behind: a later save() of a changed (mutable) value must seal anew.
            for obj in objs:
                obj.__dict__.pop(PRESEALED, None)

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
                field = _encrypted(self.model, name)
                if field is None:
                    continue
                if isinstance(value, models.Value):
                    # Value(x) compiles with its own output field: it would write x as is.
                    value = kwargs[name] = value.value
                # The field's blind indexes change with it, or lookups would find stale rows.
                for index in field.blind_indexes():
                    kwargs.setdefault(index.name, index.value_for(value))
        return int(super().update(**kwargs))

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> int:
        objs = list(objs)
        fields = list(fields)
        for name in list(fields):
            _check_write(self.model, name, None, "bulk_update()")
            field = _encrypted(self.model, name)
            if field is None:
                continue
            for obj in objs:
                value = getattr(obj, field.attname)
                if isinstance(value, models.Value):
                    setattr(obj, field.attname, value.value)
                elif type(value) not in PLAIN_TYPES and hasattr(value, "resolve_expression"):
                    _check_write(self.model, name, value, "bulk_update()")
            # Its blind indexes are written with it, recomputed from the new values.
            for index in field.blind_indexes():
                for obj in objs:
                    index.pre_save(obj, False)
                if index.name not in fields:
                    fields.append(index.name)
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


def _preseal(model: Any, objs: List[Any]) -> None:
    from fieldcrypt.django.fields import EncryptedMixin
    from fieldcrypt.django.index import BlindIndexField

    if len(objs) < 2:
        return
    keyring = conf.keyring()
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedMixin) and not field.bind_row:
            todo = [(o, getattr(o, field.attname)) for o in objs]
            # type() first: hasattr() on a plain value raises and catches, which costs more
            # than the seal.
            todo = [
                (o, v)
                for o, v in todo
                if v is not None
                and (type(v) in PLAIN_TYPES or not hasattr(v, "resolve_expression"))
            ]
            if not todo:
                continue
            table, column = field.context_names()
            plain = [field.to_sealable(v) for _, v in todo]
            sealed = keyring.seal_many(table, column, plain, text=field.storage == "text")
            for (o, v), envelope in zip(todo, sealed):
                o.__dict__.setdefault(PRESEALED, {})[field.attname] = (v, envelope)
        elif isinstance(field, BlindIndexField):
            source = field.source_field()
            texts = [(o, getattr(o, source.attname)) for o in objs]
            texts = [(o, t) for o, t in texts if isinstance(t, str)]
            if not texts:
                continue
            values = field.index().values(keyring, [t for _, t in texts])
            for (o, t), value in zip(texts, values):
                o.__dict__.setdefault(PRESEALED, {})[field.attname] = (t, value)


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


