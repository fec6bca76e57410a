"""The fork test: values sealed in a child process after ``fork()`` never reuse a nonce of the
parent's.

A nonce that repeats under one key breaks AES-GCM, and a forked child starts as a copy of its
parent: any generator state held in the process (a DRBG, a vDSO state, a block of nonces drawn
ahead) is copied with it. fieldcrypt draws every nonce from the kernel (docs/PERFORMANCE.md); this
test checks the result where it matters. The parent seals (so every per-thread state exists and is
in use), forks, and then parent and child each seal 500,000 values: 250,000 one at a time (the
per-value path) and 250,000 through ``seal_many`` (the batch path, on every core). The child sends
its nonces back through a pipe; the 1,000,000 nonces must all differ.

The fork is Python's ``os.fork``: the Rust crates stay free of unsafe code.
"""

from __future__ import annotations

import os
import sys

import pytest

from fieldcrypt import Keyring

HEADER_LEN = 7  # FORMAT.md: version, suite, key id; the 24-byte nonce follows
NONCE_LEN = 24
PER_SIDE = 500_000


def _nonces(keyring: Keyring, count: int) -> list[bytes]:
    singles = [keyring.seal("t", "c", i) for i in range(count // 2)]
    batch = keyring.seal_many("t", "c", list(range(count - count // 2)))
    out = []
    for envelope in singles + batch:
        assert isinstance(envelope, bytes)
        out.append(envelope[HEADER_LEN : HEADER_LEN + NONCE_LEN])
    return out


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
def test_a_forked_child_never_reuses_a_nonce_of_its_parent() -> None:
    keyring = Keyring.generate()
    # Warm every path before the fork: the states a child would inherit exist and are in use.
    warm = _nonces(keyring, 2_000)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read_end)
            data = b"".join(_nonces(keyring, PER_SIDE))
            view = memoryview(data)
            while view:
                written = os.write(write_end, view)
                view = view[written:]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    parent = _nonces(keyring, PER_SIDE)
    child_bytes = _read_all(read_end)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed to seal"
    assert len(child_bytes) == PER_SIDE * NONCE_LEN, "the child sent fewer nonces"
    child = [child_bytes[i : i + NONCE_LEN] for i in range(0, len(child_bytes), NONCE_LEN)]
    everything = set(parent) | set(child) | set(warm)
    assert len(parent) + len(child) + len(warm) == 2 * PER_SIDE + 2_000
    assert len(everything) == len(parent) + len(child) + len(warm), "a nonce repeated"
    print(
        f"fork: {len(parent):,} parent and {len(child):,} child nonces (and {len(warm):,} "
        "sealed before the fork) all differ",
        file=sys.stderr,
    )
