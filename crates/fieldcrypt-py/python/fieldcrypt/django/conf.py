"""The ``FIELDCRYPT`` settings entry, and the keyring and legacy readers it configures.

::

    FIELDCRYPT = {
        # A keyring file (created with its local master key on first use when CREATE is true) ...
        "KEYRING": BASE_DIR / "fieldcrypt-keyring.json",
        "CREATE": DEBUG,
        # ... or a document in the fieldcrypt_keys table, read through a Django connection:
        # "KEYRING": {"TABLE": "fieldcrypt_keys", "NAME": "default", "DATABASE": "default"},
        # Provider settings: the application's, never the keyring document's.
        "MASTER_KEY": None,                      # local provider (default FIELDCRYPT_MASTER_KEY)
        "KEY_VARIABLE": "FIELDCRYPT_KEK",        # env provider
        "PASSPHRASE_VARIABLE": "FIELDCRYPT_PASSPHRASE",
        # Vault/OpenBao Transit, AWS KMS (tokens and credentials: the environment)
        "VAULT_ADDR": None, "VAULT_MOUNT": "transit", "VAULT_KEY": None, "VAULT_CA_CERT": None,
        "AWS_KMS_KEY": None, "AWS_REGION": None, "AWS_ENDPOINT": None,
        # Pins
        "PROVIDER": None, "KEYRING_ID": None, "MIN_GENERATION": None,
        # Legacy libraries' settings (default: the same names in Django's settings)
        "LEGACY": {},
        "NAIVE_ZONE": "UTC",
    }

Nothing secret goes into a field's ``deconstruct()``: fields name a legacy flavor, never a key.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from fieldcrypt import Keyring, KeyringError
from fieldcrypt._native import LegacyReader

LEGACY_SETTING_NAMES = (
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "FIELD_ENCRYPTION_KEY",
    "FERNET_KEYS",
    "FERNET_USE_HKDF",
    "SALT_KEY",
    "CRYPTOGRAPHY_KEY",
    "CRYPTOGRAPHY_SALT",
    "CRYPTBASE_KEY",
    "FIELD_ENCRYPTION_KEYS",
)

_lock = threading.Lock()
_keyring: Optional[Keyring] = None
_readers: Dict[Tuple[str, str, str], LegacyReader] = {}


def settings_entry() -> Mapping[str, Any]:
    from django.conf import settings

    entry = getattr(settings, "FIELDCRYPT", None)
    if entry is None:
        raise KeyringError(
            "settings.FIELDCRYPT is missing: set FIELDCRYPT = {'KEYRING': <keyring file>} "
            "(see docs/PYTHON.md)"
        )
    if not isinstance(entry, Mapping):
        raise KeyringError("settings.FIELDCRYPT must be a dict")
    return entry


def _provider_kwargs(entry: Mapping[str, Any]) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "master_key": entry.get("MASTER_KEY") or os.environ.get("FIELDCRYPT_MASTER_KEY") or None,
        "key_variable": entry.get("KEY_VARIABLE", "FIELDCRYPT_KEK"),
        "passphrase_variable": entry.get("PASSPHRASE_VARIABLE", "FIELDCRYPT_PASSPHRASE"),
        "expect_provider": entry.get("PROVIDER"),
        "keyring_id": entry.get("KEYRING_ID"),
        "min_generation": entry.get("MIN_GENERATION"),
        # Vault/OpenBao Transit and AWS KMS (default: VAULT_ADDR, FIELDCRYPT_VAULT_KEY, ... as the
        # fieldcrypt command reads them; tokens and credentials from the environment only).
        "vault_addr": entry.get("VAULT_ADDR"),
        "vault_mount": entry.get("VAULT_MOUNT"),
        "vault_key": entry.get("VAULT_KEY"),
        "vault_ca_cert": entry.get("VAULT_CA_CERT"),
        "aws_kms_key": entry.get("AWS_KMS_KEY"),
        "aws_region": entry.get("AWS_REGION"),
        "aws_endpoint": entry.get("AWS_ENDPOINT"),
    }
    for path in ("master_key", "vault_ca_cert"):
        if kwargs[path] is not None:
            kwargs[path] = str(kwargs[path])
    return kwargs


def _load() -> Keyring:
    entry = settings_entry()
    source = entry.get("KEYRING")
    kwargs = _provider_kwargs(entry)
    if isinstance(source, Mapping):
        return _load_from_table(source, kwargs)
    if not isinstance(source, (str, os.PathLike)):
        raise KeyringError("FIELDCRYPT['KEYRING'] is a keyring file path or a {'TABLE': ...} dict")
    path = Path(source)
    if not path.exists() and entry.get("CREATE", False):
        # First use on a development machine: the keyring file and its local master key.
        return Keyring.open_local(str(path), kwargs["master_key"])
    return Keyring.open_file(str(path), **kwargs)


def _load_from_table(source: Mapping[str, Any], kwargs: Dict[str, Any]) -> Keyring:
    from django.db import connections

    table = source.get("TABLE", "fieldcrypt_keys")
    name = source.get("NAME", "default")
    alias = source.get("DATABASE", "default")
    connection = connections[alias]
    with connection.cursor() as cursor:
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT document FROM {quoted} WHERE name = %s", [name])
        row = cursor.fetchone()
    if row is None:
        raise KeyringError(
            f"no keyring named {name!r} in {table} (database {alias!r}): "
            "store a keyring document there (fieldcrypt-sqlx TableStore, or the JSON `fieldcrypt keyring init` writes)"
        )
    document = row[0]
    if isinstance(document, (bytes, memoryview)):
        document = bytes(document).decode("utf-8")
    return Keyring.from_document(document, source=f"{table}[{name}]", **kwargs)


def keyring() -> Keyring:
    """The keyring ``settings.FIELDCRYPT`` configures, opened once per process."""
    global _keyring
    found = _keyring
    if found is not None:
        return found
    with _lock:
        if _keyring is None:
            _keyring = _load()
        return _keyring


def reset() -> None:
    """Forgets the opened keyring and readers (settings changed, keyring rotated)."""
    global _keyring
    with _lock:
        _keyring = None
        _readers.clear()


def legacy_reader(flavor: str, kind: str) -> LegacyReader:
    """The reader for a ``kind`` field of the legacy library ``flavor``, keyed from
    ``FIELDCRYPT['LEGACY']``, else the same names in Django's settings."""
    from django.conf import settings

    entry = settings_entry()
    zone = str(entry.get("NAIVE_ZONE", "UTC"))
    key = (flavor, kind, zone)
    found = _readers.get(key)
    if found is not None:
        return found
    legacy = entry.get("LEGACY")
    if legacy is None or not legacy:
        legacy = _django_legacy_settings(settings, flavor)
    reader = LegacyReader(flavor, kind, dict(legacy), naive_zone=zone)  # type: ignore[arg-type]  # checked at runtime
    with _lock:
        _readers[key] = reader
    return reader


