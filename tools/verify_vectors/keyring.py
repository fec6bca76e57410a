"""The keyring document (section 10): MAC, provider level, master-key files, Argon2id settings;
the suites of keyring.json."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import json
import os
import re
import struct
import tempfile
from typing import Callable

from .common import missing
from .envelope import SUITES, Malformed, b64url_decode_canonical, b64url_encode, parse_timestamp
from .json_rules import _refuse_constant, json_text_depth
from .primitives import COMMITMENT_LEN, KEY_LEN, NONCE_LEN, TAG_LEN, AeadError, Xaes


KEYRING_FORMAT = "fieldcrypt-keyring/1"
KEK_FINGERPRINT_MESSAGE = b"fieldcrypt/kek-fingerprint/v1"
MASTER_KEY_PREFIX = "fieldcrypt-master-key-v1:"
# Section 10.4: Kmac = HMAC-SHA-256(KEK, MAC_KEY_LABEL); M starts with MAC_INPUT_LABEL.
MAC_KEY_LABEL = b"fieldcrypt/keyring-mac/v1"
MAC_INPUT_LABEL = b"fieldcrypt-keyring/1 mac"
MAC_LEN = 32
WRAPPED_LEN = NONCE_LEN + KEY_LEN + TAG_LEN + COMMITMENT_LEN  # 104
KEY_KINDS = {"keys": 0x01, "index_roots": 0x02}
KEY_STATES = ("primary", "active", "retired")
KEYRING_ID_RE = re.compile(r"[0-9a-f]{32}")
# Section 10.1: RFC 3339 date-time with a four-digit year (parse_timestamp checks the ranges).
CREATED_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class InvalidDocument(Exception):
    """Not a well-formed or consistent keyring document."""


class WrongKek(Exception):
    """The KEK's fingerprint is not the one the document records."""


class Tampered(Exception):
    """The document MAC (section 10.4) does not verify under the KEK."""


class UnwrapFailed(Exception):
    """A wrapped key (an entry's, or the provider-wrapped document KEK) does not authenticate."""


class NotPinned(Exception):
    """The document is another keyring than the one the configuration pins."""


class RolledBack(Exception):
    """The document's generation is below the minimum the configuration pins."""


class ProviderMismatch(Exception):
    """The document names another provider, or another value of a compared provider setting,
    than the configured provider (refused before the provider is called)."""


class NegZero:
    """The JSON number token `-0`: not an integer (section 10.4). Python's json would read it as
    the integer 0, so the parse hook keeps it apart."""

    def __repr__(self) -> str:
        return "-0"


def _parse_int(token: str):
    return NegZero() if token == "-0" else int(token)


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for name, value in pairs:
        if name in out:
            raise ValueError("duplicate member name")
        out[name] = value
    return out


def parse_document_text(text: str):
    """Section 10.1: one JSON text, no duplicate member names (after unescaping), no NaN or
    Infinity; `-0` kept apart from 0. Raises InvalidDocument."""
    if text.startswith("\ufeff"):
        raise InvalidDocument("byte order mark")
    try:
        json_text_depth(text)  # RFC 8259 syntax, which Python's json is laxer about
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_parse_int,
                          parse_constant=_refuse_constant)
    except ValueError as e:
        raise InvalidDocument("not a JSON text without duplicate names") from e


def is_integer(v) -> bool:
    """Section 10.4: a number token without fraction or exponent, not -0, in -2^63..2^64-1."""
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v <= 2**64 - 1


def is_generation(v) -> bool:
    return is_integer(v) and v >= 0


