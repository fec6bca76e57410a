"""Encrypted model fields: each column holds only fieldcrypt envelopes.

A field seals its value for ``(db_table, column)`` (or the ``context`` given, so a renamed
model keeps opening its rows), and with ``bind_row=True`` for the row's primary key as well. A
value copied into another column or row does not open. NULL stays NULL; ``""``, ``0`` and
``False`` are sealed like any value. Sealing and opening run in Rust (``fieldcrypt._native``).
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import logging
import threading
from collections import Counter
from typing import Any, ClassVar, Dict, List, Optional, Tuple

from django.core import checks, exceptions
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone

from fieldcrypt import FieldcryptError, Json
from fieldcrypt._native import envelope_length, is_envelope
from fieldcrypt.django import conf

logger = logging.getLogger("fieldcrypt.django")

STORAGES = ("text", "binary")
#: Where EncryptedQuerySet.bulk_create leaves each object's values sealed in one batch:
#: {attname: (plaintext, envelope)}; pre_save takes an entry only for the same plaintext object.
PRESEALED = "_fieldcrypt_presealed"
LEGACY_FLAVORS = (
    "encrypted-model-fields",
    "fernet-fields",
    "fernet-encrypted-fields",
    "cryptography",
    "cryptbase",
    "searchable",
)
#: Longest varchar each backend's column holds, in characters (envelopes are ASCII).
VARCHAR_LIMITS = {"mysql": 16383, "postgresql": 10485760, "oracle": 4000}

_counts_lock = threading.Lock()
#: Values read in migrating mode, by (app_label.Model.field, source): "fieldcrypt",
#: "plaintext" or a legacy flavor. Logged once per field and source; read it as a metric.
migrating_reads: "Counter[Tuple[str, str]]" = Counter()


class Sealed:
    """An envelope ready for the database: what ``pre_save`` hands to ``get_db_prep_value``
    when the row is bound (the pk is only known there)."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: Any) -> None:
        self.envelope = envelope

    def __repr__(self) -> str:
        return "Sealed(...)"


class RowBoundValue:
    """A row-bound envelope as read from the database: a model instance opens it on first
    access with its primary key; ``values()``/``values_list()`` hand it out as is, to open with
    ``.open(row=pk)``. It compares equal to nothing (it is not the value)."""

    __slots__ = ("_field", "envelope")

    def __init__(self, field: "EncryptedMixin", envelope: Any) -> None:
        self._field = field
        self.envelope = envelope

    def open(self, row: Any) -> Any:
        return self._field.open_value(self.envelope, row=row)

    def __repr__(self) -> str:
        return f"RowBoundValue({self._field._label()}: open with .open(row=pk))"

    def __eq__(self, other: object) -> bool:
        raise exceptions.FieldError(
            f"{self._field._label()} is bound to its row: a value read without its row "
            "cannot be compared; open it with .open(row=pk)"
        )

    __hash__ = None  # type: ignore[assignment]


