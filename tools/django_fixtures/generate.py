#!/usr/bin/env python3
"""Writes Django field-encryption fixtures through the real libraries and the real Django ORM.

Run it with the python of the venv that holds the library (scripts/django-env.sh NAME):

    main    emf (django-encrypted-model-fields), ff (django-fernet-fields),
            fef (django-fernet-encrypted-fields), cryptbase
    search  searchable (django-searchable-encrypted-fields)
    legacy  cryptography (django-cryptography 1.1, Django 4.2)

    generate.py --library emf|ff|fef|cryptography|cryptbase|searchable \\
                --database-url sqlite:///abs/path.db | postgres://user@host:5432/db \\
                --table fx_name --out manifest.json [--rows-extra N]
    generate.py --library emf --bulk N --database-url ... --table fx_name --out manifest.json

Every run draws fresh random keys (secrets module). The table is dropped if it exists and created
again with Django's schema editor; rows with awkward values are written with Model.objects.create,
some of them while only an older key was configured (key rotation); then every row is read back
with a fresh ORM query and what Django returned goes into the JSON manifest next to the settings,
so a test in another language can decrypt the stored values and compare. See README.md.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import datetime as dt
import decimal
import importlib.metadata as md
import json
import math
import os
import platform
import random
import re
import secrets
import string
import sys
import time
from typing import Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
APP_LABEL = "fxapp"

# library -> (distribution names whose versions go into the manifest, venv that holds it)
LIBRARIES = {
    "emf": (["django-encrypted-model-fields", "cryptography"], "main"),
    "ff": (["django-fernet-fields", "cryptography"], "main"),
    "fef": (["django-fernet-encrypted-fields", "cryptography"], "main"),
    "cryptbase": (["cryptbase", "cryptography"], "main"),
    "cryptography": (["django-cryptography", "django-appconf", "cryptography"], "legacy"),
    "searchable": (["django-searchable-encrypted-fields", "pycryptodome"], "search"),
}
# libraries whose key list lets some rows be written under an older key
ROTATING = {"emf", "ff", "fef", "searchable"}

UTC = dt.timezone.utc
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PST = dt.timezone(-dt.timedelta(hours=8))
PARIS = ZoneInfo("Europe/Paris")


def log(msg: str) -> None:
    print(f"generate: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- keys

DJANGO_SECRET_CHARS = string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"


def django_secret(length: int = 50) -> str:
    """Same alphabet and length as django.core.management.utils.get_random_secret_key()."""
    return "".join(secrets.choice(DJANGO_SECRET_CHARS) for _ in range(length))


def fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def make_settings(library: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fresh random values for every setting (and per-field key) the library reads."""
    s: dict[str, Any] = {
        "SECRET_KEY": django_secret(),
        "SECRET_KEY_FALLBACKS": [django_secret()],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
    }
    if library == "emf":
        # a list: MultiFernet, the first key encrypts; the second plays the "old" key
        s["FIELD_ENCRYPTION_KEY"] = [fernet_key(), fernet_key()]
    elif library == "ff":
        # any strings, each run through HKDF-SHA256; new first, old second
        s["FERNET_KEYS"] = [django_secret(), django_secret()]
        s["FERNET_USE_HKDF"] = True
    elif library == "fef":
        # the second salt has a non-ASCII character: PBKDF2 takes the salt as UTF-8
        s["SALT_KEY"] = ["fx-salt-" + secrets.token_urlsafe(16), "fx-sält-" + secrets.token_urlsafe(16)]
    elif library == "cryptography":
        s["CRYPTOGRAPHY_KEY"] = None if args.no_cryptography_key else django_secret()
        s["CRYPTOGRAPHY_SALT"] = "django-cryptography"  # the library's default, not overridden
    elif library == "cryptbase":
        s["CRYPTBASE_KEY_HEX"] = secrets.token_hex(32)  # the field's key= argument
    elif library == "searchable":
        s["FIELD_ENCRYPTION_KEYS"] = [secrets.token_hex(32), secrets.token_hex(32)]
        # the SearchFields' hash_key= arguments (any string)
        s["HASH_KEYS"] = {
            "email_search": secrets.token_hex(32),
            "integer_search": "fx-hash-" + secrets.token_urlsafe(24),
        }
    return s


# settings passed to settings.configure() (the others are field arguments, recorded only)
DJANGO_SETTINGS = {
    "SECRET_KEY", "SECRET_KEY_FALLBACKS", "USE_TZ", "TIME_ZONE", "FIELD_ENCRYPTION_KEY",
    "FERNET_KEYS", "FERNET_USE_HKDF", "SALT_KEY", "CRYPTOGRAPHY_KEY", "CRYPTOGRAPHY_SALT",
    "FIELD_ENCRYPTION_KEYS",
}


