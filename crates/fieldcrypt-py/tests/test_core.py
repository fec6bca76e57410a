"""The Python API over the Rust crates: typed round trips, errors, the published vectors, and
values sealed by the `fieldcrypt` command opened here (and the other way round).

Run by scripts/test.sh through scripts/python-package.sh, which builds the package with maturin
into the project venv.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Dict, Tuple
from uuid import UUID

import pytest

import fieldcrypt
from fieldcrypt import CannotOpen, InvalidValue, Json, Keyring, Malformed, WrongType

ROOT = Path(__file__).resolve().parents[3]
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate()


VALUES = [
    "ann@example.org",
    "",
    "Zoë Ångström ✓ 𝄞",
    b"\x00\x01\xff",
    b"",
    0,
    -1,
    2**63 - 1,
    -(2**63),
    0.0,
    -0.0,
    1.5e-300,
    float("inf"),
    True,
    False,
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(1969, 12, 31),
    dt.datetime(1985, 10, 26, 1, 20, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    dt.datetime(1, 1, 1, tzinfo=UTC),
    Decimal("-1234.50"),
    Decimal("0.00"),
    Decimal("1E+2"),
    {"a": [1, 2.5, None, True], "b": "x"},
    [],
    "x" * (1 << 20),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("text", [False, True])
def test_every_type_round_trips_as_itself(keyring: Keyring, value: object, text: bool) -> None:
    envelope = keyring.seal("customers", "notes", value, text=text)
    assert isinstance(envelope, str if text else bytes)
    back = keyring.open("customers", "notes", envelope)
    assert type(back) is type(value) or isinstance(value, dt.datetime)
    if isinstance(value, float):
        assert struct.pack(">d", back) == struct.pack(">d", value)
    elif isinstance(value, dt.datetime):
        assert back == value and back.utcoffset() == dt.timedelta(0)
    elif isinstance(value, Decimal):
        assert back == value and str(back) == format(value, "f")
    else:
        assert back == value


def test_json_wrapper_seals_any_json_value(keyring: Keyring) -> None:
    envelope = keyring.seal("t", "c", Json("a string as JSON"))
    assert keyring.open("t", "c", envelope, expect="json") == "a string as JSON"
    assert repr(Json({"secret": 1})) == "Json(...)"


def test_types_are_strict(keyring: Keyring) -> None:
    envelope = keyring.seal("t", "c", 42)
    assert keyring.open("t", "c", envelope, expect="int") == 42
    with pytest.raises(WrongType):
        keyring.open("t", "c", envelope, expect="string")
    for no_type in [None, object(), {1, 2}, 1 + 2j]:
        with pytest.raises(WrongType):
            keyring.seal("t", "c", no_type)
    with pytest.raises(InvalidValue, match="64 bits"):
        keyring.seal("t", "c", 2**63)
    with pytest.raises(InvalidValue, match="naive"):
        keyring.seal("t", "c", dt.datetime(2024, 1, 1))
    with pytest.raises(InvalidValue):
        keyring.seal("t", "c", Decimal("NaN"))


def test_context_binds_table_column_row_and_tenant(keyring: Keyring) -> None:
    envelope = keyring.seal("people", "ssn", "078-05-1120", row=42, tenant="acme")
    assert keyring.open("people", "ssn", envelope, row=42, tenant="acme") == "078-05-1120"
    assert keyring.open("people", "ssn", envelope, row="42", tenant="acme") == "078-05-1120"
    for wrong in [
        dict(row=43, tenant="acme"),
        dict(row=42, tenant="other"),
        dict(row=42),
        dict(tenant="acme"),
    ]:
        with pytest.raises(CannotOpen):
            keyring.open("people", "ssn", envelope, **wrong)
    with pytest.raises(CannotOpen):
        keyring.open("people", "email", envelope, row=42, tenant="acme")
    with pytest.raises(CannotOpen):
        Keyring.generate().open("people", "ssn", envelope, row=42, tenant="acme")
    uuid = UUID("0190c1f2-7d3a-7cc4-9a2b-1f0e6a1b2c3d")
    sealed = keyring.seal("t", "c", "x", row=uuid)
    assert keyring.open("t", "c", sealed, row=str(uuid)) == "x"


def test_tampered_and_malformed_values_raise_typed_errors(keyring: Keyring) -> None:
    envelope = bytearray(keyring.seal("t", "c", "value"))
    envelope[-1] ^= 1
    with pytest.raises(CannotOpen):
        keyring.open("t", "c", bytes(envelope))
    for junk in [b"", b"plain text", "fc1c", "fc1c1.!!!"]:
        with pytest.raises(Malformed):
            keyring.open("t", "c", junk)
    assert issubclass(CannotOpen, fieldcrypt.FieldcryptError)


def test_repr_and_errors_carry_no_secret(keyring: Keyring) -> None:
    assert "REDACTED" not in repr(keyring) and keyring.id in repr(keyring)
    envelope = keyring.seal("t", "c", "hunter2-secret")
    try:
        keyring.open("t", "other", envelope)
    except CannotOpen as e:
        assert "hunter2" not in str(e)


def test_batches_release_the_gil_and_match_single_calls(keyring: Keyring) -> None:
    values = [f"user{i}@example.org" for i in range(1000)]
    sealed = keyring.seal_many("t", "email", values)
    assert len(set(sealed)) == 1000, "a fresh nonce for every value"
    assert keyring.open_many("t", "email", sealed) == values
    texts = keyring.seal_many("t", "email", values[:3], text=True)
    assert [keyring.open("t", "email", s) for s in texts] == values[:3]


def _vector_value(vector: dict) -> object:
    kind, value = vector["type"], vector["value"]
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return struct.unpack(">d", bytes.fromhex(value))[0]
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "json":
        return json.loads(value)
    return value


def test_the_published_envelope_vectors_open_here() -> None:
    vectors = json.loads((ROOT / "testdata/vectors/envelope.json").read_text())["vectors"]
    opened = 0
    for v in vectors:
        ring = Keyring._from_single_key(bytes.fromhex(v["key"]), v["key_id"], v["suite"])
        c = v["context"]
        args = dict(row=c["row"], tenant=c["tenant"])
        for envelope in (bytes.fromhex(v["envelope_binary"]), v["envelope_text"]):
            fraction = str(v["value"]).rstrip("Z").partition(".")[2]
            if v["type"] == "timestamp" and fraction[6:].strip("0"):
                # Nanoseconds have no exact Python datetime: refused, not rounded.
                with pytest.raises(InvalidValue, match="nanoseconds"):
                    ring.open(c["table"], c["column"], envelope, **args)
                continue
            if v["type"] == "date" and str(v["value"])[0] in "+-":
                # Years outside 1..9999 have no Python date: refused.
                with pytest.raises(InvalidValue, match="years 1 to 9999"):
                    ring.open(c["table"], c["column"], envelope, **args)
                continue
            value = ring.open(c["table"], c["column"], envelope, **args)
            if v["type"] == "timestamp":
                assert value == dt.datetime.fromisoformat(v["value"].replace("Z", "+00:00"))
            elif v["type"] == "float":
                assert struct.pack(">d", value) == bytes.fromhex(v["value"])
            else:
                assert value == _vector_value(v), v["name"]
            opened += 1
    assert opened > 40
    print(f"vectors: {opened} envelopes opened from Python")


def test_values_cross_between_the_cli_and_python(cli: Tuple[Path, Dict[str, str], Keyring]) -> None:
    fc, env, ring = cli
    # The CLI seals, Python opens.
    out = subprocess.run([fc, "seal", "--context", "customers.visits:7", "--type", "int"],
                         input=b"42", env=env, check=True, capture_output=True)
    assert ring.open("customers", "visits", out.stdout.decode().strip(), row=7) == 42
    # Python seals, the CLI opens.
    sealed = ring.seal("customers", "email", "ann@example.org", text=True)
    out = subprocess.run([fc, "open", "--context", "customers.email"],
                         input=sealed.encode(), env=env, check=True, capture_output=True)
    assert out.stdout.decode().strip() == "ann@example.org"


def test_a_missing_master_key_names_the_keyring(tmp_path: Path) -> None:
    Keyring.open_local(tmp_path / "keyring.json", tmp_path / "master.key")
    with pytest.raises(fieldcrypt.KeyringError, match="created with the master key at"):
        Keyring.open_local(tmp_path / "keyring.json", tmp_path / "moved.key")
