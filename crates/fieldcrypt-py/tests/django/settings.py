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
# A django-encrypted-model-fields key, for the legacy path tests (generated for these tests).
FIELD_ENCRYPTION_KEY = "Nmn8NNdnl2W1tAMC-nFBVpm2v9ahpyItbeiBW65gKlk="