class _RowBoundDescriptor(DeferredAttribute):
    """Django's deferred-loading attribute, which also opens a row-bound envelope on first
    access with the instance's primary key. A data descriptor (it has __set__), so reads come
    through it although the value sits in the instance's __dict__."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if type(value) is RowBoundValue:
            value = value.open(row=instance.pk)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


#: While an EncryptedQuerySet reads a batch of rows, the list its unbound fields append their
#: envelopes to (as _Pending), opened together afterwards (open_many: GIL released, all cores).
pending_batch: "contextvars.ContextVar[Optional[List[_Pending]]]" = contextvars.ContextVar(
    "fieldcrypt_pending_batch", default=None
)


class _Pending:
    """An envelope read in a batch: the batch opens it; EncryptedModelIterable replaces it
    with its value before the row is handed out (opening it alone if its batch failed)."""

    __slots__ = ("field", "envelope", "value", "done")

    def __init__(self, field: "EncryptedMixin", envelope: Any) -> None:
        self.field = field
        self.envelope = envelope
        self.value: Any = None
        self.done = False

    def resolve(self) -> Any:
        if self.done:
            return self.value
        return self.field.open_value(self.envelope)

    def __repr__(self) -> str:
        return "<pending>"


class EncryptedMixin:
    """What every encrypted field shares. ``value_type`` is the fieldcrypt type name."""

    value_type: ClassVar[Any] = "string"  # a type name Keyring.open(expect=) takes
    #: The legacy reader's field kind for this type.
    legacy_kind: ClassVar[str] = "text"

    # Set by Django's Field.
    model: Any
    name: str
    attname: str
    column: str
    null: bool

    def __init__(
        self,
        *args: Any,
        storage: str = "text",
        context: Optional[Tuple[str, str]] = None,
        bind_row: bool = False,
        migrating: Any = False,
        **kwargs: Any,
    ) -> None:
        if storage not in STORAGES:
            raise ValueError(f"storage={storage!r}: one of {STORAGES}")
        if migrating not in (False, True, "plaintext") and migrating not in LEGACY_FLAVORS:
            raise ValueError(
                f"migrating={migrating!r}: True (a plaintext column) or one of {LEGACY_FLAVORS}"
            )
        if context is not None:
            context = (str(context[0]), str(context[1]))
        self.storage = storage
        self.context = context
        self.bind_row = bind_row
        self.migrating = "plaintext" if migrating is True else migrating
        if bind_row:
            self.descriptor_class = _RowBoundDescriptor
        super().__init__(*args, **kwargs)

    # ---- schema ---------------------------------------------------------------------------

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        if path.startswith("fieldcrypt.django."):
            # The public path: migrations survive moving the class between modules.
            path = "fieldcrypt.django." + type(self).__name__
        if self.storage != "text":
            kwargs["storage"] = self.storage
        if self.context is not None:
            kwargs["context"] = self.context
        if self.bind_row:
            kwargs["bind_row"] = True
        if self.migrating:
            kwargs["migrating"] = True if self.migrating == "plaintext" else self.migrating
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        # The column's type: the backends' converters for the plain type (dates, decimals,
        # booleans) must never see an envelope.
        return "BinaryField" if self.storage == "binary" else "TextField"

    def plain_max_bytes(self) -> Optional[int]:
        """The longest plaintext in UTF-8 bytes, when the field bounds it (CharField)."""
        return None

    def db_type(self, connection: Any) -> Optional[str]:
        if self.storage == "text":
            limit = self.plain_max_bytes()
            if limit is not None and connection.vendor in ("mysql", "postgresql"):
                length = envelope_length(limit, text=True)
                if length <= VARCHAR_LIMITS[connection.vendor]:
                    return f"varchar({length})"
            return connection.data_types["TextField"]  # type: ignore[no-any-return]
        return connection.data_types["BinaryField"]  # type: ignore[no-any-return]

    def db_parameters(self, connection: Any) -> Dict[str, Any]:
        return {"type": self.db_type(connection), "check": None}

    def db_check(self, connection: Any) -> None:
        return None


    # ---- context --------------------------------------------------------------------------

    def context_names(self) -> Tuple[str, str]:
        if self.context is not None:
            return self.context
        return (self.model._meta.db_table, self.column)

    def _label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    # ---- writing --------------------------------------------------------------------------

    def to_sealable(self, value: Any) -> Any:
        """The plain Python value to seal (the field's own coercion), or None."""
        return self.to_python(value)  # type: ignore[attr-defined]

    def seal_value(self, value: Any, row: Any = None) -> Any:
        table, column = self.context_names()
        envelope = conf.keyring().seal(
            table, column, value, row=row, text=self.storage == "text"
        )
        return envelope

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = super().pre_save(model_instance, add)  # type: ignore[misc]
        if value is None or isinstance(value, Sealed):
            return value
        presealed = model_instance.__dict__.get(PRESEALED)
        if presealed is not None:
            found = presealed.pop(self.attname, None)
            if found is not None and found[0] is value:
                return Sealed(found[1])
        if isinstance(value, RowBoundValue):
            value = getattr(model_instance, self.attname)
        elif isinstance(value, _Pending):
            value = value.resolve()
        if isinstance(value, models.Value):
            value = value.value
        elif hasattr(value, "resolve_expression"):
            # An expression would be sealed as its text (or written as plaintext by the database).
            raise exceptions.FieldError(
                f"{self._label()}: a SQL expression cannot be written into an encrypted field; "
                "compute the value in Python and assign it"
            )
        if self.bind_row:
            pk = model_instance.pk
            if pk is None:
                raise exceptions.FieldError(
                    f"{self._label()} is bound to its row, but the row has no primary key before "
                    "the INSERT: give the primary key a default (UUIDField(default=uuid.uuid4)) or "
                    "set it before saving"
                )
            return Sealed(self.seal_value(self.to_sealable(value), row=pk))
        return Sealed(self.seal_value(self.to_sealable(value)))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        if isinstance(value, Sealed):
            envelope = value.envelope
        elif hasattr(value, "resolve_expression"):
            return value
        else:
            if self.bind_row:
                raise exceptions.FieldError(
                    f"{self._label()} is bound to its row: a value written without its row "
                    "(QuerySet.update(), bulk_update()) would not open; set it on the instance "
                    "and save() it"
                )
            envelope = self.seal_value(self.to_sealable(value))
        if self.storage == "binary":
            return connection.Database.Binary(envelope)
        return envelope

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_db_prep_value(value, connection, prepared=False)

    def get_prep_value(self, value: Any) -> Any:
        return value

    # ---- reading --------------------------------------------------------------------------

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = bytes(value)
        if self.bind_row:
            return RowBoundValue(self, value)
        batch = pending_batch.get()
        if batch is not None and not self.migrating:
            pending = _Pending(self, value)
            batch.append(pending)
            return pending
        return self.open_value(value)

    def open_value(self, stored: Any, row: Any = None) -> Any:
        if isinstance(stored, memoryview):
            stored = bytes(stored)
        table, column = self.context_names()
        if self.migrating:
            return self._open_migrating(stored, table, column, row)
        value = conf.keyring().open(table, column, stored, row=row, expect=self.value_type)
        return self.from_opened(value)

    def _open_migrating(self, stored: Any, table: str, column: str, row: Any) -> Any:
        keyring = conf.keyring()
        if self.migrating == "plaintext":
            if is_envelope(stored):
                value = keyring.open(table, column, stored, row=row, expect=self.value_type)
                self._count("fieldcrypt")
                return self.from_opened(value)
            self._count("plaintext")
            return self.from_plaintext(stored)
        reader = conf.legacy_reader(self.migrating, self.legacy_kind)
        value, legacy = reader.open(keyring, table, column, stored, row=row)
        self._count(self.migrating if legacy else "fieldcrypt")
        return self.from_opened(value)

    def _count(self, source: str) -> None:
        key = (self._label(), source)
        with _counts_lock:
            first = key not in migrating_reads
            migrating_reads[key] += 1
        if first and source != "fieldcrypt":
            logger.warning(
                "fieldcrypt: %s is in migrating mode and read a %s value; "
                "run the column job until `fieldcrypt doctor` is clean, then drop migrating=",
                key[0],
                source,
            )

    def from_opened(self, value: Any) -> Any:
        """The Python value of an opened value (the format's type is already checked)."""
        return value

    def from_plaintext(self, stored: Any) -> Any:
        """A plaintext column's value (migrating mode), as the plain field would read it."""
        if isinstance(stored, bytes):
            stored = stored.decode("utf-8")
        return self.to_python(stored)  # type: ignore[attr-defined]

    # ---- lookups --------------------------------------------------------------------------

    def get_lookup(self, lookup_name: str) -> Any:
        from fieldcrypt.django import lookups

        return lookups.lookup_for(self, lookup_name)

    def get_transform(self, name: str) -> Any:
        raise exceptions.FieldError(
            f"{self._label()} is encrypted: the database cannot compute {name!r} over it"
        )

    def blind_indexes(self) -> List[Any]:
        from fieldcrypt.django.index import BlindIndexField

        return [
            f
            for f in self.model._meta.concrete_fields
            if isinstance(f, BlindIndexField) and f.source == self.name
        ]

    # ---- checks ---------------------------------------------------------------------------

    def check(self, **kwargs: Any) -> List[Any]:
        errors: List[Any] = list(super().check(**kwargs))  # type: ignore[misc]
        errors.extend(self._check_encrypted(**kwargs))
        return errors

    def _check_encrypted(self, **kwargs: Any) -> List[Any]:
        errors: List[Any] = []
        if getattr(self, "_unique", False) and not any(
            i.exact for i in self.blind_indexes()
        ):
            errors.append(
                checks.Error(
                    "unique=True on an encrypted field cannot be enforced by the database",
                    hint="drop unique=True, or add BlindIndexField(source=..., unique=True) "
                    "with bits=63 (an exact index) and enforce uniqueness there",
                    obj=self,
                    id="fieldcrypt.E001",
                )
            )
        if getattr(self, "db_index", False):
            errors.append(
                checks.Error(
                    "db_index=True on an encrypted field indexes ciphertext, which no lookup uses",
                    hint="drop db_index=True; add a BlindIndexField for equality lookups",
                    obj=self,
                    id="fieldcrypt.E002",
                )
            )
        limit = self.plain_max_bytes()
        if self.storage == "text" and limit is not None:
            length = envelope_length(limit, text=True)
            for alias in kwargs.get("databases") or []:
                from django.db import connections

                vendor = connections[alias].vendor
                cap = VARCHAR_LIMITS.get(vendor)
                if vendor == "oracle" and cap is not None and length > cap:
                    errors.append(
                        checks.Error(
                            f"max_length={getattr(self, 'max_length', None)} seals to envelopes of "
                            f"up to {length} characters, more than a {vendor} varchar holds ({cap})",
                            hint="use EncryptedTextField, or a smaller max_length",
                            obj=self,
                            id="fieldcrypt.E003",
                        )
                    )
        ordering = getattr(self.model._meta, "ordering", None) or []
        for item in ordering:
            if isinstance(item, str) and item.lstrip("-?") == self.name:
                errors.append(
                    checks.Error(
                        f"Meta.ordering orders by {self.name}, an encrypted field: the database "
                        "can only order its ciphertext",
                        hint="order by another field, or sort in Python after reading",
                        obj=self.model,
                        id="fieldcrypt.E004",
                    )
                )
        try:
            conf.keyring()
        except FieldcryptError as e:
            errors.append(
                checks.Error(
                    f"the fieldcrypt keyring cannot be opened: {e}",
                    hint="check settings.FIELDCRYPT (docs/PYTHON.md)",
                    obj=self,
                    id="fieldcrypt.E005",
                )
            )
        return errors


# ---- the fields ------------------------------------------------------------------------------


class EncryptedCharField(EncryptedMixin, models.CharField):
    value_type = "string"

    def plain_max_bytes(self) -> Optional[int]:
        return None if self.max_length is None else int(self.max_length) * 4

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)
        if not isinstance(value, str):
            raise exceptions.ValidationError(f"{self._label()} holds text, not {type(value).__name__}")
        return value