def kek_fingerprint(kek: bytes) -> str:
    return std_hmac.new(kek, KEK_FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def parse_master_key_file(text: str) -> bytes:
    """Section 10.3: every trailing LF and CR removed; the rest is exactly the prefix and the
    canonical base64url of 32 bytes. Raises ValueError."""
    line = text.rstrip("\r\n")
    if not line.startswith(MASTER_KEY_PREFIX):
        raise ValueError("no master-key prefix")
    try:
        key = b64url_decode_canonical(line[len(MASTER_KEY_PREFIX) :])
    except Malformed as e:
        raise ValueError("not canonical base64url") from e
    if len(key) != KEY_LEN:
        raise ValueError("a master key is 32 bytes")
    return key


MASTER_KEY_FILE_READ = 256  # a reader MUST accept files up to this size; the reference reads no more


def open_master_key_file(path: str) -> bytes:
    """Section 10.3's reader: opened once; on that descriptor the owner must be the effective
    user and group and others may have no permission; then the contents. Raises ValueError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise ValueError("owned by another user")
        if os.name == "posix" and st.st_mode & 0o077:
            raise ValueError("group or others have permissions")
        data = os.read(fd, MASTER_KEY_FILE_READ)
    finally:
        os.close(fd)
    return parse_master_key_file(data.decode("utf-8"))  # UnicodeDecodeError is a ValueError


def wrap_aad(keyring_id: bytes, kind: int, key_id: int, suite: str, created_seconds: int) -> bytes:
    return (
        KEYRING_FORMAT.encode("ascii")
        + keyring_id
        + bytes([kind])
        + struct.pack(">I", key_id)
        + bytes([SUITES[suite][0]])
        + struct.pack(">q", created_seconds)
    )


def unwrap_key(kek: bytes, aad: bytes, wrapped: bytes) -> bytes:
    if len(wrapped) != WRAPPED_LEN:
        raise UnwrapFailed
    try:
        return Xaes(kek).open(True, wrapped[:NONCE_LEN], aad, wrapped[NONCE_LEN:])
    except AeadError:
        raise UnwrapFailed from None


def _is_text(v) -> bool:
    """A string that is Unicode text: no unpaired surrogate (which a \\ud800 escape can give)."""
    if not isinstance(v, str):
        return False
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_text(v) -> bool:
    """Every string and member name in `v` is Unicode text."""
    if isinstance(v, str):
        return _is_text(v)
    if isinstance(v, list):
        return all(_all_text(x) for x in v)
    if isinstance(v, dict):
        return all(_is_text(k) and _all_text(x) for k, x in v.items())
    return True


def _check_document_shape(doc) -> None:
    """Section 10.6 step 1 after parsing: the members and their types, as a typed reader's
    deserialiser checks them first; strings of the members this format names must be text."""
    def need(cond: bool, why: str) -> None:
        if not cond:
            raise InvalidDocument(why)

    need(isinstance(doc, dict), "not an object")
    need(doc.get("format") == KEYRING_FORMAT, "format")
    need(_is_text(doc.get("keyring_id")), "keyring_id")
    kek = doc.get("kek")
    need(isinstance(kek, dict), "kek")
    need(_is_text(kek.get("provider")) and _is_text(kek.get("fingerprint")), "kek")
    need(_all_text(kek), "kek: not Unicode text")
    for list_name in KEY_KINDS:
        entries = doc.get(list_name)
        need(isinstance(entries, list), list_name)
        for e in entries:
            need(isinstance(e, dict), "entry")
            key_id = e.get("id")
            need(isinstance(key_id, int) and not isinstance(key_id, bool)
                 and 0 <= key_id <= 0xFFFFFFFF, "entry id")
            need(isinstance(e.get("suite"), str) and e["suite"] in SUITES, "entry suite")
            need(isinstance(e.get("state"), str) and e["state"] in KEY_STATES, "entry state")
            need(_is_text(e.get("created")), "entry created")
            need(e.get("wrapped") is None or _is_text(e.get("wrapped")), "entry wrapped")
    # Optional (a missing or null mac is refused by the MAC check, after the fingerprint), but when
    # given a string.
    need(doc.get("mac") is None or _is_text(doc.get("mac")), "mac")


def _utf8(s: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: not a Unicode string
        raise InvalidDocument("string is not valid Unicode") from None


def _lp32(s: str) -> bytes:
    """Section 10.4's lp(s): u32be(byte length of the UTF-8 s) || s."""
    b = _utf8(s)
    return struct.pack(">I", len(b)) + b


def compact_json(value) -> str:
    """Section 10.4's compact JSON of a kek member: a string, an integer or a boolean; anything
    else (a float, an array, an object, null) refuses the document."""
    if isinstance(value, bool):  # before int: bool is a subclass of int in Python
        return "true" if value else "false"
    if is_integer(value):  # not NegZero, a float or an integer out of range
        return str(value)
    if isinstance(value, str):
        # Escapes the quote, the backslash, \b \f \n \r \t and the other C0 controls as \u00xx
        # (lower case), leaves everything else as is; checked against the spec by the keyring suite.
        return json.dumps(value, ensure_ascii=False)
    raise InvalidDocument("kek member is not a string, an integer or a boolean")


def mac_input(doc) -> bytes:
    """Section 10.4's M for a document that has the shape _check_document_shape checks. Raises
    InvalidDocument for a kek member of another type."""
    kek = doc["kek"]
    out = bytearray(MAC_INPUT_LABEL)
    for s in (doc["format"], doc["keyring_id"], kek["provider"], kek["fingerprint"]):
        out += _lp32(s)
    others = sorted((k for k in kek if k not in ("provider", "fingerprint")), key=_utf8)
    out += struct.pack(">I", len(others))
    for name in others:
        out += _lp32(name) + _lp32(compact_json(kek[name]))
    for list_name in ("keys", "index_roots"):
        entries = doc[list_name]
        out += struct.pack(">I", len(entries))
        for e in entries:
            out += struct.pack(">I", e["id"])
            out += _lp32(e["suite"]) + _lp32(e["state"]) + _lp32(e["created"])
            wrapped = e.get("wrapped")
            out += b"\x00" if wrapped is None else b"\x01" + _lp32(wrapped)
    return bytes(out)


def document_mac(kek: bytes, message: bytes) -> bytes:
    k_mac = std_hmac.new(kek, MAC_KEY_LABEL, hashlib.sha256).digest()
    return std_hmac.new(k_mac, message, hashlib.sha256).digest()


def _verify_document_mac(doc, kek: bytes) -> None:
    """Presence and length (InvalidDocument), the input (InvalidDocument for a kek member of
    another type), then the comparison in constant time (Tampered)."""
    given = doc.get("mac")
    if given is None:
        raise InvalidDocument("no mac")
    try:
        given_bytes = b64url_decode_canonical(given)
    except Malformed:
        raise InvalidDocument("mac is not canonical base64url") from None
    if len(given_bytes) != MAC_LEN:
        raise InvalidDocument("mac is not 32 bytes")
    expected = document_mac(kek, mac_input(doc))
    if not std_hmac.compare_digest(expected, given_bytes):
        raise Tampered


def read_keyring_document(doc, kek: bytes) -> dict[str, dict[int, tuple[dict, bytes | None]]]:
    """Section 10.6 with the document KEK given: step 1 (the shape), then steps 9 to 15. Every
    list's entries by id with their unwrapped keys (None when retired). Raises InvalidDocument,
    WrongKek, Tampered or UnwrapFailed."""
    _check_document_shape(doc)
    if doc["kek"]["fingerprint"] != kek_fingerprint(kek):
        raise WrongKek
    _verify_document_mac(doc, kek)
    if not KEYRING_ID_RE.fullmatch(doc["keyring_id"]):
        raise InvalidDocument("keyring_id")
    keyring_id = bytes.fromhex(doc["keyring_id"])
    out = {}
    for list_name, kind in KEY_KINDS.items():
        held: dict[int, tuple[dict, bytes | None]] = {}
        primary = None
        for e in doc[list_name]:
            if e["id"] == 0:
                raise InvalidDocument("id 0")
            try:
                if not CREATED_RE.fullmatch(e["created"]):
                    raise ValueError("created")
                seconds, _nanos = parse_timestamp(e["created"])
            except ValueError:
                raise InvalidDocument("created is not RFC 3339") from None
            wrapped = e.get("wrapped")
            if e["state"] == "retired":
                if wrapped is not None:
                    raise InvalidDocument("retired entry with a wrapped key")
                key = None
            else:
                if wrapped is None:
                    raise InvalidDocument("live entry without a wrapped key")
                try:
                    raw = b64url_decode_canonical(wrapped)
                except Malformed:
                    raise InvalidDocument("wrapped is not canonical base64url") from None
                key = unwrap_key(kek, wrap_aad(keyring_id, kind, e["id"], e["suite"], seconds), raw)
            if e["state"] == "primary":
                if primary is not None:
                    raise InvalidDocument("two primaries")
                primary = e["id"]
            if e["id"] in held:
                raise InvalidDocument("duplicate id")
            held[e["id"]] = (e, key)
        if primary is None:
            raise InvalidDocument("no primary")
        out[list_name] = held
    return out


KEK_WRAP_LABEL = b"fieldcrypt-kek/1"
# Settings a provider records but does not compare (section 10.5).
INFORMATIONAL_SETTINGS = {"local": ("path",)}


def kek_wrap_context(keyring_id: bytes) -> bytes:
    return KEK_WRAP_LABEL + keyring_id


def local_provider_settings(config: dict) -> dict:
    """What a configured local provider records: its master-key file's path (informational) and
    the fingerprint of its master key."""
    return {"path": config["path"],
            "key_fingerprint": kek_fingerprint(bytes.fromhex(config["master_key"]))}


def argon2id_parameters_ok(params: dict) -> bool:
    """Section 10.5's bounds for a passphrase keyring's KDF settings."""
    def u32(name: str):
        v = params.get(name)
        return v if is_integer(v) and 0 <= v <= 0xFFFFFFFF else None

    salt = params.get("salt")
    try:
        salt_ok = isinstance(salt, str) and len(b64url_decode_canonical(salt)) == 16
    except Malformed:
        salt_ok = False
    m, t, p = u32("memory_kib"), u32("iterations"), u32("parallelism")
    return (params.get("kdf") == "argon2id" and salt_ok and m is not None and t is not None
            and p is not None and 19_456 <= m <= 4_194_304 and 1 <= t <= 64 and 1 <= p <= 16)


def open_keyring(doc, config: dict) -> dict[str, dict[int, tuple[dict, bytes | None]]]:
    """Section 10.6, every step, for a reader configured with a local provider (`config`:
    provider, master_key, path, and the pins min_generation and keyring_id, null when unset)."""
    _check_document_shape(doc)                                                      # step 1
    kek_member = doc["kek"]
    # Step 2 concerns the passphrase provider only.
    if not KEYRING_ID_RE.fullmatch(doc["keyring_id"]):                               # step 3
        raise InvalidDocument("keyring_id")
    if config.get("keyring_id") is not None and config["keyring_id"] != doc["keyring_id"]:
        raise NotPinned                                                             # step 4
    generation = kek_member.get("generation", 0)                                    # step 5
    if not is_generation(generation):
        raise InvalidDocument("generation")
    if config.get("min_generation") is not None and generation < config["min_generation"]:
        raise RolledBack
    if kek_member["provider"] != config["provider"]:                                # step 6
        raise ProviderMismatch
    informational = INFORMATIONAL_SETTINGS.get(config["provider"], ())
    configured = local_provider_settings(config)
    for name in sorted(configured, key=_utf8):
        if name in informational:
            continue
        found = kek_member.get(name)
        if type(found) is not type(configured[name]) or found != configured[name]:
            raise ProviderMismatch
    wrapped = kek_member.get("wrapped_kek")                                         # step 7
    if not isinstance(wrapped, str):
        raise InvalidDocument("wrapped_kek")
    try:
        raw = b64url_decode_canonical(wrapped)
    except Malformed:
        raise InvalidDocument("wrapped_kek is not canonical base64url") from None
    master = bytes.fromhex(config["master_key"])                                   # step 8
    if len(raw) != WRAPPED_LEN:
        raise UnwrapFailed
    context = kek_wrap_context(bytes.fromhex(doc["keyring_id"]))
    try:
        kek = Xaes(master).open(True, raw[:NONCE_LEN], context, raw[NONCE_LEN:])
    except AeadError:
        raise UnwrapFailed from None
    return read_keyring_document(doc, kek)                                          # steps 9-15


DOCUMENT_OUTCOMES = [
    (InvalidDocument, "invalid_document"),
    (NotPinned, "not_pinned"),
    (RolledBack, "rolled_back"),
    (ProviderMismatch, "provider_mismatch"),
    (UnwrapFailed, "unwrap_failed"),
    (WrongKek, "wrong_kek"),
    (Tampered, "tampered"),
]


def classify_outcome(fn: Callable[[], object]) -> str:
    try:
        fn()
    except tuple(e for e, _ in DOCUMENT_OUTCOMES) as e:
        return next(name for cls, name in DOCUMENT_OUTCOMES if isinstance(e, cls))
    return "ok"


def classify_document(doc, kek: bytes) -> str:
    return classify_outcome(lambda: read_keyring_document(doc, kek))


# --------------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------------


def keyring_cases(data: dict) -> list:
    kek = bytes.fromhex(data["kek"])

    def fingerprints() -> list[str]:
        problems = []
        if kek_fingerprint(kek) != data["kek_fingerprint"]:
            problems.append("kek_fingerprint differs")
        for ex in data.get("fingerprint_examples", []):
            if kek_fingerprint(bytes.fromhex(ex["kek"])) != ex["fingerprint"]:
                problems.append("a fingerprint example differs")
        try:
            if parse_master_key_file(data["master_key_file"]) != kek:
                problems.append("master-key file holds another key")
        except (ValueError, Malformed):
            problems.append("master-key file does not parse")
        return problems

    def document() -> list[str]:
        problems = []
        doc = data["document"]
        try:
            held = read_keyring_document(doc, kek)
        except (InvalidDocument, WrongKek, Tampered, UnwrapFailed) as e:
            return [f"document refused ({type(e).__name__})"]
        if doc["kek"]["fingerprint"] != data["kek_fingerprint"]:
            problems.append("the document records another fingerprint")
        keyring_id = bytes.fromhex(doc["keyring_id"])
        seen = 0
        for x in data["entries"]:
            label = f"{x['list']} {x['id']}"
            entry, key = held[x["list"]].get(x["id"], (None, None))
            if entry is None:
                problems.append(f"{label}: not in the document")
                continue
            seen += 1
            if x["kind"] != KEY_KINDS[x["list"]]:
                problems.append(f"{label}: kind")
            for member in ("suite", "state", "created"):
                if entry[member] != x[member]:
                    problems.append(f"{label}: {member} differs from the document")
            seconds, _nanos = parse_timestamp(entry["created"])
            if seconds != x["created_seconds"]:
                problems.append(f"{label}: created_seconds")
            aad = wrap_aad(keyring_id, KEY_KINDS[x["list"]], x["id"], x["suite"], seconds)
            if aad.hex() != x["wrap_aad"]:
                problems.append(f"{label}: wrap AAD differs")
            want = None if x["key"] is None else bytes.fromhex(x["key"])
            if key != want:
                problems.append(f"{label}: unwrapped key differs")
            if entry.get("wrapped") is not None:
                nonce = b64url_decode_canonical(entry["wrapped"])[:NONCE_LEN]
                if nonce.hex() != x["wrap_nonce"]:
                    problems.append(f"{label}: wrap nonce differs")
                # And wrapping again with that nonce gives the document's bytes.
                again = nonce + Xaes(kek).seal(True, nonce, aad, want or b"")
                if b64url_encode(again) != entry["wrapped"]:
                    problems.append(f"{label}: re-wrapping differs")
            elif x["wrap_nonce"] is not None:
                problems.append(f"{label}: a nonce for an entry without a wrapped key")
        if seen != sum(len(v) for v in held.values()):
            problems.append("entries do not cover the document")
        return problems

    def document_mac_input() -> list[str]:
        doc = data["document"]
        try:
            _check_document_shape(doc)
            m = mac_input(doc)
        except InvalidDocument as e:
            return [f"no MAC input ({e})"]
        problems = []
        if m.hex() != data["mac_input"]:
            problems.append("MAC input differs from mac_input")
        if b64url_encode(document_mac(kek, bytes.fromhex(data["mac_input"]))) != doc.get("mac"):
            problems.append("MAC of mac_input under kek differs from the document's mac")
        return problems

    def compact_json_escaping() -> list[str]:
        # json.dumps(ensure_ascii=False) against section 10.4's rule, written out literally.
        short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}

        def by_spec(s: str) -> str:
            out = []
            for c in s:
                if c in short:
                    out.append(short[c])
                elif ord(c) < 0x20:
                    out.append(f"\\u{ord(c):04x}")
                else:
                    out.append(c)
            return '"' + "".join(out) + '"'

        samples = [chr(i) for i in range(0x100)] + ["\u2028", "\u2029", "\ufeff", "\U0001f511",
                                                    "/etc/fieldcrypt/master.key", "a\x1fb\x7f\"c"]
        problems = [f"U+{ord(s[0]):04X}..." for s in samples if compact_json(s) != by_spec(s)]
        for value, want in [(True, "true"), (False, "false"), (0, "0"), (-7, "-7"),
                            (2**64 - 1, "18446744073709551615")]:
            if compact_json(value) != want:
                problems.append(f"compact JSON of {value!r}")
        for value in [1.0, 1e300, None, [], {}, ["/etc"]]:
            try:
                compact_json(value)
                problems.append(f"{type(value).__name__} accepted as a kek member")
            except InvalidDocument:
                pass
        return problems[:5]

    def variant(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            got = classify_document(v["document"], bytes.fromhex(v["kek"]) if "kek" in v else kek)
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    def count() -> list[str]:
        return [] if data.get("count") == len(data["documents"]) else ["count field differs"]

    def local_provider() -> list[str]:
        """Section 10.5's local provider, master key to document KEK to keys."""
        lp = data.get("local_provider")
        if not isinstance(lp, dict):
            return ["no local_provider (regenerate the vectors)"]
        problems = []
        doc = data["document"]
        master = bytes.fromhex(lp["master_key"])
        keyring_id = bytes.fromhex(doc["keyring_id"])
        try:
            if parse_master_key_file(lp["master_key_file"]) != master:
                problems.append("local_provider.master_key_file holds another key")
        except ValueError:
            problems.append("local_provider.master_key_file does not parse")
        if kek_fingerprint(master) != lp["master_key_fingerprint"]:
            problems.append("master_key_fingerprint differs")
        if doc["kek"].get("key_fingerprint") != lp["master_key_fingerprint"]:
            problems.append("the document's key_fingerprint is not the master key's")
        if kek_wrap_context(keyring_id).hex() != lp["wrap_context"]:
            problems.append("wrap_context differs")
        nonce = bytes.fromhex(lp["wrapped_kek_nonce"])
        again = nonce + Xaes(master).seal(True, nonce, kek_wrap_context(keyring_id), kek)
        if again.hex() != lp["wrapped_kek"]:
            problems.append("wrapping the KEK under the master key gives other bytes")
        if doc["kek"].get("wrapped_kek") != b64url_encode(bytes.fromhex(lp["wrapped_kek"])):
            problems.append("the document's wrapped_kek is not local_provider.wrapped_kek")
        if lp["kek"] != data["kek"]:
            problems.append("local_provider.kek is not kek")
        try:
            via_provider = open_keyring(doc, lp["configuration"])
        except tuple(e for e, _ in DOCUMENT_OUTCOMES) as e:
            return problems + [f"the document does not open through the provider ({type(e).__name__})"]
        if via_provider != read_keyring_document(doc, kek):
            problems.append("the provider path gives other keys than the KEK")
        return problems

    cases = [("KEK fingerprint and master-key file", fingerprints), ("document", document),
             ("document MAC input", document_mac_input),
             ("compact JSON of kek members", compact_json_escaping), ("document count", count),
             ("local provider: master key, wrapped KEK, keys", local_provider)]
    cases += [(f"document: {v['name']}", variant(v)) for v in data["documents"]]
    return cases


def keyring_text_cases(data: dict) -> list:
    if "document_texts" not in data:
        return missing(data, "document_texts", "keyring.json")
    kek = bytes.fromhex(data["kek"])

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            k = bytes.fromhex(v["kek"]) if "kek" in v else kek
            got = classify_outcome(lambda: read_keyring_document(parse_document_text(v["text"]), k))
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["document_texts"]]


