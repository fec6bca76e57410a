"""Settings of the fieldcrypt.django test project. FIELDCRYPT_TEST_DB picks the database:
sqlite (default), postgres (127.0.0.1:5432) or mysql (MariaDB, 127.0.0.1:3306); the test
database's name carries FIELDCRYPT_TEST_DB_SUFFIX so runs for two Django versions can go on at
once. The keyring and its master key are created on first use in a fresh directory."""

import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = Path(os.environ.get("FIELDCRYPT_TEST_KEYS") or tempfile.mkdtemp(prefix="fieldcrypt-django-"))
SUFFIX = os.environ.get("FIELDCRYPT_TEST_DB_SUFFIX", "")

SECRET_KEY = "test-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
ROOT_URLCONF = "urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "fieldcrypt.django",
    "testapp",
    # The legacy path's tables for the other libraries (no migrations: see legacyapp/models.py).
    "legacyapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_db = os.environ.get("FIELDCRYPT_TEST_DB", "sqlite")
if _db == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "test",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "TEST": {"NAME": f"test_fieldcrypt_django{SUFFIX}"},
        }
    }
elif _db == "mysql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "test",
            "USER": "root",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": "3306",
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"NAME": f"test_fieldcrypt_django{SUFFIX}", "CHARSET": "utf8mb4"},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(KEYS / "db.sqlite3"),
            # A file, not memory: the fieldcrypt command opens it from another process.
            "TEST": {"NAME": str(KEYS / "test.sqlite3")},
        }
    }

FIELDCRYPT = {
    "KEYRING": KEYS / "keyring.json",
    "CREATE": True,
    "MASTER_KEY": KEYS / "master.key",
}
# The legacy libraries' keys, for the legacy path tests (test_legacy.py; generated for these tests,
# secret nowhere). Each library reads its own names; fieldcrypt's migrating fields read them all.
# django-encrypted-model-fields: a Fernet key.
FIELD_ENCRYPTION_KEY = "Nmn8NNdnl2W1tAMC-nFBVpm2v9ahpyItbeiBW65gKlk="
# django-fernet-fields: any strings, through HKDF; the first encrypts.
FERNET_KEYS = ["fieldcrypt-test fernet-fields new", "fieldcrypt-test fernet-fields old"]
# django-fernet-encrypted-fields: PBKDF2 of SECRET_KEY (and SECRET_KEY_FALLBACKS) with each salt.
SALT_KEY = ["fieldcrypt-test-salt", "fieldcrypt-test-sält-old"]
# django-cryptography: PBKDF2 of CRYPTOGRAPHY_KEY over its default salt; HMAC keyed by SECRET_KEY.
CRYPTOGRAPHY_KEY = "fieldcrypt-test django-cryptography key"
# cryptbase: the field's key= (legacyapp passes this), 64 hex digits.
CRYPTBASE_KEY = "5be8a4d5f1f4f3d0b6c1e2a7c9d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091"
# django-searchable-encrypted-fields: hex AES-256 keys; the first encrypts.
FIELD_ENCRYPTION_KEYS = [
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0",
    "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
]