class EncryptedTextField(EncryptedMixin, models.TextField):
    value_type = "string"


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    value_type = "string"

    def plain_max_bytes(self) -> Optional[int]:
        return None if self.max_length is None else int(self.max_length) * 4


class _IntegerMixin(EncryptedMixin):
    value_type = "int"
    legacy_kind = "integer"
    #: The plain field's range, checked before sealing (the database cannot).
    min_value: ClassVar[int] = -(2**63)
    max_value: ClassVar[int] = 2**63 - 1

    @property
    def validators(self) -> List[Any]:
        from django.core import validators

        return [
            *self._validators,  # type: ignore[attr-defined]
            validators.MinValueValidator(self.min_value),
            validators.MaxValueValidator(self.max_value),
        ]

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)  # type: ignore[attr-defined]
        if isinstance(value, bool) or not isinstance(value, int):
            raise exceptions.ValidationError(f"{self._label()} holds an int")
        if not self.min_value <= value <= self.max_value:
            raise exceptions.ValidationError(
                f"{self._label()}: {type(self).__name__} holds {self.min_value} to {self.max_value}"
            )
        return value

    def from_plaintext(self, stored: Any) -> Any:
        try:
            if isinstance(stored, bytes):
                stored = stored.decode("ascii")
            return int(stored)
        except ValueError:  # UnicodeDecodeError included
            # int()'s message would quote the stored plaintext.
            raise exceptions.ValidationError(f"{self._label()}: a stored value is not an integer") from None


