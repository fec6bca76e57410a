"""Type stubs of the native module (see ``fieldcrypt``)."""

from os import PathLike
from types import TracebackType
from typing import IO, Any, Literal, Mapping, Optional, Sequence, Union, final
from uuid import UUID

__all__ = [
    "BlindIndex",
    "CannotOpen",
    "FieldcryptError",
    "InvalidValue",
    "Keyring",
    "KeyringError",
    "LegacyError",
    "LegacyReader",
    "Malformed",
    "RetiredKey",
    "SealedReader",
    "UnknownKey",
    "WrongType",
    "envelope_length",
    "is_envelope",
    "open_path",
    "open_stream",
    "plan",
    "seal_path",
    "seal_stream",
    "__version__",
]

__version__: str

_RowKey = Union[int, str, UUID]
_Envelope = Union[bytes, str]
_TypeName = Literal[
    "string", "bytes", "int", "float", "bool", "date", "timestamp", "decimal", "json"
]
_ProviderName = Literal["local", "env", "passphrase", "vault", "aws-kms"]
_StrPath = Union[str, PathLike[str]]
_Normalizer = Literal["trim", "casefold", "lower", "nfkc", "digits", "digits-only"]
_LegacyFlavor = Literal[
    "encrypted-model-fields",
    "fernet-fields",
    "fernet-encrypted-fields",
    "cryptography",
    "cryptbase",
    "searchable",
]

class FieldcryptError(Exception): ...
class CannotOpen(FieldcryptError): ...
class Malformed(FieldcryptError): ...
class UnknownKey(FieldcryptError): ...
class RetiredKey(FieldcryptError): ...
class WrongType(FieldcryptError): ...
class InvalidValue(FieldcryptError): ...
class KeyringError(FieldcryptError): ...
class LegacyError(FieldcryptError): ...

@final
class Keyring:
    @staticmethod
    def open_local(path: _StrPath, master_key: Optional[_StrPath] = None) -> Keyring: ...
    @staticmethod
    def open_file(
        path: _StrPath,
        *,
        master_key: Optional[_StrPath] = None,
        key_variable: Optional[str] = None,
        passphrase_variable: Optional[str] = None,
        expect_provider: Optional[_ProviderName] = None,
        keyring_id: Optional[str] = None,
        min_generation: Optional[int] = None,
        vault_addr: Optional[str] = None,
        vault_mount: Optional[str] = None,
        vault_key: Optional[str] = None,
        vault_ca_cert: Optional[_StrPath] = None,
        aws_kms_key: Optional[str] = None,
        aws_region: Optional[str] = None,
        aws_endpoint: Optional[str] = None,
    ) -> Keyring: ...
    @staticmethod
    def from_document(
        document: str,
        *,
        source: Optional[str] = None,
        master_key: Optional[_StrPath] = None,
        key_variable: Optional[str] = None,
        passphrase_variable: Optional[str] = None,
        expect_provider: Optional[_ProviderName] = None,
        keyring_id: Optional[str] = None,
        min_generation: Optional[int] = None,
        vault_addr: Optional[str] = None,
        vault_mount: Optional[str] = None,
        vault_key: Optional[str] = None,
        vault_ca_cert: Optional[_StrPath] = None,
        aws_kms_key: Optional[str] = None,
        aws_region: Optional[str] = None,
        aws_endpoint: Optional[str] = None,
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
        row: Optional[_RowKey] = None,
        tenant: Optional[_RowKey] = None,
        text: bool = False,
    ) -> _Envelope: ...
    def open(
        self,
        table: str,
        column: str,
        envelope: _Envelope,
        *,
        row: Optional[_RowKey] = None,
        tenant: Optional[_RowKey] = None,
        expect: Optional[_TypeName] = None,
    ) -> Any: ...
    def seal_many(
        self, table: str, column: str, values: Sequence[Any], *, text: bool = False
    ) -> list[_Envelope]: ...
    def open_many(
        self,
        table: str,
        column: str,
        envelopes: Sequence[_Envelope],
        *,
        expect: Optional[_TypeName] = None,
    ) -> list[Any]: ...

@final
class BlindIndex:
    def __new__(
        cls,
        table: str,
        column: str,
        name: str,
        *,
        bits: Optional[int] = None,
        rows: Optional[int] = None,
        normalizers: Sequence[_Normalizer] = ...,
    ) -> BlindIndex: ...
    @property
    def bits(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def normalizers(self) -> list[str]: ...
    @property
    def casefolds(self) -> bool: ...
    def value(self, keyring: Keyring, value: str) -> int: ...
    def values(self, keyring: Keyring, values: Sequence[str]) -> list[int]: ...
    def lookup(self, keyring: Keyring, value: str) -> list[int]: ...
    def matches(self, query: str, candidate: str) -> bool: ...
    def bits_warning(self, rows: int) -> Optional[str]: ...

@final
class LegacyReader:
    def __new__(
        cls,
        flavor: _LegacyFlavor,
        kind: str,
        settings: Mapping[str, Union[str, bool, Sequence[str]]],
        *,
        naive_zone: str = "UTC",
        plaintext_passthrough: bool = False,
    ) -> LegacyReader: ...
    @property
    def flavor(self) -> str: ...
    def read(self, stored: _Envelope) -> Any: ...
    def open(
        self,
        keyring: Keyring,
        table: str,
        column: str,
        stored: _Envelope,
        *,
        row: Optional[_RowKey] = None,
        tenant: Optional[_RowKey] = None,
    ) -> tuple[Any, bool]: ...
    def open_many(
        self, keyring: Keyring, table: str, column: str, stored: Sequence[_Envelope]
    ) -> list[tuple[Any, bool]]: ...

def plan(rows: int, distinct: int, other_bits: int = 0) -> tuple[int, float, bool]: ...
def is_envelope(stored: _Envelope) -> bool: ...
def envelope_length(plaintext_bytes: int, *, text: bool) -> int: ...

def seal_path(
    keyring: Keyring,
    source: _StrPath,
    destination: _StrPath,
    *,
    table: Optional[str] = None,
    column: Optional[str] = None,
    row: Optional[_RowKey] = None,
    chunk_size: int = 65536,
) -> int: ...
def open_path(
    keyring: Keyring,
    source: _StrPath,
    destination: _StrPath,
    *,
    table: Optional[str] = None,
    column: Optional[str] = None,
    row: Optional[_RowKey] = None,
) -> int: ...
def seal_stream(
    keyring: Keyring,
    source: IO[bytes],
    destination: IO[bytes],
    *,
    table: Optional[str] = None,
    column: Optional[str] = None,
    row: Optional[_RowKey] = None,
    chunk_size: int = 65536,
) -> int: ...
def open_stream(
    keyring: Keyring,
    source: IO[bytes],
    destination: IO[bytes],
    *,
    table: Optional[str] = None,
    column: Optional[str] = None,
    row: Optional[_RowKey] = None,
) -> int: ...
@final
class SealedReader:
    def __new__(
        cls,
        keyring: Keyring,
        fileobj: IO[bytes],
        *,
        table: Optional[str] = None,
        column: Optional[str] = None,
        row: Optional[_RowKey] = None,
    ) -> SealedReader: ...
    @property
    def size(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def read(self, size: int = -1) -> bytes: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    def tell(self) -> int: ...
    def readable(self) -> bool: ...
    def seekable(self) -> bool: ...
    def writable(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> SealedReader: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
