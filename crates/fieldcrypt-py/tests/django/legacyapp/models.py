"""The legacy path's tables for five of the six Django field-encryption libraries
(django-encrypted-model-fields' pair is testapp.LegacyNote/ConvertedNote, from before).

Each pair is one table: the library's field (the app before the switch; it creates the table)
and fieldcrypt's field in migrating mode over the same table (``managed = False``), which is
what the app runs while ``fieldcrypt import django`` converts the column.

No venv can hold all five libraries (django-cryptography needs Django <= 4.2;
django-fernet-encrypted-fields and django-searchable-encrypted-fields are both the module
``encrypted_fields``), so a pair is defined only when its library's distribution is installed,
and this app has no migrations: a migration file would name the fields of libraries absent in
some venv, and models that come and go would make ``makemigrations --check`` report changes.
Django creates the tables of an app without migrations from the models (``migrate``'s
run_syncdb, which the test database's creation uses), so the tables are whatever the venv has.
"""

import importlib.metadata as md

from django.conf import settings
from django.db import models

from fieldcrypt.django import (
    EncryptedDateField,
    EncryptedIntegerField,
    EncryptedManager,
    EncryptedTextField,
)

#: The library of each flavor: its distribution, and its module (for the messages).
LIBRARIES = {
    "encrypted-model-fields": ("django-encrypted-model-fields", "encrypted_model_fields"),
    "fernet-fields": ("django-fernet-fields", "fernet_fields"),
    "fernet-encrypted-fields": ("django-fernet-encrypted-fields", "encrypted_fields"),
    "cryptbase": ("cryptbase", "cryptbase"),
    "cryptography": ("django-cryptography", "django_cryptography"),
    "searchable": ("django-searchable-encrypted-fields", "encrypted_fields"),
}


def installed(flavor: str) -> bool:
    try:
        md.version(LIBRARIES[flavor][0])
    except md.PackageNotFoundError:
        return False
    return True


if installed("fernet-fields"):
    # django-fernet-fields 0.6 imports django.utils.encoding.force_text, which Django 4.0
    # removed (force_str is the same function); the app that still runs it has this shim.
    import django.utils.encoding

    if not hasattr(django.utils.encoding, "force_text"):
        django.utils.encoding.force_text = django.utils.encoding.force_str
    import fernet_fields

    class FernetNote(models.Model):
        """django-fernet-fields: Fernet token bytes in a binary column."""

        note = fernet_fields.EncryptedTextField(null=True)

        class Meta:
            db_table = "legacyapp_fernetnote"

    class FernetNoteConverted(models.Model):
        note = EncryptedTextField(migrating="fernet-fields", storage="binary", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_fernetnote"
            managed = False

    class FernetDay(models.Model):
        """A non-text kind: a date, stored by the library as the bytes of its ISO text."""

        day = fernet_fields.EncryptedDateField(null=True)

        class Meta:
            db_table = "legacyapp_fernetday"

    class FernetDayConverted(models.Model):
        day = EncryptedDateField(migrating="fernet-fields", storage="binary", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_fernetday"
            managed = False


if installed("fernet-encrypted-fields"):
    import encrypted_fields.fields as fef

    if not hasattr(fef, "EncryptedJSONField"):
        raise ImportError(
            "`encrypted_fields` here is not django-fernet-encrypted-fields' module "
            f"({fef.__file__}): django-searchable-encrypted-fields shares the name; "
            "they cannot be in one venv"
        )

    class FefNote(models.Model):
        """django-fernet-encrypted-fields: a Fernet token as text."""

        note = fef.EncryptedCharField(max_length=200, null=True)

        class Meta:
            db_table = "legacyapp_fefnote"

    class FefNoteConverted(models.Model):
        note = EncryptedTextField(migrating="fernet-encrypted-fields", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_fefnote"
            managed = False

    class FefCount(models.Model):
        """A non-text kind: an integer, stored as the token of str(value)."""

        count = fef.EncryptedIntegerField(null=True)

        class Meta:
            db_table = "legacyapp_fefcount"

    class FefCountConverted(models.Model):
        count = EncryptedIntegerField(migrating="fernet-encrypted-fields", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_fefcount"
            managed = False


if installed("cryptbase"):
    import cryptbase

    class CryptbaseNote(models.Model):
        """cryptbase: AES-256-CTR as `base64@base64` text, keyed by the field's key=."""

        note = cryptbase.EncryptedTextField(key=settings.CRYPTBASE_KEY, null=True)

        class Meta:
            db_table = "legacyapp_cryptbasenote"

    class CryptbaseNoteConverted(models.Model):
        note = EncryptedTextField(migrating="cryptbase", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_cryptbasenote"
            managed = False


if installed("cryptography"):
    from django_cryptography.fields import encrypt

    class CryptographyNote(models.Model):
        """django-cryptography: a signed, encrypted pickle in a binary column."""

        note = encrypt(models.TextField(null=True))

        class Meta:
            db_table = "legacyapp_cryptographynote"

    class CryptographyNoteConverted(models.Model):
        note = EncryptedTextField(migrating="cryptography", storage="binary", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_cryptographynote"
            managed = False


if installed("searchable"):
    import encrypted_fields.fields as searchable

    if not hasattr(searchable, "SearchField"):
        raise ImportError(
            "`encrypted_fields` here is not django-searchable-encrypted-fields' module "
            f"({searchable.__file__}): django-fernet-encrypted-fields shares the name; "
            "they cannot be in one venv"
        )

    class SearchableNote(models.Model):
        """django-searchable-encrypted-fields: AES-GCM nonce, tag and ciphertext, binary."""

        note = searchable.EncryptedTextField(null=True)

        class Meta:
            db_table = "legacyapp_searchablenote"

    class SearchableNoteConverted(models.Model):
        note = EncryptedTextField(migrating="searchable", storage="binary", null=True)

        objects = EncryptedManager()

        class Meta:
            db_table = "legacyapp_searchablenote"
            managed = False
