"""fieldcrypt for Python: field-level encryption on the fieldcrypt format and keyrings.

Every envelope, key and blind-index operation runs in the Rust crates (``fieldcrypt._native``);
this package is the typed API over them. A value sealed here opens in Rust (``fieldcrypt-sqlx``,
the ``fieldcrypt`` command) as the same type, and the other way round.

>>> from fieldcrypt import Keyring
>>> keyring = Keyring.generate()
>>> envelope = keyring.seal("customers", "email", "ann@example.org")
>>> keyring.open("customers", "email", envelope)
'ann@example.org'
"""

from __future__ import annotations

from typing import Any

from fieldcrypt._native import (
    BlindIndex,
    CannotOpen,
    FieldcryptError,
    InvalidValue,
    Keyring,
    KeyringError,
    LegacyError,
    LegacyReader,
    Malformed,
    RetiredKey,
    UnknownKey,
    WrongType,
    __version__,
)

__all__ = [
    "BlindIndex",
    "CannotOpen",
    "FieldcryptError",
    "InvalidValue",
    "Json",
    "Keyring",
    "KeyringError",
    "LegacyError",
    "LegacyReader",
    "Malformed",
    "RetiredKey",
    "UnknownKey",
    "WrongType",
    "__version__",
]


class Json:
    """A JSON value to seal as JSON whatever its Python type (``dict`` and ``list`` are sealed
    as JSON without it; a ``str`` or ``int`` would otherwise be sealed as a string or an int).
    """

    __slots__ = ("value",)
    __fieldcrypt_json__ = True

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Json(...)"  # the value is plaintext