class EncryptedIntegerField(_IntegerMixin, models.IntegerField):
    min_value = -(2**31)
    max_value = 2**31 - 1


class EncryptedBigIntegerField(_IntegerMixin, models.BigIntegerField):
    pass


class EncryptedSmallIntegerField(_IntegerMixin, models.SmallIntegerField):
    min_value = -(2**15)
    max_value = 2**15 - 1


class EncryptedPositiveIntegerField(_IntegerMixin, models.PositiveIntegerField):
    min_value = 0
    max_value = 2**31 - 1


class EncryptedPositiveBigIntegerField(_IntegerMixin, models.PositiveBigIntegerField):
    min_value = 0


class EncryptedPositiveSmallIntegerField(_IntegerMixin, models.PositiveSmallIntegerField):
    min_value = 0
    max_value = 2**15 - 1


class EncryptedBooleanField(EncryptedMixin, models.BooleanField):
    value_type = "bool"
    legacy_kind = "boolean"

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)
        if not isinstance(value, bool):
            raise exceptions.ValidationError(f"{self._label()} holds True or False")
        return value

    def from_plaintext(self, stored: Any) -> Any:
        if isinstance(stored, bytes):
            stored = stored.decode("ascii")
        text = str(stored).strip().lower()
        if text in ("1", "t", "true"):
            return True
        if text in ("0", "f", "false"):
            return False
        # The stored text is plaintext: never in the message.
        raise exceptions.ValidationError(f"{self._label()}: a stored value is not a boolean")


