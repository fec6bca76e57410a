"""``BlindIndexField``: a ``BIGINT`` beside an encrypted field, computed in Rust from the field's
plaintext before every save, for equality lookups without decrypting.

The index is the one ``fieldcrypt-sqlx`` and ``fieldcrypt encrypt-column --index`` compute:
defined by the encrypted field's context (table, column), the index column's name, its
normalisers and bits. Truncated on purpose (the planner picks bits from the expected rows), so
a lookup also finds rows holding other values: those lookups go through
``EncryptedQuerySet.search()``, which opens the candidates and keeps the matches. An index of
63 bits is *exact* (a wrong row per lookup with probability rows/2^63): plain ``filter()``,
``exclude()``, ``count()``, ``update()`` and ``delete()`` go through it.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from django.core import checks, exceptions
from django.db import models

from fieldcrypt._native import BlindIndex
from fieldcrypt.django import conf

EXACT_BITS = 63


class BlindIndexField(models.BigIntegerField):
    """A blind index of the encrypted text field named ``source``: ``bits`` (1 to 63), or
    ``rows`` (the rows the table will hold; the planner picks the bits). ``normalizers``:
    ``trim``, ``casefold``, ``nfkc``, ``digits``; with ``casefold``, ``iexact`` lookups go
    through the index too."""

    def __init__(
        self,
        source: str = "",
        *args: Any,
        normalizers: Sequence[str] = (),
        bits: Optional[int] = None,
        rows: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        if not source:
            raise ValueError("BlindIndexField(source=...) names the encrypted field it indexes")
        if (bits is None) == (rows is None):
            raise ValueError("BlindIndexField takes bits= or rows= (the planner picks bits)")
        self.source = source
        self.normalizers = tuple(normalizers)
        self.bits = bits
        self.rows = rows
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", not kwargs.get("unique", False))
        super().__init__(*args, **kwargs)
        # Checks the definition now (normalisers, bits): a typo fails at import, not at save.
        self._probe = BlindIndex("t", "c", "i", bits=bits, rows=rows, normalizers=list(normalizers))  # type: ignore[arg-type]  # checked at runtime

    @property
    def planned_bits(self) -> int:
        return int(self._probe.bits)

    @property
    def exact(self) -> bool:
        """Whether lookups through it return only matching rows (63 bits)."""
        return self.planned_bits >= EXACT_BITS

    @property
    def casefolds(self) -> bool:
        return bool(self._probe.casefolds)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if path.startswith("fieldcrypt.django."):
            path = "fieldcrypt.django." + type(self).__name__
        kwargs["source"] = self.source
        if self.normalizers:
            kwargs["normalizers"] = list(self.normalizers)
        if self.bits is not None:
            kwargs["bits"] = self.bits
        if self.rows is not None:
            kwargs["rows"] = self.rows
        for default, key in ((True, "null"), (False, "editable")):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        if kwargs.get("db_index", False) == (not kwargs.get("unique", False)):
            kwargs.pop("db_index", None)
        return name, path, args, kwargs

    def source_field(self) -> Any:
        return self.model._meta.get_field(self.source)

    def index(self) -> BlindIndex:
        """The index definition: the source field's context, this column's name."""
        found = self.__dict__.get("_index")
        if found is None:
            table, column = self.source_field().context_names()
            found = BlindIndex(
                table,
                column,
                self.column,
                bits=self.planned_bits,
                normalizers=list(self.normalizers),  # type: ignore[arg-type]
            )
            self.__dict__["_index"] = found
        return found

    def value_for(self, plaintext: Any) -> Optional[int]:
        if plaintext is None:
            return None
        if not isinstance(plaintext, str):
            raise exceptions.ValidationError(
                f"{self.model._meta.label}.{self.name} indexes text, not {type(plaintext).__name__}"
            )
        return int(self.index().value(conf.keyring(), plaintext))

    def lookup_values(self, plaintext: str) -> List[int]:
        return list(self.index().lookup(conf.keyring(), plaintext))

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        from django.db.models.signals import pre_save

        pre_save.connect(self._check_update_fields, sender=cls, weak=False)

    def _check_update_fields(self, sender: Any, update_fields: Any = None, **_: Any) -> None:
        """save(update_fields=[source]) without this index would leave it stale: refused."""
        if not update_fields:
            return
        source = self.source_field()
        if (source.name in update_fields or source.attname in update_fields) and not (
            self.name in update_fields or self.attname in update_fields
        ):
            raise exceptions.FieldError(
                f"save(update_fields=...) writes {source.name} without its blind index "
                f"{self.name}: add {self.name!r} to update_fields (an instance loaded with only() "
                "or defer() saves its loaded fields only: load the index too)"
            )

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        from fieldcrypt.django.fields import PRESEALED

        plaintext = getattr(model_instance, self.source_field().attname)
        presealed = model_instance.__dict__.get(PRESEALED)
        found = presealed.pop(self.attname, None) if presealed is not None else None
        if found is not None and found[0] is plaintext:
            setattr(model_instance, self.attname, found[1])
            return found[1]
        value = self.value_for(plaintext)
        setattr(model_instance, self.attname, value)
        return value

    def check(self, **kwargs: Any) -> List[Any]:
        errors: List[Any] = list(super().check(**kwargs))
        from fieldcrypt.django.fields import EncryptedMixin

        try:
            source = self.source_field()
        except exceptions.FieldDoesNotExist:
            return [
                *errors,
                checks.Error(
                    f"BlindIndexField source {self.source!r} is not a field of this model",
                    obj=self,
                    id="fieldcrypt.E010",
                ),
            ]
        if not isinstance(source, EncryptedMixin) or source.value_type != "string":
            errors.append(
                checks.Error(
                    f"BlindIndexField source {self.source!r} is not an encrypted text field",
                    hint="index an EncryptedCharField, EncryptedTextField or EncryptedEmailField",
                    obj=self,
                    id="fieldcrypt.E011",
                )
            )
        if self.unique and not self.exact:
            errors.append(
                checks.Error(
                    f"unique=True on a blind index of {self.planned_bits} bits would refuse "
                    "distinct values that share an index value",
                    hint="use bits=63 (an exact index) for a unique constraint",
                    obj=self,
                    id="fieldcrypt.E012",
                )
            )
        if self.rows is None and not self.exact:
            # bits given: compare with the planner for the rows the table holds.
            errors.extend(self._check_table_rows(kwargs.get("databases") or []))
        return errors

    def _check_table_rows(self, databases: Sequence[str]) -> List[Any]:
        from django.db import DatabaseError, connections, router

        found: List[Any] = []
        for alias in databases:
            if not router.allow_migrate_model(alias, self.model):
                continue
            try:
                rows = self.model._base_manager.using(alias).count()
            except DatabaseError:
                continue
            if rows < 1000:
                continue
            warning = self._probe.bits_warning(rows)
            if warning:
                found.append(
                    checks.Warning(
                        f"{warning} (table {self.model._meta.db_table} on {alias!r})",
                        hint="re-index with the planner's bits: fieldcrypt reindex, then change bits=",
                        obj=self,
                        id="fieldcrypt.W001",
                    )
                )
        return found
