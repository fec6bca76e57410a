"""``fieldcrypt.django.storage.EncryptedStorage`` over Django's FileSystemStorage and over
django-storages' S3 backend against moto's S3 server (the same moto the KMS tests use, started by
scripts/services.sh; FIELDCRYPT_TEST_AWS_ENDPOINT): upload, read, range read, size, delete;
the bytes at rest are sealed (a canary never in them) and bound to the file's name.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from fieldcrypt import CannotOpen
from fieldcrypt.django.storage import EncryptedStorage

CANARY = b"CANARY-PASSPORT-4d1f"


def document() -> bytes:
    # Over several 64 KiB chunks, with the canary in the middle.
    body = bytes(range(256)) * 800
    return body[:100_000] + CANARY + body[100_000:]


def exercise(storage: EncryptedStorage, raw_bytes: Any) -> None:
    """Save, read, range-read, size, delete; `raw_bytes(name)` returns what is at rest."""
    plain = document()
    name = storage.save(f"scans/{uuid.uuid4().hex}.pdf", ContentFile(plain))
    at_rest = raw_bytes(name)
    assert at_rest[:3] == b"fcS"
    assert CANARY not in at_rest
    assert storage.exists(name)
    assert storage.size(name) == len(plain)
    with storage.open(name) as f:
        assert f.read() == plain
    with storage.open(name) as f:
        f.seek(100_000)
        assert f.read(len(CANARY)) == CANARY
        f.seek(-10, 2)
        assert f.read() == plain[-10:]
    with pytest.raises(NotImplementedError):
        storage.url(name)
    with pytest.raises(ValueError):
        storage.open(name, "wb")
    storage.delete(name)
    assert not storage.exists(name)


def test_filesystem_storage(tmp_path: Path) -> None:
    inner = FileSystemStorage(location=str(tmp_path))
    storage = EncryptedStorage(storage=inner, namespace="uploads")
    exercise(storage, lambda name: (tmp_path / name).read_bytes())

    # Bound to the name and the namespace: a file copied to another name, or read through a
    # storage with another namespace, does not open; a flipped byte does not either.
    name = storage.save("a.pdf", ContentFile(document()))
    (tmp_path / "b.pdf").write_bytes((tmp_path / name).read_bytes())
    with pytest.raises(CannotOpen):
        storage.open("b.pdf")
    with pytest.raises(CannotOpen):
        EncryptedStorage(storage=inner, namespace="other").open(name)
    raw = bytearray((tmp_path / name).read_bytes())
    raw[5000] ^= 1
    (tmp_path / name).write_bytes(bytes(raw))
    with storage.open(name) as f:
        with pytest.raises(CannotOpen):
            f.read()

    # Configured as Django configures storages: a dict naming the inner backend.
    configured = EncryptedStorage(
        storage={"BACKEND": "django.core.files.storage.FileSystemStorage",
                 "OPTIONS": {"location": str(tmp_path / "configured")}},
        namespace="uploads",
    )
    exercise(configured, lambda name: (tmp_path / "configured" / name).read_bytes())

    # With base_url (the app's view that opens files), url() points there, never at the sealed
    # bytes; path() stays refused.
    served = EncryptedStorage(storage=inner, namespace="uploads", base_url="/files")
    assert served.url("scans/a b.pdf") == "/files/scans/a%20b.pdf"
    with pytest.raises(NotImplementedError):
        served.path("scans/a.pdf")


@pytest.fixture
def s3() -> Iterator[Any]:
    endpoint = os.environ.get("FIELDCRYPT_TEST_AWS_ENDPOINT")
    try:
        import boto3
        import storages.backends.s3  # noqa: F401
    except ImportError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"django-storages and boto3 are required under CI: {e}")
        pytest.skip(f"SKIPPED, MISSING: django-storages/boto3 ({e})")
    if not endpoint:
        message = "no moto server (FIELDCRYPT_TEST_AWS_ENDPOINT; scripts/services.sh starts one)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"SKIPPED, MISSING: {message}")
    bucket = f"fieldcrypt-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=bucket)
    yield client, endpoint, bucket


def test_s3_storage_on_moto(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    client, endpoint, bucket = s3
    inner = S3Storage(bucket_name=bucket, endpoint_url=endpoint, region_name="us-east-1",
                      access_key="testing", secret_key="testing", file_overwrite=False)
    storage = EncryptedStorage(storage=inner, namespace=bucket)
    exercise(storage, lambda name: client.get_object(Bucket=bucket, Key=name)["Body"].read())
    # A ranged read of a sealed object: the bytes S3 returns for a range are ciphertext.
    name = storage.save("r.pdf", ContentFile(document()))
    part = client.get_object(Bucket=bucket, Key=name, Range="bytes=100000-100100")["Body"].read()
    assert CANARY not in part
    storage.delete(name)
