"""fieldcrypt for Django: encrypted model fields, blind indexes and an admin mixin, on the
fieldcrypt format and keyrings (the same envelopes a Rust service or ``fieldcrypt`` reads).

Add ``"fieldcrypt.django"`` to ``INSTALLED_APPS`` and a ``FIELDCRYPT`` settings entry
(:mod:`fieldcrypt.django.conf`), then::

    from fieldcrypt.django import EncryptedEmailField, BlindIndexField, EncryptedManager

    class Customer(models.Model):
        email = EncryptedEmailField(max_length=254)
        email_index = BlindIndexField(source="email", normalizers=["trim", "casefold"], rows=100_000)
        objects = EncryptedManager()

    Customer.objects.search(email__iexact="Ann@Example.org")
"""

from fieldcrypt.django.conf import keyring, reset
from fieldcrypt.django.fields import (
    EncryptedBigIntegerField,
    EncryptedBinaryField,
    EncryptedBooleanField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedDateTimeField,
    EncryptedDecimalField,
    EncryptedEmailField,
    EncryptedFloatField,
    EncryptedIntegerField,
    EncryptedJSONField,
    EncryptedMixin,
    EncryptedPositiveBigIntegerField,
    EncryptedPositiveIntegerField,
    EncryptedPositiveSmallIntegerField,
    EncryptedSmallIntegerField,
    EncryptedTextField,
    RowBoundValue,
    migrating_reads,
)
from fieldcrypt.django.index import BlindIndexField
from fieldcrypt.django.query import EncryptedManager, EncryptedQuerySet, search


__all__ = [
    "BlindIndexField",
    "EncryptedBigIntegerField",
    "EncryptedBinaryField",
    "EncryptedBooleanField",
    "EncryptedCharField",
    "EncryptedDateField",
    "EncryptedDateTimeField",
    "EncryptedDecimalField",
    "EncryptedEmailField",
    "EncryptedFloatField",
    "EncryptedIntegerField",
    "EncryptedJSONField",
    "EncryptedManager",
    "EncryptedMixin",
    "EncryptedPositiveBigIntegerField",
    "EncryptedPositiveIntegerField",
    "EncryptedPositiveSmallIntegerField",
    "EncryptedQuerySet",
    "EncryptedSmallIntegerField",
    "EncryptedTextField",
    "RowBoundValue",
    "keyring",
    "migrating_reads",
    "reset",
    "search",
]