def keyring_provider_cases(data: dict) -> list:
    if "provider_documents" not in data or "local_provider" not in data:
        return missing(data, "provider_documents", "keyring.json")
    default = data["local_provider"]["configuration"]

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            config = {**default, **v.get("configuration", {})}
            got = classify_outcome(lambda: open_keyring(v["document"], config))
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["provider_documents"]]


def master_key_file_cases(data: dict) -> list:
    if "master_key_files" not in data:
        return missing(data, "master_key_files", "keyring.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            content = bytes.fromhex(v["bytes_hex"])
            problems = []
            if v.get("text") is not None and v["text"].encode("utf-8") != content:
                problems.append("text and bytes_hex differ")
            mode = int(v["mode"], 8)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "master.key")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, content)
                finally:
                    os.close(fd)
                os.chmod(path, mode)
                try:
                    got = open_master_key_file(path).hex()
                except ValueError:
                    got = None
                finally:
                    os.chmod(path, 0o600)
            if os.name != "posix" and mode & 0o077:
                return problems  # no permission bits to check here
            if got != v["key"]:
                problems.append(f"read {'a key' if got else 'nothing'}, expected "
                                f"{'a key' if v['key'] else 'a refusal'}"
                                + (" (another key)" if got and v["key"] else ""))
            return problems

        return check

    return [(f"{v['name']} (mode {v['mode']})", case(v)) for v in data["master_key_files"]]


def argon2id_cases(data: dict) -> list:
    if "argon2id_parameters" not in data:
        return missing(data, "argon2id_parameters", "keyring.json")

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            got = "ok" if argon2id_parameters_ok(v["params"]) else "invalid_document"
            return [] if got == v["expect"] else [f"expected {v['expect']}, got {got}"]

        return check

    return [(v["name"], case(v)) for v in data["argon2id_parameters"]]
