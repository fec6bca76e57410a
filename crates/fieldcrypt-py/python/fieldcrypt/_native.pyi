"""Type stubs of the native module (see ``fieldcrypt``)."""

from os import PathLike
from typing import Any, Literal, Optional, Sequence, Union
from uuid import UUID

__version__: str

RowKey = Union[int, str, UUID]
Envelope = Union[bytes, str]
TypeName = Literal["string", "bytes", "int", "float", "bool", "date", "timestamp", "decimal", "json"]

class FieldcryptError(Exception): ...
class CannotOpen(FieldcryptError): ...
class Malformed(FieldcryptError): ...
class UnknownKey(FieldcryptError): ...
class RetiredKey(FieldcryptError): ...
class WrongType(FieldcryptError): ...
class InvalidValue(FieldcryptError): ...
class KeyringError(FieldcryptError): ...

class Keyring:
    @staticmethod
    def open_local(
        path: Union[str, PathLike[str]], master_key: Optional[Union[str, PathLike[str]]] = None
    ) -> Keyring: ...
    @staticmethod
    def generate() -> Keyring: ...
    @staticmethod
    def _from_single_key(key: bytes, key_id: int, suite: str = "kc-xaes-256-gcm") -> Keyring: ...
    @property
    def id(self) -> str: ...
    @property
    def primary_key_id(self) -> int: ...
    def seal(
        self,
        table: str,
        column: str,
        value: Any,
        *,
        row: Optional[RowKey] = None,
        tenant: Optional[RowKey] = None,
        text: bool = False,
    ) -> Envelope: ...
    def open(
        self,
        table: str,
        column: str,
        envelope: Envelope,
        *,
        row: Optional[RowKey] = None,
        tenant: Optional[RowKey] = None,
        expect: Optional[TypeName] = None,
    ) -> Any: ...
    def seal_many(
        self, table: str, column: str, values: Sequence[Any], *, text: bool = False
    ) -> list[Envelope]: ...
    def open_many(
        self,
        table: str,
        column: str,
        envelopes: Sequence[Envelope],
        *,
        expect: Optional[TypeName] = None,
    ) -> list[Any]: ...