class EncryptedFloatField(EncryptedMixin, models.FloatField):
    value_type = "float"
    legacy_kind = "float"

    def to_sealable(self, value: Any) -> Any:
        return float(self.to_python(value))


class EncryptedDecimalField(EncryptedMixin, models.DecimalField):
    """Sealed at the field's scale (``decimal_places``), as the plain column would store it."""

    value_type = "decimal"
    legacy_kind = "decimal"

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            raise exceptions.ValidationError(f"{self._label()} holds a finite Decimal")
        # As Django's format_number: rounded to the scale, refused beyond max_digits.
        context = decimal.Context(prec=self.max_digits or 28, traps=[decimal.InvalidOperation])
        places = decimal.Decimal(1).scaleb(-(self.decimal_places or 0))
        try:
            quantized = value.quantize(places, context=context)
        except decimal.DecimalException:
            raise exceptions.ValidationError(
                f"{self._label()}: a value does not fit max_digits={self.max_digits}, "
                f"decimal_places={self.decimal_places}"
            ) from None
        if quantized.is_zero() and quantized.is_signed():
            quantized = abs(quantized)
        return quantized


class EncryptedDateField(EncryptedMixin, models.DateField):
    value_type = "date"
    legacy_kind = "date"

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise exceptions.ValidationError(f"{self._label()} holds a date")
        return value


class EncryptedDateTimeField(EncryptedMixin, models.DateTimeField):
    """Sealed as an instant. A naive value is taken in the current time zone (as Django does
    with ``USE_TZ``, warning) ; it reads back aware in UTC, or naive in the current time zone
    when ``USE_TZ = False``."""

    value_type = "timestamp"
    legacy_kind = "datetime"

    def to_sealable(self, value: Any) -> Any:
        value = self.to_python(value)
        if not isinstance(value, datetime.datetime):
            raise exceptions.ValidationError(f"{self._label()} holds a datetime")
        if timezone.is_naive(value):
            from django.conf import settings

            if settings.USE_TZ:
                value = models.DateTimeField.get_prep_value(self, value)
            else:
                value = timezone.make_aware(value, timezone.get_default_timezone())
        return value

    def from_opened(self, value: Any) -> Any:
        from django.conf import settings

        if settings.USE_TZ:
            return value
        return timezone.make_naive(value, timezone.get_default_timezone())

    def from_plaintext(self, stored: Any) -> Any:
        value = super().from_plaintext(stored)
        from django.conf import settings

        if value is not None and settings.USE_TZ and timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.timezone.utc)
        return value


class EncryptedJSONField(EncryptedMixin, models.Field):
    """Any JSON value (dict, list, str, number, bool; ``None`` is SQL NULL)."""

    value_type = "json"
    legacy_kind = "json"
    empty_strings_allowed = False

    def __init__(self, *args: Any, encoder: Any = None, decoder: Any = None, **kwargs: Any) -> None:
        if encoder is not None or decoder is not None:
            raise ValueError(
                "EncryptedJSONField seals plain JSON values: convert with your encoder before "
                "assigning, and after reading"
            )
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        return value

    def to_sealable(self, value: Any) -> Any:
        return Json(value)

    def from_plaintext(self, stored: Any) -> Any:
        import json

        if isinstance(stored, bytes):
            stored = stored.decode("utf-8")
        return json.loads(stored) if isinstance(stored, str) else stored

    def value_to_string(self, obj: Any) -> Any:
        return self.value_from_object(obj)

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


class EncryptedBinaryField(EncryptedMixin, models.BinaryField):
    value_type = "bytes"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("storage", "binary")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.storage == "binary":
            kwargs.pop("storage", None)
        else:
            kwargs["storage"] = self.storage
        return name, path, args, kwargs

    def to_sealable(self, value: Any) -> Any:
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, str):
            value = self.to_python(value)
        if not isinstance(value, (bytes, bytearray)):
            raise exceptions.ValidationError(f"{self._label()} holds bytes")
        return bytes(value)

    def from_plaintext(self, stored: Any) -> Any:
        return bytes(stored) if not isinstance(stored, str) else stored.encode("utf-8")
