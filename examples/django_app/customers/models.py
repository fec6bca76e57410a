from django.db import models

from fieldcrypt.django import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedManager,
)


class Customer(models.Model):
    name = models.CharField(max_length=100)
    # Encrypted, and found by email whatever its case (a truncated index: search()).
    email = EncryptedEmailField(max_length=254)
    email_index = BlindIndexField(source="email", normalizers=["trim", "casefold"], rows=100_000)
    # Encrypted, and found with filter() (an exact index: 63 bits, no normaliser).
    national_id = EncryptedCharField(max_length=20, null=True, blank=True)
    national_id_index = BlindIndexField(source="national_id", bits=63)
    birthday = EncryptedDateField(null=True, blank=True)

    objects = EncryptedManager()

    def __str__(self) -> str:
        return self.name
