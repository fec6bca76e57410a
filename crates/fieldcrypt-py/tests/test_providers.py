"""Keyrings under every provider, made by the `fieldcrypt` command the wheel installs and opened
from Python with the provider configured by the application: local, env, passphrase, and the real
OpenBao Transit and moto KMS servers scripts/services.sh starts (FIELDCRYPT_TEST_VAULT_ADDR,
FIELDCRYPT_TEST_AWS_ENDPOINT; missing: skipped loudly, or a failure under CI=true). A keyring
document's own settings are compared with the configuration, never followed."""

import base64
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from fieldcrypt import Keyring, KeyringError

COMMAND = str(Path(sys.executable).parent / "fieldcrypt")


def need(variable: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    message = f"MISSING: {variable} (a test server from scripts/services.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    print("\nSKIPPED, " + message)
    pytest.skip(message)


def init(tmp_path: Path, provider: str, env: dict, *extra: str) -> Path:
    keyring = tmp_path / "keyring.json"
    out = subprocess.run(
        [COMMAND, "keyring", "init", "--keyring", str(keyring), "--provider", provider, *extra],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return keyring


def round_trip(keyring: Keyring) -> None:
    envelope = keyring.seal("people", "ssn", "078-05-1120", row=7)
    assert keyring.open("people", "ssn", envelope, row=7) == "078-05-1120"


def test_the_wheel_installs_the_command():
    out = subprocess.run([COMMAND, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("fieldcrypt ")


def test_env_provider(tmp_path, monkeypatch):
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    path = init(tmp_path, "env", {"APP_KEK": kek}, "--key-variable", "APP_KEK")
    monkeypatch.setenv("APP_KEK", kek)
    round_trip(Keyring.open_file(path, key_variable="APP_KEK", expect_provider="env"))
    monkeypatch.setenv("OTHER_KEK", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="))
    with pytest.raises(KeyringError):
        Keyring.open_file(path, key_variable="OTHER_KEK")
    with pytest.raises(KeyringError, match="provider"):
        Keyring.open_file(path, key_variable="APP_KEK", expect_provider="local")


def test_passphrase_provider(tmp_path, monkeypatch):
    path = init(tmp_path, "passphrase", {"FIELDCRYPT_PASSPHRASE": "correct horse battery staple"})
    monkeypatch.setenv("FIELDCRYPT_PASSPHRASE", "correct horse battery staple")
    keyring = Keyring.open_file(path)
    round_trip(keyring)
    # The same keyring as a fieldcrypt_keys document's text.
    again = Keyring.from_document(path.read_text(), source="fieldcrypt_keys[default]")
    assert again.id == keyring.id
    monkeypatch.setenv("FIELDCRYPT_PASSPHRASE", "wrong")
    with pytest.raises(KeyringError):
        Keyring.open_file(path)


def test_pins(tmp_path):
    path = tmp_path / "keyring.json"
    first = Keyring.open_local(str(path), str(tmp_path / "master.key"))
    opened = Keyring.open_file(path, master_key=tmp_path / "master.key", keyring_id=first.id, min_generation=1)
    assert opened.id == first.id
    with pytest.raises(KeyringError):
        Keyring.open_file(path, master_key=tmp_path / "master.key", keyring_id="0" * 32)
    with pytest.raises(KeyringError):
        Keyring.open_file(path, master_key=tmp_path / "master.key", min_generation=10**6)


def vault_api(address: str, token: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        f"{address}/v1/{path}", data=json.dumps(body).encode(), method="POST",
        headers={"X-Vault-Token": token, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_vault_transit_provider(tmp_path, monkeypatch):
    address = need("FIELDCRYPT_TEST_VAULT_ADDR")
    token = need("FIELDCRYPT_TEST_VAULT_TOKEN")
    mount = f"transit-py-{secrets.token_hex(4)}"
    vault_api(address, token, f"sys/mounts/{mount}", {"type": "transit"})
    vault_api(address, token, f"{mount}/keys/app", {})
    env = {"VAULT_ADDR": address, "VAULT_TOKEN": token, "FIELDCRYPT_VAULT_MOUNT": mount, "FIELDCRYPT_VAULT_KEY": "app"}
    path = init(tmp_path, "vault", env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    round_trip(Keyring.open_file(path, expect_provider="vault"))
    for name in ("VAULT_ADDR", "FIELDCRYPT_VAULT_MOUNT", "FIELDCRYPT_VAULT_KEY"):
        monkeypatch.delenv(name)
    # Configured by arguments instead of the environment.
    round_trip(Keyring.open_file(path, vault_addr=address, vault_mount=mount, vault_key="app"))
    # Nothing configured: refused, naming what to set (the document's address is not followed).
    with pytest.raises(KeyringError, match="vault_addr"):
        Keyring.open_file(path, vault_mount=mount, vault_key="app")
    # A document edited to point elsewhere is refused before any request.
    doc = json.loads(path.read_text())
    doc["kek"]["address"] = "http://127.0.0.1:9"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    with pytest.raises(KeyringError, match="address"):
        Keyring.open_file(edited, vault_addr=address, vault_mount=mount, vault_key="app")
    # Another configured key than the one that wraps it: refused too.
    with pytest.raises(KeyringError):
        Keyring.open_file(path, vault_addr=address, vault_mount=mount, vault_key="other")


def create_kms_key(endpoint: str) -> str:
    request = urllib.request.Request(
        endpoint + "/", data=b"{}", method="POST",
        headers={
            "X-Amz-Target": "TrentService.CreateKey",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/kms/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["KeyMetadata"]["Arn"]


def test_aws_kms_provider(tmp_path, monkeypatch):
    endpoint = need("FIELDCRYPT_TEST_AWS_ENDPOINT")
    arn = create_kms_key(endpoint)
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": endpoint,
    }
    path = init(tmp_path, "aws-kms", env, "--aws-kms-key", arn)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    round_trip(Keyring.open_file(path, aws_kms_key=arn, expect_provider="aws-kms"))
    monkeypatch.setenv("FIELDCRYPT_AWS_KMS_KEY", arn)
    round_trip(Keyring.open_file(path))
    other = create_kms_key(endpoint)
    with pytest.raises(KeyringError):
        Keyring.open_file(path, aws_kms_key=other)