# --------------------------------------------------------------------------- database

def database_config(url: str) -> tuple[str, dict[str, Any]]:
    u = urlparse(url)
    if u.scheme == "sqlite":
        path = unquote(u.path)
        while path.startswith("//"):
            path = path[1:]
        if not path or not os.path.isabs(path):
            sys.exit(f"generate: sqlite URL needs an absolute path: sqlite:///abs/path.db (got {url!r})")
        return "sqlite", {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if u.scheme in ("postgres", "postgresql"):
        return "postgresql", {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(u.path.lstrip("/")) or "postgres",
            "USER": unquote(u.username or "postgres"),
            "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "127.0.0.1",
            "PORT": str(u.port or 5432),
        }
    sys.exit(f"generate: unsupported database URL {url!r} (sqlite:///... or postgres://...)")


def configure_django(library: str, db: dict[str, Any], s: dict[str, Any]) -> None:
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=[APP_LABEL],
        DATABASES={"default": db},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        **{k: v for k, v in s.items() if k in DJANGO_SETTINGS},
    )
    if library == "ff":
        # django-fernet-fields 0.6 imports force_text, which Django 4.0 removed.
        import django.utils.encoding as enc

        if not hasattr(enc, "force_text"):
            enc.force_text = enc.force_str
    import django

    django.setup()


def patch_psycopg3_integer_adapt(library: str) -> str | None:
    """Django's psycopg 3 backend (4.2+) wraps integer values in psycopg's Int2/Int4/Int8 by
    looking the field's get_internal_type() up in integerfield_type_map. The integer fields of
    emf ("TextField"), ff and searchable ("BinaryField") fail there with a KeyError on every save.
    With psycopg2, Django passes the int through unchanged; do that for those unknown types. The
    stored text is the same either way (str(Int4(42)) == "42"), so the format is untouched."""
    from django.db import connection

    ops = type(connection.ops)
    if connection.vendor != "postgresql" or not hasattr(ops, "integerfield_type_map"):
        return None
    if library not in ("emf", "ff", "searchable"):
        return None
    original = ops.adapt_integerfield_value

    def adapt_integerfield_value(self, value, internal_type):
        if internal_type not in self.integerfield_type_map:
            return value  # what the psycopg2 path does for every integer field
        return original(self, value, internal_type)

    ops.adapt_integerfield_value = adapt_integerfield_value
    return ("django.db.backends.postgresql.operations.DatabaseOperations.adapt_integerfield_value passes "
            "values of non-integer internal types through (as with psycopg2); unpatched, the library's "
            "integer fields raise KeyError on save with psycopg 3")


# --------------------------------------------------------------------------- model

@dataclasses.dataclass
class Column:
    name: str
    field: Any
    kind: str  # text|integer|boolean|date|datetime|decimal|float|json|search
    storage: str  # text|binary|json
    search_of: str | None = None