def _django_legacy_settings(settings: Any, flavor: str) -> Dict[str, Any]:
    """The legacy libraries' names in Django's settings, as settings.py gave them.

    django-cryptography's AppConf (``proxy = True``) rewrites two of them in place as soon as
    ``django_cryptography`` is imported: ``CRYPTOGRAPHY_SALT`` becomes its UTF-8 bytes, and
    ``CRYPTOGRAPHY_KEY`` the key it derived. The salt decodes back. For the key, the value
    settings.py gave is read from the settings module itself (the library rewrites the settings
    object, not the module); without one there, the key was derived from ``SECRET_KEY``, which the
    Rust reader derives the same way. Anything else (settings not from a module) asks for
    ``FIELDCRYPT['LEGACY']``. No key is derived here: that is the Rust reader's job."""
    found: Dict[str, Any] = {
        name: getattr(settings, name)
        for name in LEGACY_SETTING_NAMES
        if getattr(settings, name, None) not in (None, "", [])
    }
    salt = found.get("CRYPTOGRAPHY_SALT")
    if isinstance(salt, bytes):
        found["CRYPTOGRAPHY_SALT"] = salt.decode("utf-8")
    if isinstance(found.get("CRYPTOGRAPHY_KEY"), bytes):
        del found["CRYPTOGRAPHY_KEY"]
        module_name = getattr(settings, "SETTINGS_MODULE", None)
        module = sys.modules.get(module_name) if module_name else None
        given = getattr(module, "CRYPTOGRAPHY_KEY", None) if module is not None else None
        if isinstance(given, str) and given:
            found["CRYPTOGRAPHY_KEY"] = given
        elif module is None and flavor == "cryptography":
            raise KeyringError(
                "settings.CRYPTOGRAPHY_KEY holds the key django-cryptography derived from it (the "
                "library rewrites the setting when django_cryptography is imported), not the value "
                "settings.py gave: set FIELDCRYPT['LEGACY'] = {'SECRET_KEY': ..., "
                "'CRYPTOGRAPHY_KEY': ...} with the values of settings.py"
            )
    return found


def _on_setting_changed(setting: str, **_: Any) -> None:
    if setting == "FIELDCRYPT" or setting in LEGACY_SETTING_NAMES:
        reset()


def connect_signals() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_on_setting_changed, dispatch_uid="fieldcrypt.django.reset")
