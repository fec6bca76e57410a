"""Files in the stream format from Python: ``seal_file``/``open_file`` on paths and file objects,
``SealedReader`` range reads, every failure typed and no partial file left, and files crossing
between Python and the ``fieldcrypt`` command both ways. The format itself is checked against
its vectors by tools/verify_vectors.py and the Rust crates; here, the binding.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import Dict, Tuple

import pytest

import fieldcrypt
from fieldcrypt import CannotOpen, InvalidValue, Keyring, Malformed, SealedReader

CHUNK = 1024
HEADER = 76
SEALED_CHUNK = CHUNK + 16
CTX = fieldcrypt.file_context("uploads", "scans/passport.pdf")


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


def data(n: int) -> bytes:
    return bytes((i * 31 + i // 251) % 256 for i in range(n))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7, 3_000_000])
def test_paths_and_file_objects_round_trip(keyring: Keyring, tmp_path: Path, size: int) -> None:
    plain = data(size) if size < 100_000 else os.urandom(size)
    src = tmp_path / "plain.bin"
    src.write_bytes(plain)
    sealed = tmp_path / "sealed.fcs"
    assert fieldcrypt.seal_file(keyring, src, sealed, context=CTX, chunk_size=CHUNK) == size
    raw = sealed.read_bytes()
    assert raw[:3] == b"fcS"
    chunks = max(1, -(-size // CHUNK))
    assert len(raw) == HEADER + size + 16 * chunks
    out = tmp_path / "out.bin"
    assert fieldcrypt.open_file(keyring, str(sealed), str(out), context=CTX) == size
    assert out.read_bytes() == plain
    # File objects both ways, and a path into a file object.
    buf = io.BytesIO()
    fieldcrypt.seal_file(keyring, io.BytesIO(plain), buf, context=CTX, chunk_size=CHUNK)
    back = io.BytesIO()
    assert fieldcrypt.open_file(keyring, io.BytesIO(buf.getvalue()), back, context=CTX) == size
    assert back.getvalue() == plain
    back = io.BytesIO()
    fieldcrypt.open_file(keyring, sealed, back, context=CTX)
    assert back.getvalue() == plain


def test_every_attack_is_a_typed_error_and_leaves_no_file(keyring: Keyring, tmp_path: Path) -> None:
    plain = data(6 * CHUNK + 100)
    sealed = io.BytesIO()
    fieldcrypt.seal_file(keyring, io.BytesIO(plain), sealed, context=CTX, chunk_size=CHUNK)
    good = sealed.getvalue()
    chunk = lambda i: good[HEADER + i * SEALED_CHUNK: HEADER + (i + 1) * SEALED_CHUNK]  # noqa: E731
    attacks = {
        "cut at a chunk boundary": good[: HEADER + 3 * SEALED_CHUNK],
        "cut inside a chunk": good[:-5],
        "reordered": good[:HEADER] + chunk(1) + chunk(0) + good[HEADER + 2 * SEALED_CHUNK:],
        "dropped": good[:HEADER] + chunk(0) + good[HEADER + 2 * SEALED_CHUNK:],
        "repeated": good[:HEADER] + chunk(0) + good[HEADER:],
        "appended": good + b"\x00",
        "flipped": good[:500] + bytes([good[500] ^ 1]) + good[501:],
    }
    for name, bad in attacks.items():
        path = tmp_path / "bad.fcs"
        path.write_bytes(bad)
        out = tmp_path / "out.bin"
        with pytest.raises(CannotOpen):
            fieldcrypt.open_file(keyring, path, out, context=CTX)
        assert not out.exists(), name
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        assert leftovers == [], name
        # Into a file object: only authenticated plaintext, a prefix of the file.
        sink = io.BytesIO()
        with pytest.raises(CannotOpen):
            fieldcrypt.open_file(keyring, io.BytesIO(bad), sink, context=CTX)
        assert plain.startswith(sink.getvalue()), name
    # Another context, another keyring, no context: CannotOpen at the header.
    for ctx in [fieldcrypt.file_context("uploads", "other.pdf"), None]:
        with pytest.raises(CannotOpen):
            fieldcrypt.open_file(keyring, io.BytesIO(good), io.BytesIO(), context=ctx)
    with pytest.raises(CannotOpen):
        fieldcrypt.open_file(Keyring.generate(), io.BytesIO(good), io.BytesIO(), context=CTX)
    with pytest.raises(Malformed):
        fieldcrypt.open_file(keyring, io.BytesIO(b"not a stream"), io.BytesIO(), context=CTX)
    with pytest.raises(InvalidValue):
        fieldcrypt.seal_file(keyring, io.BytesIO(b"x"), io.BytesIO(), chunk_size=10)
    # An error the file object raises comes back as itself.
    class Broken(io.RawIOBase):
        def read(self, n: int = -1) -> bytes:
            raise PermissionError("no")
    with pytest.raises(PermissionError):
        fieldcrypt.seal_file(keyring, Broken(), io.BytesIO())  # type: ignore[arg-type]


def test_sealed_reader_reads_ranges(keyring: Keyring) -> None:
    plain = data(10 * CHUNK + 333)
    sealed = io.BytesIO()
    fieldcrypt.seal_file(keyring, io.BytesIO(plain), sealed, context=CTX, chunk_size=CHUNK)
    table, column, row = CTX
    reader = SealedReader(keyring, io.BytesIO(sealed.getvalue()), table=table, column=column, row=row)
    assert reader.size == len(plain)
    for start, n in [(0, 10), (1020, 10), (5000, 3000), (len(plain) - 3, 10), (len(plain), 4)]:
        assert reader.seek(start) == start
        assert reader.read(n) == plain[start:start + n]
    reader.seek(-5, 2)
    assert reader.read() == plain[-5:]
    assert reader.tell() == len(plain)
    reader.close()
    assert reader.closed
    with pytest.raises(ValueError):
        reader.read(1)
    # A cut at a chunk boundary fails at once, before any read.
    with pytest.raises(CannotOpen):
        SealedReader(keyring, io.BytesIO(sealed.getvalue()[: HEADER + 4 * SEALED_CHUNK]),
                     table=table, column=column, row=row)
    # A damaged chunk fails when its range is read; the others still read.
    bad = bytearray(sealed.getvalue())
    bad[HEADER + 2 * SEALED_CHUNK + 3] ^= 0x40
    with SealedReader(keyring, io.BytesIO(bytes(bad)), table=table, column=column, row=row) as r:
        r.seek(2 * CHUNK + 1)
        with pytest.raises(CannotOpen):
            r.read(5)
        r.seek(0)
        assert r.read(100) == plain[:100]


def test_files_cross_between_the_cli_and_python(
    tmp_path: Path, cli: Tuple[Path, Dict[str, str], Keyring]
) -> None:
    fc, env, ring = cli
    plain = os.urandom(200_000)
    (tmp_path / "a.bin").write_bytes(plain)
    # The CLI seals, Python opens (the CLI's --context uploads.file:NAME is file_context).
    subprocess.run([fc, "file", "seal", str(tmp_path / "a.bin"), "--out", str(tmp_path / "a.fcs"),
                    "--context", "uploads.file:scans/passport.pdf"], env=env, check=True, capture_output=True)
    out = io.BytesIO()
    fieldcrypt.open_file(ring, tmp_path / "a.fcs", out, context=CTX)
    assert out.getvalue() == plain
    # Python seals, the CLI opens.
    fieldcrypt.seal_file(ring, tmp_path / "a.bin", tmp_path / "b.fcs", context=CTX)
    done = subprocess.run([fc, "file", "open", str(tmp_path / "b.fcs"),
                           "--context", "uploads.file:scans/passport.pdf"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == plain
