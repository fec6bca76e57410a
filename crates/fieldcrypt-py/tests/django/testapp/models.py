import uuid

from django.db import models

from fieldcrypt.django import (
    BlindIndexField,
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
    EncryptedManager,
    EncryptedPositiveIntegerField,
    EncryptedSmallIntegerField,
    EncryptedTextField,
)


class Everything(models.Model):
    char = EncryptedCharField(max_length=50, null=True, blank=True)
    char_binary = EncryptedCharField(max_length=20, null=True, storage="binary")
    text = EncryptedTextField(null=True)
    email = EncryptedEmailField(null=True)
    integer = EncryptedIntegerField(null=True)
    big = EncryptedBigIntegerField(null=True)
    small = EncryptedSmallIntegerField(null=True)
    positive = EncryptedPositiveIntegerField(null=True)
    boolean = EncryptedBooleanField(null=True)
    floating = EncryptedFloatField(null=True)
    amount = EncryptedDecimalField(max_digits=12, decimal_places=2, null=True)
    day = EncryptedDateField(null=True)
    moment = EncryptedDateTimeField(null=True)
    data = EncryptedJSONField(null=True)
    blob = EncryptedBinaryField(null=True)
    blob_text = EncryptedBinaryField(null=True, storage="text")
    plain = models.IntegerField(default=0)

    objects = EncryptedManager()


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = EncryptedEmailField(max_length=254)
    email_index = BlindIndexField(source="email", normalizers=["trim", "casefold"], rows=100_000)
    national_id = EncryptedCharField(max_length=20, null=True)
    national_id_index = BlindIndexField(source="national_id", bits=63)

    objects = EncryptedManager()


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    note = EncryptedTextField(null=True)

    objects = EncryptedManager()


class Bound(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    secret = EncryptedTextField(bind_row=True, null=True)

    objects = EncryptedManager()


class Renamed(models.Model):
    """Keeps the context of the table it was first created as."""

    note = EncryptedTextField(context=("testapp_oldname", "note"))

    objects = EncryptedManager()


class Migrating(models.Model):
    """A plaintext column being converted (fieldcrypt encrypt-column)."""

    note = EncryptedTextField(migrating=True, null=True)
    count = EncryptedIntegerField(migrating=True, null=True)

    objects = EncryptedManager()


class LegacyNote(models.Model):
    """A column written by django-encrypted-model-fields (the app before the switch)."""

    from encrypted_model_fields.fields import EncryptedCharField as _LegacyCharField

    note = _LegacyCharField(max_length=200, null=True)

    class Meta:
        db_table = "testapp_legacynote"


class ConvertedNote(models.Model):
    """The same table after the switch: fieldcrypt in migrating mode while the import runs."""

    note = EncryptedTextField(migrating="encrypted-model-fields", null=True)

    objects = EncryptedManager()

    class Meta:
        db_table = "testapp_legacynote"
        managed = False
