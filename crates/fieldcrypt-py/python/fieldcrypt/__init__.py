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

import os
from typing import IO, Any, Dict, Optional, Tuple, Union

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
    SealedReader,
    UnknownKey,
    WrongType,
    __version__,
    open_path,
    open_stream,
    seal_path,
    seal_stream,
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
    "SealedReader",
    "UnknownKey",
    "WrongType",
    "__version__",
    "file_context",
    "open_file",
    "seal_file",
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


#: A stream's context: ``(table, column)`` or ``(table, column, row)``.
StreamContext = Union[Tuple[str, str], Tuple[str, str, Any]]
#: A path, or a binary file object.
FileLike = Union[str, "os.PathLike[str]", IO[bytes]]

#: The default chunk size of sealed files: 64 KiB.
DEFAULT_CHUNK_SIZE = 64 * 1024


def file_context(namespace: str, name: str) -> Tuple[str, str, str]:
    """The context a stored file is bound to: ``(namespace, "file", name)``, as
    ``fieldcrypt_files::file_context`` and ``fieldcrypt file --context NAMESPACE.file:NAME``
    make it. A sealed file copied to another name or namespace no longer opens."""
    return (namespace, "file", name)


def _context_kwargs(context: Optional[StreamContext]) -> Dict[str, Any]:
    if context is None:
        return {}
    if len(context) == 2:
        return {"table": context[0], "column": context[1]}
    if len(context) == 3:
        return {"table": context[0], "column": context[1], "row": context[2]}
    raise InvalidValue("a stream context is (table, column) or (table, column, row)")


def seal_file(
    keyring: Keyring,
    source: FileLike,
    destination: FileLike,
    *,
    context: Optional[StreamContext] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Seals ``source`` into ``destination`` in fieldcrypt's stream format (any size, in
    constant memory) under the keyring's primary key; returns the plaintext's length.

    Each is a path or a binary file object. A destination path is written to a temporary file
    beside it and renamed at the end, so an interrupted run never leaves a file that looks
    complete. With two paths the work runs without the GIL."""
    kwargs = _context_kwargs(context)
    if isinstance(source, (str, os.PathLike)):
        if isinstance(destination, (str, os.PathLike)):
            return seal_path(keyring, source, destination, chunk_size=chunk_size, **kwargs)
        with open(source, "rb") as src:
            return seal_file(keyring, src, destination, context=context, chunk_size=chunk_size)
    if isinstance(destination, (str, os.PathLike)):
        raise InvalidValue(
            "seal_file from a file object into a path: open the path yourself, or pass a path "
            "as the source too (a path destination is written whole or not at all only from a path)"
        )
    return seal_stream(keyring, source, destination, chunk_size=chunk_size, **kwargs)


def open_file(
    keyring: Keyring,
    source: FileLike,
    destination: FileLike,
    *,
    context: Optional[StreamContext] = None,
) -> int:
    """Opens the sealed stream ``source`` into ``destination``; returns the plaintext's length.

    A destination path is written whole or not at all: a stream that is cut, reordered,
    spliced, tampered with, or bound to another key or context raises (``CannotOpen``,
    ``Malformed``, ``UnknownKey``, ``RetiredKey``) and leaves no file. Into a file object, only
    authenticated chunks are written before the error. For a range of a sealed file, use
    :class:`SealedReader`."""
    kwargs = _context_kwargs(context)
    if isinstance(source, (str, os.PathLike)):
        if isinstance(destination, (str, os.PathLike)):
            return open_path(keyring, source, destination, **kwargs)
        with open(source, "rb") as src:
            return open_file(keyring, src, destination, context=context)
    if isinstance(destination, (str, os.PathLike)):
        raise InvalidValue(
            "open_file from a file object into a path: pass a path as the source too, or open "
            "the destination yourself"
        )
    return open_stream(keyring, source, destination, **kwargs)
