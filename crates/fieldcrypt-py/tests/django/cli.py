"""The `fieldcrypt` command for the tests that run it: FIELDCRYPT_TEST_CLI (scripts/python-django.sh
sets it to the workspace's build). Missing: skipped loudly, or a failure under CI=true."""

import os
import subprocess
from typing import List

import pytest
from django.conf import settings
from django.db import connection


def binary() -> str:
    path = os.environ.get("FIELDCRYPT_TEST_CLI")
    if not path or not os.path.exists(path):
        message = "MISSING: the fieldcrypt binary (FIELDCRYPT_TEST_CLI) for the CLI tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        print("\nSKIPPED, " + message)
        pytest.skip(message)
    return path


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    if connection.vendor == "mysql":
        return f"mysql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return f"sqlite:{s['NAME']}"


def run(args: List[str], env: dict = None) -> subprocess.CompletedProcess:
    keys = settings.FIELDCRYPT
    command = [binary(), *args[:2]] if args[0] in ("keyring", "import") else [binary(), args[0]]
    rest = args[2:] if args[0] in ("keyring", "import") else args[1:]
    command += ["--keyring", str(keys["KEYRING"]), "--master-key", str(keys["MASTER_KEY"]), *rest]
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=300)
    return out


def run_ok(args: List[str], env: dict = None) -> str:
    out = run(args, env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout
