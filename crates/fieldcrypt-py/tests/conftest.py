"""Fixtures shared by the package's core tests (test_core.py, test_files.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Tuple

import pytest

from fieldcrypt import Keyring

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli(tmp_path: Path) -> Tuple[Path, Dict[str, str], Keyring]:
    """The workspace's `fieldcrypt` binary, the environment that points it at a fresh keyring
    it created, and that keyring opened here."""
    path = ROOT / "target/debug/fieldcrypt"
    if not path.exists():
        message = f"no fieldcrypt binary at {path} (cargo build -p fieldcrypt-cli)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"SKIPPED, MISSING: {message}")
    env = dict(os.environ, FIELDCRYPT_KEYRING=str(tmp_path / "keyring.json"),
               FIELDCRYPT_MASTER_KEY=str(tmp_path / "keys/master.key"))
    subprocess.run([path, "keyring", "init"], env=env, check=True, capture_output=True)
    return path, env, Keyring.open_local(tmp_path / "keyring.json", tmp_path / "keys/master.key")