def library_columns(library: str, s: dict[str, Any]) -> list[Column]:
    from django.db import models

    n = {"null": True, "blank": True}
    if library == "emf":
        import encrypted_model_fields.fields as f

        spec = [
            ("text", f.EncryptedTextField(**n), "text"),
            ("char", f.EncryptedCharField(max_length=255, **n), "text"),
            ("email", f.EncryptedEmailField(**n), "text"),
            ("integer", f.EncryptedIntegerField(**n), "integer"),
            ("bigint", f.EncryptedBigIntegerField(**n), "integer"),
            ("boolean", f.EncryptedBooleanField(**n), "boolean"),
            ("date", f.EncryptedDateField(**n), "date"),
            ("datetime", f.EncryptedDateTimeField(**n), "datetime"),
        ]
        return [Column(c, fld, k, "text") for c, fld, k in spec]
    if library == "ff":
        import fernet_fields as f

        spec = [
            ("text", f.EncryptedTextField(**n), "text"),
            ("char", f.EncryptedCharField(max_length=255, **n), "text"),
            ("email", f.EncryptedEmailField(**n), "text"),
            ("integer", f.EncryptedIntegerField(**n), "integer"),
            ("date", f.EncryptedDateField(**n), "date"),
            ("datetime", f.EncryptedDateTimeField(**n), "datetime"),
        ]
        return [Column(c, fld, k, "binary") for c, fld, k in spec]
    if library == "fef":
        import encrypted_fields.fields as f

        if not hasattr(f, "EncryptedJSONField"):
            sys.exit("generate: `encrypted_fields` here is not django-fernet-encrypted-fields; use the main venv")
        spec = [
            ("text", f.EncryptedTextField(**n), "text", "text"),
            ("char", f.EncryptedCharField(max_length=255, **n), "text", "text"),
            ("email", f.EncryptedEmailField(**n), "text", "text"),
            ("integer", f.EncryptedIntegerField(**n), "integer", "text"),
            ("boolean", f.EncryptedBooleanField(**n), "boolean", "text"),
            ("date", f.EncryptedDateField(**n), "date", "text"),
            ("datetime", f.EncryptedDateTimeField(**n), "datetime", "text"),
            ("float", f.EncryptedFloatField(**n), "float", "text"),
            ("json", f.EncryptedJSONField(**n), "json", "json"),
        ]
        return [Column(c, fld, k, st) for c, fld, k, st in spec]
    if library == "cryptography":
        from django_cryptography.fields import encrypt

        spec = [
            ("text", encrypt(models.TextField(**n)), "text"),
            ("char", encrypt(models.CharField(max_length=255, **n)), "text"),
            ("email", encrypt(models.EmailField(**n)), "text"),
            ("integer", encrypt(models.IntegerField(**n)), "integer"),
            ("bigint", encrypt(models.BigIntegerField(**n)), "integer"),
            ("boolean", encrypt(models.BooleanField(**n)), "boolean"),
            ("date", encrypt(models.DateField(**n)), "date"),
            ("datetime", encrypt(models.DateTimeField(**n)), "datetime"),
            ("decimal", encrypt(models.DecimalField(max_digits=30, decimal_places=2, **n)), "decimal"),
            ("float", encrypt(models.FloatField(**n)), "float"),
            ("json", encrypt(models.JSONField(**n)), "json"),
        ]
        return [Column(c, fld, k, "binary") for c, fld, k in spec]
    if library == "cryptbase":
        import cryptbase

        return [Column("text", cryptbase.EncryptedTextField(key=s["CRYPTBASE_KEY_HEX"], **n), "text", "text")]
    if library == "searchable":
        import encrypted_fields.fields as f

        if not hasattr(f, "SearchField"):
            sys.exit("generate: `encrypted_fields` here is not django-searchable-encrypted-fields; use the search venv")
        hk = s["HASH_KEYS"]
        # An encrypted field comes before its SearchField: the SearchField's descriptor copies
        # what is assigned to it into the encrypted field.
        return [
            Column("text", f.EncryptedTextField(**n), "text", "binary"),
            Column("char", f.EncryptedCharField(max_length=255, **n), "text", "binary"),
            Column("email", f.EncryptedEmailField(**n), "text", "binary"),
            Column("email_search", f.SearchField(hash_key=hk["email_search"], encrypted_field_name="email"),
                   "search", "text", search_of="email"),
            Column("integer", f.EncryptedIntegerField(**n), "integer", "binary"),
            Column("integer_search", f.SearchField(hash_key=hk["integer_search"], encrypted_field_name="integer"),
                   "search", "text", search_of="integer"),
            Column("bigint", f.EncryptedBigIntegerField(**n), "integer", "binary"),
            Column("date", f.EncryptedDateField(**n), "date", "binary"),
            Column("datetime", f.EncryptedDateTimeField(**n), "datetime", "binary"),
        ]
    raise AssertionError(library)


def build_model(library: str, table: str, s: dict[str, Any]):
    from django.db import models

    # Field order is creation order: id and label first.
    attrs: dict[str, Any] = {
        "__module__": f"{APP_LABEL}.models",
        "Meta": type("Meta", (), {"app_label": APP_LABEL, "db_table": table}),
        "id": models.BigAutoField(primary_key=True),
        "label": models.CharField(max_length=100),
    }
    columns = library_columns(library, s)
    for c in columns:
        attrs[c.name] = c.field
    model = type("FixtureRow", (models.Model,), attrs)
    for c in columns:
        assert model._meta.get_field(c.name).column == c.name
    return model, columns


def recreate_table(model) -> None:
    from django.db import connection

    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {qn(model._meta.db_table)}")
    with connection.schema_editor() as editor:
        editor.create_model(model)


# --------------------------------------------------------------------------- key rotation

CACHED_KEY_ATTRS = ("keys", "fernet_keys", "fernet", "f")  # cached_property names in ff/fef/searchable


def reset_key_caches(library: str, columns: list[Column]) -> None:
    """Forget the keys the fields cached, so the next use reads the (overridden) settings."""
    if library == "emf":
        import encrypted_model_fields.fields as f

        f.CRYPTER = f.get_crypter()  # built once at import otherwise
        return
    for c in columns:
        if c.search_of is None:
            for attr in CACHED_KEY_ATTRS:
                c.field.__dict__.pop(attr, None)


def phase_settings(library: str, s: dict[str, Any], key_index: int) -> dict[str, Any]:
    """Settings under which rows encrypt with key number key_index of the final key list."""
    if library == "emf":
        return {"FIELD_ENCRYPTION_KEY": [s["FIELD_ENCRYPTION_KEY"][key_index]]}
    if library == "ff":
        return {"FERNET_KEYS": [s["FERNET_KEYS"][key_index]]}
    if library == "searchable":
        return {"FIELD_ENCRYPTION_KEYS": [s["FIELD_ENCRYPTION_KEYS"][key_index]]}
    if library == "fef":
        # final key list: for secret in [SECRET_KEY] + SECRET_KEY_FALLBACKS: for salt in SALT_KEY
        secrets_ = [s["SECRET_KEY"]] + s["SECRET_KEY_FALLBACKS"]
        salts = s["SALT_KEY"]
        secret, salt = secrets_[key_index // len(salts)], salts[key_index % len(salts)]
        # as if that secret were the SECRET_KEY at the time and that salt the only SALT_KEY
        return {"SECRET_KEY": secret, "SECRET_KEY_FALLBACKS": [], "SALT_KEY": [salt]}
    raise AssertionError(library)


@contextlib.contextmanager
def written_with_key(library: str, columns: list[Column], s: dict[str, Any], key_index: int):
    if key_index == 0:
        yield
        return
    from django.test.utils import override_settings

    with override_settings(**phase_settings(library, s, key_index)):
        reset_key_caches(library, columns)
        yield
    reset_key_caches(library, columns)  # back to the full key list


def rotation_indices(library: str, s: dict[str, Any]) -> list[int]:
    if library == "fef":
        return list(range(1, (1 + len(s["SECRET_KEY_FALLBACKS"])) * len(s["SALT_KEY"])))
    if library in ROTATING:
        return [1]
    return []


# --------------------------------------------------------------------------- values

UNICODE_TEXT = (
    "combining: e\u0301 n\u0303 A\u030a \u1e9b\u0323 | emoji: \U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 "
    "\U0001f3f3\ufe0f\u200d\U0001f308 \U0001f1ef\U0001f1f5 \U0001f44d\U0001f3fd | RTL: \u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd "
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u202bembedded\u202c \u200f| CJK: \u65e5\u672c\u8a9e "
    "\u4e2d\u6587 \ud55c\uad6d\uc5b4 \U00020bb7 | math: \U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 | "
    "misc: \u00df\u1e9e \ufb01 \u2126 \u00bd \u200b(zwsp) \ufeff(bom) \ufffd"
)
CONTROL_TEXT = "tab\there\nnewline\r\ncrlf \x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f \u0085\u2028\u2029 end\t\n"


def big_text(rng: random.Random, min_chars: int = 100_000) -> str:
    fragments = [
        "lorem ", "ipsum ", "dolor ", "sit ", "amet, ", "0123456789 ", "\n", "\t", "Gr\u00fc\u00dfe ",
        "\u65e5\u672c\u8a9e ", "\U0001f642 ", "e\u0301 ", "\u05e9\u05dc\u05d5\u05dd ", "\u00e9t\u00e9 ",
        "\u0414\u043e\u0431\u0440\u044b\u0439 ", "\U0001f468\u200d\U0001f4bb ", "<&\"'> ",
    ]
    parts: list[str] = ["BEGIN big text\n"]
    total = len(parts[0])
    while total < min_chars:
        frag = rng.choice(fragments)
        parts.append(frag)
        total += len(frag)
    parts.append("\nEND big text")
    return "".join(parts)


def awkward_rows(library: str, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    D = decimal.Decimal
    rows: list[tuple[str, dict[str, Any]]] = [
        ("basic", {
            "text": "Hello, w\u00f6rld \u2713", "char": "plain char", "email": "alice@example.com",
            "integer": 42, "bigint": 9007199254740993, "boolean": True, "date": dt.date(2024, 2, 29),
            "datetime": dt.datetime(2024, 2, 29, 13, 37, 42, 123456, tzinfo=UTC),
            "decimal": D("1234.50"), "float": 3.14159,
            "json": {"name": "x", "n": 1, "f": 2.5, "t": True, "no": False, "nil": None,
                     "list": [1, "two", [3, {"four": 4.0}]], "nested": {"k": {"deeper": ["v"]}}},
        }),
        ("unicode", {
            "text": UNICODE_TEXT, "char": "Zo\u00eb \u2713 \u6f22\u5b57 \U0001f642 \u05d0\u05d1",
            "email": "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1.\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae",
            "integer": 7, "bigint": 7,
            "json": {"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435", "emoji": "\U0001f469\u200d\U0001f4bb",
                     "rtl": "\u0645\u0631\u062d\u0628\u0627", "cjk": ["\u65e5", "\u672c"], "e\u0301": "combining key"},
        }),
        ("empty-and-zero", {
            "text": "", "char": "", "email": "", "integer": 0, "bigint": 0, "boolean": False,
            "decimal": D("0.00"), "float": 0.0, "json": {},
        }),
        ("nulls", {}),
        ("control-chars", {
            "text": CONTROL_TEXT, "char": "\x01\x1f\x7f", "email": "  spaced@example.com\t",
            "json": {"ctl": "\t\n\r\x01\x1f", "quote": "\"'\\", "slash": "a/b"},
        }),
        ("int-max", {
            "integer": 2**31 - 1, "bigint": 2**63 - 1, "boolean": True,
            "decimal": D("12345678901234.50"), "float": 1.7976931348623157e308,
            "json": [2**63 - 1, -(2**63), 1.5, 1e-300, True, False, None, "", [], {}],
        }),
        ("int-min", {
            "integer": -(2**31), "bigint": -(2**63), "boolean": False,
            "decimal": D("-0.01"), "float": -0.0, "json": False,
        }),
        ("negative", {
            "integer": -1, "bigint": -42, "decimal": D("-12345678901234.99"), "float": -2.5e-300,
            "json": -1,
        }),
        ("floats-small", {"float": 1e-300, "decimal": D("0.10"), "json": 0.30000000000000004}),
        ("floats-denormal", {"float": 5e-324, "json": "just a string"}),
        ("floats-repr", {"float": 0.1 + 0.2, "json": ["top-level", "list", 3]}),
        ("dt-utc-micro", {"datetime": dt.datetime(2024, 2, 29, 13, 37, 42, 123456, tzinfo=UTC),
                          "date": dt.date(2024, 2, 29)}),
        ("dt-plus0530", {"datetime": dt.datetime(2024, 2, 29, 19, 7, 42, tzinfo=IST),
                         "date": dt.date(1900, 1, 1)}),
        ("dt-minus0800", {"datetime": dt.datetime(2023, 12, 31, 16, 0, 0, 1, tzinfo=PST),
                          "date": dt.date(2000, 1, 1)}),
        # Europe/Paris springs forward 2024-03-31 02:00 -> 03:00 and falls back 2024-10-27 03:00 -> 02:00
        ("dt-paris-before-spring", {"datetime": dt.datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=PARIS)}),
        ("dt-paris-after-spring", {"datetime": dt.datetime(2024, 3, 31, 3, 0, 0, tzinfo=PARIS)}),
        ("dt-paris-fall-fold0", {"datetime": dt.datetime(2024, 10, 27, 2, 30, 0, 500000, tzinfo=PARIS)}),
        ("dt-paris-fall-fold1", {"datetime": dt.datetime(2024, 10, 27, 2, 30, 0, 500000, tzinfo=PARIS, fold=1)}),
        ("dt-before-epoch", {"datetime": dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                             "date": dt.date(1, 1, 1)}),
        ("dt-far-future", {"datetime": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                           "date": dt.date(9999, 12, 31)}),
        ("big-text", {"text": big_text(rng), "char": "x" * 255}),
        ("combined", {
            "text": "mixed \u00e9\u00e8 \U0001f680 \u05e9 \u4e2d \t\n end", "char": "c\u0327a",
            "email": "Bob.O'Brien+tag@Example.COM", "integer": 2**31 - 2, "bigint": -(2**53) - 1,
            "boolean": True, "date": dt.date(2024, 2, 29),
            "datetime": dt.datetime(2024, 7, 14, 12, 0, tzinfo=PARIS), "decimal": D("0.01"),
            "float": -1e300, "json": {"a": [None, {"b": None}], "unicode \U0001f642": "\u2713"},
        }),
    ]
    return rows


def rotation_row(library: str, key_index: int) -> tuple[str, dict[str, Any]]:
    return (f"key-{key_index}", {
        "text": f"written while only key {key_index} was configured", "char": f"rotated {key_index}",
        "email": f"rotated{key_index}@example.org", "integer": -7 - key_index, "bigint": -(10**15) - key_index,
        "boolean": True, "date": dt.date(2024, 2, 29),
        "datetime": dt.datetime(2024, 2, 29, 19, 7, 42, 1, tzinfo=IST),
        "float": 2.75, "json": {"rotated": key_index},
    })


EXTRA_ALPHABET = string.ascii_letters + string.digits + " .-_" + "\u00e4\u00f6\u00fc\u00df\u2713\u65e5\u672c\U0001f642"


def extra_values(rng: random.Random, i: int) -> dict[str, Any]:
    word = "".join(rng.choice(EXTRA_ALPHABET) for _ in range(rng.randint(0, 40)))
    return {
        "text": f"extra {i}: {word}",
        "char": word[:255],
        "email": f"user{i}.{rng.randint(0, 10**6)}@example.org",
        "integer": rng.randint(-(2**31), 2**31 - 1),
        "bigint": rng.randint(-(2**63), 2**63 - 1),
        "boolean": rng.random() < 0.5,
        "date": dt.date(1970, 1, 1) + dt.timedelta(days=rng.randint(0, 40_000)),
        "datetime": dt.datetime(1970, 1, 1, tzinfo=UTC)
        + dt.timedelta(seconds=rng.randint(0, 2_500_000_000), microseconds=rng.randint(0, 999_999)),
        "decimal": decimal.Decimal(rng.randint(-(10**14), 10**14)).scaleb(-2),
        "float": rng.uniform(-1e6, 1e6),
        "json": {"i": i, "w": word, "b": rng.random() < 0.5, "f": rng.uniform(-1, 1), "n": None},
    }


def model_kwargs(columns: list[Column], values: dict[str, Any]) -> dict[str, Any]:
    """The encrypted field of a SearchField is written through the SearchField (the documented use:
    its descriptor copies the value into the encrypted field and the hash comes from it)."""
    search_for = {c.search_of: c.name for c in columns if c.search_of}
    kw = {}
    for c in columns:
        if c.search_of:
            continue
        kw[search_for.get(c.name, c.name)] = values.get(c.name)
    return kw


# --------------------------------------------------------------------------- manifest values

def jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"non-finite float {v!r} cannot go into JSON")
        return v
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    raise TypeError(f"unexpected {type(v).__name__}: {v!r}")


