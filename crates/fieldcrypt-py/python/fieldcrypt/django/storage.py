"""``EncryptedStorage``: any Django storage, with every file sealed at rest.

Files are sealed on save and opened on read in fieldcrypt's stream format, under the keyring
``FIELDCRYPT`` configures (the one the model fields use), each bound to its storage's namespace
and its name: a sealed file copied to another name, or into another storage, does not open.
Reads are ranged: ``seek`` then ``read`` opens only the chunks the range covers, so a byte range
of a large file in S3 costs a chunk, not the file. ::

    STORAGES = {
        "default": {
            "BACKEND": "fieldcrypt.django.storage.EncryptedStorage",
            "OPTIONS": {
                "namespace": "uploads",
                # any storage: FileSystemStorage (the default), django-storages' S3Storage, ...
                "storage": {
                    "BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {"bucket_name": "acme-uploads"},
                },
            },
        },
        "staticfiles": {...},
    }

What the inner storage holds is sealed bytes, so neither the inner storage's URLs nor its paths
are handed out: a link to ciphertext serves nobody, and a path handed to code that expects the
file would give it ciphertext. Serve files through a view of yours that checks who may read them
and streams ``storage.open(name)``, and give its prefix as ``base_url`` (``url()`` then returns
``base_url`` + the name, as FileSystemStorage does with MEDIA_URL; Django's admin file widgets
need a ``url()``). Without ``base_url``, ``url()`` raises ``NotImplementedError``, and ``path()``
always does.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import IO, Any, List, Mapping, Optional, Tuple, Union

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from django.utils.module_loading import import_string

from fieldcrypt import DEFAULT_CHUNK_SIZE, InvalidValue, Keyring, SealedReader
from fieldcrypt._native import seal_stream
from fieldcrypt.django import conf

#: Sealed bytes held in memory before they spill to a temporary file, per save.
SPOOL_BYTES = 1024 * 1024

StorageSpec = Union[Storage, str, Mapping[str, Any], None]


def _inner_storage(spec: StorageSpec) -> Storage:
    if spec is None:
        return FileSystemStorage()
    if isinstance(spec, Storage):
        return spec
    if isinstance(spec, str):
        return import_string(spec)()
    backend = import_string(spec["BACKEND"])
    return backend(**dict(spec.get("OPTIONS", {})))


class SealedFile(File):
    """A stored file opened for reading: plaintext out of a :class:`fieldcrypt.SealedReader`."""

    def __init__(self, reader: SealedReader, name: str) -> None:
        super().__init__(reader, name)
        self.mode = "rb"

    @property
    def size(self) -> int:
        return int(self.file.size)

    def open(self, mode: Optional[str] = None, *args: Any, **kwargs: Any) -> "SealedFile":
        if mode not in (None, "rb", "r"):
            raise ValueError("a sealed file opens for reading only")
        self.seek(0)
        return self


@deconstructible(path="fieldcrypt.django.storage.EncryptedStorage")
class EncryptedStorage(Storage):
    """Wraps ``storage`` (a Storage instance, a dotted path, or ``{"BACKEND", "OPTIONS"}``;
    default ``FileSystemStorage()``); seals on save, opens on read.

    ``namespace`` names the storage in every file's context (default ``"storage"``): two
    storages with different namespaces cannot swap files. ``keyring`` defaults to the
    ``FIELDCRYPT`` setting's. ``base_url``: the prefix of your view that serves opened files
    (see the module's documentation)."""

    def __init__(
        self,
        storage: StorageSpec = None,
        namespace: str = "storage",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        keyring: Optional[Keyring] = None,
        base_url: Optional[str] = None,
    ) -> None:
        if not namespace:
            raise InvalidValue("EncryptedStorage needs a non-empty namespace")
        self.storage = _inner_storage(storage)
        self.namespace = namespace
        self.chunk_size = chunk_size
        self._keyring = keyring
        if base_url is not None and not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url

    def _context(self, name: str) -> Tuple[str, str, str]:
        return (self.namespace, "file", name)

    @property
    def keyring(self) -> Keyring:
        return self._keyring if self._keyring is not None else conf.keyring()

    # Reading and writing: sealed here.

    def _open(self, name: str, mode: str = "rb") -> SealedFile:
        if any(flag in mode for flag in "wa+x"):
            raise ValueError("EncryptedStorage opens files for reading only; save() writes them")
        inner = self.storage.open(name, "rb")
        try:
            table, column, row = self._context(name)
            reader = SealedReader(self.keyring, inner, table=table, column=column, row=row)
        except BaseException:
            inner.close()
            raise
        return SealedFile(reader, name)

    def _save(self, name: str, content: File) -> str:
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        table, column, row = self._context(name)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sealed:
            seal_stream(
                self.keyring,
                content,
                sealed,
                table=table,
                column=column,
                row=row,
                chunk_size=self.chunk_size,
            )
            sealed.seek(0)
            saved = self.storage.save(name, File(sealed, name=name))
        if saved != name:
            # The inner storage picked another name (a file appeared there meanwhile): the
            # stream is bound to the name it was sealed for, so it would not open under this
            # one. Remove it rather than keep a file that cannot be read.
            self.storage.delete(saved)
            raise OSError(f"the storage saved {name!r} as {saved!r}; try again")
        return name

    def size(self, name: str) -> int:
        opened = self._open(name)
        try:
            return opened.size
        finally:
            opened.close()

    # Refused: they would hand out ciphertext.

    def url(self, name: Optional[str]) -> str:
        if self.base_url is None:
            raise NotImplementedError(
                "EncryptedStorage holds sealed bytes: serve files through a view that opens "
                "them, and give its prefix as base_url"
            )
        return self.base_url + str(filepath_to_uri(name or "")).lstrip("/")

    def path(self, name: str) -> str:
        raise NotImplementedError(
            "EncryptedStorage holds sealed bytes: read files with storage.open(name)"
        )

    # Names, listing and metadata: the inner storage's.

    def delete(self, name: str) -> None:
        self.storage.delete(name)

    def exists(self, name: str) -> bool:
        return bool(self.storage.exists(name))

    def listdir(self, path: str) -> Tuple[List[str], List[str]]:
        return self.storage.listdir(path)  # type: ignore[no-any-return]

    def get_valid_name(self, name: str) -> str:
        return self.storage.get_valid_name(name)  # type: ignore[no-any-return]

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self.storage.get_alternative_name(file_root, file_ext)  # type: ignore[no-any-return]

    def get_available_name(self, name: str, max_length: Optional[int] = None) -> str:
        return self.storage.get_available_name(name, max_length=max_length)  # type: ignore[no-any-return]

    def generate_filename(self, filename: str) -> str:
        return self.storage.generate_filename(filename)  # type: ignore[no-any-return]

    def get_accessed_time(self, name: str) -> datetime:
        return self.storage.get_accessed_time(name)  # type: ignore[no-any-return]

    def get_created_time(self, name: str) -> datetime:
        return self.storage.get_created_time(name)  # type: ignore[no-any-return]

    def get_modified_time(self, name: str) -> datetime:
        return self.storage.get_modified_time(name)  # type: ignore[no-any-return]
