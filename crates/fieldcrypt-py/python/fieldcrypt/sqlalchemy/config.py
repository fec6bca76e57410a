"""The keyring the encrypted types seal and open with, and the integration's error.

The keyring is resolved at each use (``configure()`` once per process, or a type's own
``keyring=``) and never stored in a type's cache key or repr: a compiled statement cached by
SQLAlchemy holds no key, and two processes with different keyrings share the same SQL.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional, Union

from sqlalchemy import exc

from fieldcrypt import Keyring, KeyringError

#: A keyring, or a callable returning the current one (a keyring that reloads after rotation).
KeyringSource = Union[Keyring, Callable[[], Keyring]]


class EncryptedColumnError(exc.InvalidRequestError):
    """An operation the database cannot serve over ciphertext (an operator, ordering, a SQL
    expression written into an encrypted column, a lookup through a truncated blind index), or
    an encrypted type used without the column that gives it its context."""


_lock = threading.Lock()
_source: Optional[KeyringSource] = None


def configure(keyring: Optional[KeyringSource]) -> None:
    """Sets the keyring every encrypted type without its own ``keyring=`` uses: a ``Keyring``,
    or a callable returning one (called on each use). ``None`` forgets it."""
    global _source
    if keyring is not None and not isinstance(keyring, Keyring) and not callable(keyring):
        raise TypeError("configure() takes a fieldcrypt.Keyring or a callable returning one")
    with _lock:
        _source = keyring


def keyring() -> Keyring:
    """The keyring ``configure()`` set."""
    return resolve(None)


def resolve(source: Optional[KeyringSource]) -> Keyring:
    """``source`` (a type's ``keyring=``) when given, else the configured keyring."""
    found = source if source is not None else _source
    if found is None:
        raise KeyringError(
            "no keyring for fieldcrypt.sqlalchemy: call fieldcrypt.sqlalchemy.configure("
            "Keyring.open_file(...)) at start-up, or give the type keyring=<callable>"
        )
    if isinstance(found, Keyring):
        return found
    opened = found()
    if not isinstance(opened, Keyring):
        raise KeyringError("the keyring callable did not return a fieldcrypt.Keyring")
    return opened