def difference(written: Any, read: Any) -> str | None:
    """None if the ORM gave back what was written, else a short description (grouped in the log)."""
    if isinstance(written, dt.datetime) and isinstance(read, dt.datetime):
        if read.tzinfo is None:
            return "naive datetime returned"
        # (== between zones is False for a time in a DST fold, so compare in UTC)
        if written.astimezone(UTC) == read.astimezone(UTC):
            if written.utcoffset() != read.utcoffset():
                return f"same instant, returned with tzinfo {type(read.tzinfo).__name__} {read.tzinfo}"
            return None
    elif isinstance(written, float) and isinstance(read, float):
        if written == read and math.copysign(1, written) == math.copysign(1, read):
            return None
    elif type(written) is type(read) and written == read:
        return None
    return f"{describe(written)} -> {describe(read)}"


def describe(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


def versions(library: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ["Django"] + LIBRARIES[library][0] + ["psycopg"]:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def derived_keys(library: str, columns: list[Column]) -> dict[str, Any] | None:
    """The keys the library itself derived from the settings (to check a reimplemented KDF)."""
    field = columns[0].field
    if library == "ff":
        return {"fernet_keys": [k.decode("ascii") for k in field.fernet_keys],
                "kdf": "HKDF-SHA256(ikm=utf8(key), salt=b'django-fernet-fields-hkdf-salt', "
                       "info=b'django-fernet-fields', L=32), base64url"}
    if library == "fef":
        return {"fernet_keys": [k.decode("ascii") for k in field.keys],
                "kdf": "for secret in [SECRET_KEY]+SECRET_KEY_FALLBACKS: for salt in SALT_KEY: "
                       "base64url(PBKDF2-HMAC-SHA256(utf8(secret), utf8(salt), 100000, 32))"}
    if library == "cryptography":
        from django_cryptography.utils.crypto import settings as csettings

        return {"aes_key_hex": csettings.CRYPTOGRAPHY_KEY.hex(),
                "kdf": "PBKDF2-HMAC-SHA256(utf8(CRYPTOGRAPHY_KEY or SECRET_KEY), utf8(CRYPTOGRAPHY_SALT), 30000, 32)",
                "hmac_key": "utf8(SECRET_KEY), not derived"}
    return None


# --------------------------------------------------------------------------- normal mode

def generate(args: argparse.Namespace) -> dict[str, Any]:
    library = args.library
    backend, db = database_config(args.database_url)
    s = make_settings(library, args)
    configure_django(library, db, s)
    compat_patches = [p for p in [patch_psycopg3_integer_adapt(library)] if p]
    model, columns = build_model(library, args.table, s)
    recreate_table(model)
    log(f"{library}: table {args.table} created on {backend}")

    rng = random.Random(secrets.randbits(64))
    written: list[tuple[str, dict[str, Any], int]] = []  # label, values, key index

    t0 = time.monotonic()
    for label, values in awkward_rows(library, rng):
        model.objects.create(label=label, **model_kwargs(columns, values))
        written.append((label, values, 0))
    for key_index in rotation_indices(library, s):
        label, values = rotation_row(library, key_index)
        with written_with_key(library, columns, s, key_index):
            model.objects.create(label=label, **model_kwargs(columns, values))
        written.append((label, values, key_index))
    if args.rows_extra:
        batch = []
        for i in range(1, args.rows_extra + 1):
            label, values = f"extra-{i:06d}", extra_values(rng, i)
            batch.append(model(label=label, **model_kwargs(columns, values)))
            written.append((label, values, 0))
        model.objects.bulk_create(batch, batch_size=500)
    log(f"{library}: wrote {len(written)} rows in {time.monotonic() - t0:.2f}s")

    if library == "searchable":
        # the stored hashes are what the library itself searches by
        assert "basic" in set(model.objects.filter(email_search="alice@example.com").values_list("label", flat=True))
        assert "basic" in set(model.objects.filter(integer_search=42).values_list("label", flat=True))

    # ---- read everything back with a fresh query (full key configuration)
    search_cols = [c.name for c in columns if c.search_of]
    stored_search = {}
    if search_cols:
        # The SearchField's attribute returns the decrypted value; the stored hash comes via values().
        stored_search = {r["id"]: r for r in model.objects.order_by("id").values("id", *search_cols)}
    by_label = {label: (values, key_index) for label, values, key_index in written}
    rows, quirks = [], {}
    for obj in model.objects.order_by("id"):
        values_out = {}
        w_values, key_index = by_label[obj.label]
        for c in columns:
            if c.search_of:
                got = stored_search[obj.id][c.name]
            else:
                got = getattr(obj, c.field.attname)
                w = w_values.get(c.name)
                diff = difference(w, got)
                if diff and not obj.label.startswith("extra-"):
                    quirks.setdefault(f"{c.name}: {diff}", []).append(obj.label)
            values_out[c.name] = jsonable(got)
        row = {"id": obj.id, "label": obj.label, "values": values_out}
        if library in ROTATING:
            row["key_index"] = key_index
        rows.append(row)
    assert len(rows) == len(written), (len(rows), len(written))
    for what, labels in sorted(quirks.items()):
        log(f"{library}/{backend}: read back != written: {what}  [{', '.join(labels[:5])}"
            f"{f', +{len(labels) - 5}' if len(labels) > 5 else ''}]")

    settings_out = {k: v for k, v in s.items()}
    manifest = {
        "library": library,
        "versions": versions(library),
        "backend": backend,
        "database_url": args.database_url,
        "table": args.table,
        "pk": "id",
        "settings": settings_out,
        "columns": {c.name: column_info(c) for c in columns},
        "rows": rows,
    }
    if compat_patches:
        manifest["compat_patches"] = compat_patches
    dk = derived_keys(library, columns)
    if dk:
        manifest["derived_keys"] = dk
    if library == "cryptography":
        import pickle

        manifest["pickle_protocol"] = pickle.DEFAULT_PROTOCOL
    if library in ROTATING:
        manifest["key_index_note"] = key_index_note(library)
    return manifest


def column_info(c: Column) -> dict[str, Any]:
    info = {"field": type(c.field).__name__, "kind": c.kind, "storage": c.storage}
    if c.search_of:
        info["search_of"] = c.search_of
    return info


def key_index_note(library: str) -> str:
    base = {
        "emf": "index into settings.FIELD_ENCRYPTION_KEY",
        "ff": "index into settings.FERNET_KEYS (before HKDF)",
        "fef": "index into the key list: for secret in [SECRET_KEY]+SECRET_KEY_FALLBACKS: for salt in SALT_KEY",
        "searchable": "index into settings.FIELD_ENCRYPTION_KEYS",
    }[library]
    return f"rows[].key_index: the only key configured when the row was written ({base}); 0 = normal writes"


# --------------------------------------------------------------------------- bulk mode

BULK_FORMAT = "customer-{i:07d}@example.org"


def _bulk_chunk(bounds: tuple[int, int]) -> bytes:
    import encrypted_model_fields.fields as f

    encrypt_str = f.encrypt_str  # the library's own function (module CRYPTER, first key)
    start, end = bounds
    return "".join(
        f"{i}\t{encrypt_str(BULK_FORMAT.format(i=i)).decode('ascii')}\n" for i in range(start, end)
    ).encode("ascii")


def bulk(args: argparse.Namespace) -> dict[str, Any]:
    import multiprocessing

    if args.library != "emf":
        sys.exit("generate: --bulk is for --library emf only")
    backend, db = database_config(args.database_url)
    s = make_settings("emf", args)
    configure_django("emf", db, s)
    import encrypted_model_fields.fields as f

    n = args.bulk
    chunk = 20_000
    bounds = [(a, min(a + chunk, n + 1)) for a in range(1, n + 1, chunk)]
    workers = args.workers or os.cpu_count() or 1
    table = args.table
    t0 = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(args.database_url) as conn:
            with conn.cursor() as cur:
                cur.execute(f'DROP TABLE IF EXISTS "{table}"')
                cur.execute(f'CREATE TABLE "{table}" (id bigint PRIMARY KEY, secret text)')
                with ctx.Pool(workers) as pool, cur.copy(f'COPY "{table}" (id, secret) FROM STDIN') as copy:
                    for data in pool.imap(_bulk_chunk, bounds):
                        copy.write(data)
            conn.commit()
            with conn.cursor() as cur:
                cur.execute(f'SELECT count(*), min(id), max(id) FROM "{table}"')
                count, lo, hi = cur.fetchone()
                probe = sorted({1, n // 2 or 1, n})
                cur.execute(f'SELECT id, secret FROM "{table}" WHERE id = ANY(%s)', (probe,))
                samples = cur.fetchall()
    else:
        import sqlite3

        conn = sqlite3.connect(db["NAME"])
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        conn.execute(f'CREATE TABLE "{table}" (id bigint PRIMARY KEY, secret text)')
        with ctx.Pool(workers) as pool:
            for data in pool.imap(_bulk_chunk, bounds):
                conn.executemany(f'INSERT INTO "{table}" (id, secret) VALUES (?, ?)',
                                 (line.split("\t") for line in data.decode("ascii").splitlines()))
        conn.commit()
        count, lo, hi = conn.execute(f'SELECT count(*), min(id), max(id) FROM "{table}"').fetchone()
        probe = sorted({1, n // 2 or 1, n})
        samples = conn.execute(f'SELECT id, secret FROM "{table}" WHERE id IN ({",".join("?" * len(probe))})',
                               probe).fetchall()
        conn.close()
    elapsed = time.monotonic() - t0
    assert (count, lo, hi) == (n, 1, n), (count, lo, hi)
    for i, token in samples:  # the library reads its own tokens back
        assert f.decrypt_str(token) == BULK_FORMAT.format(i=i), i
    log(f"emf bulk: {n} rows into {table} on {backend} in {elapsed:.1f}s with {workers} workers")
    return {
        "library": "emf",
        "versions": versions("emf"),
        "backend": backend,
        "database_url": args.database_url,
        "table": table,
        "pk": "id",
        "settings": s,
        "columns": {"secret": {"field": "EncryptedTextField", "kind": "text", "storage": "text"}},
        "rows": [],
        "rows_bulk": n,
        "bulk_value_format": BULK_FORMAT,
        "bulk_value_note": "row id i holds encrypt_str(bulk_value_format.format(i=i)) under FIELD_ENCRYPTION_KEY[0]",
        "bulk_seconds": round(elapsed, 2),
    }


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--library", required=True, choices=sorted(LIBRARIES))
    p.add_argument("--database-url", required=True, help="sqlite:///abs/path.db or postgres://user@host:port/db")
    p.add_argument("--table", required=True)
    p.add_argument("--out", required=True, help="manifest JSON to write")
    p.add_argument("--rows-extra", type=int, default=0, metavar="N", help="N more rows with simple random values")
    p.add_argument("--bulk", type=int, default=0, metavar="N",
                   help="emf only: fill (id bigint primary key, secret text) with N tokens via COPY")
    p.add_argument("--workers", type=int, default=0, help="--bulk: encrypting processes (default: CPU count)")
    p.add_argument("--no-cryptography-key", action="store_true",
                   help="cryptography: leave CRYPTOGRAPHY_KEY unset (AES key then derives from SECRET_KEY)")
    args = p.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", args.table):
        p.error("--table must be a plain SQL identifier")
    if args.rows_extra < 0 or args.bulk < 0:
        p.error("counts must be >= 0")
    if args.bulk and args.rows_extra:
        p.error("--bulk and --rows-extra do not mix")

    t0 = time.monotonic()
    manifest = bulk(args) if args.bulk else generate(args)
    manifest["generated_at"] = dt.datetime.now(UTC).isoformat(timespec="seconds")
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    os.replace(tmp, out)
    log(f"wrote {out} ({len(manifest['rows'])} rows) in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
