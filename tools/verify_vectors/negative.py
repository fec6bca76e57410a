"""The suites of negative.json: every input fails with the right class."""

from __future__ import annotations

from typing import Callable

from .envelope import (
    HEADER_LEN,
    Key,
    classify,
    commits,
    context_bytes,
    open_envelope,
    parse_any,
    parse_binary,
    parse_text,
)
from .primitives import NONCE_LEN, AeadError, Xaes


def negative_cases(data: dict) -> tuple[list, list]:
    default_key = Key(data["key_id"], data["suite"], bytes.fromhex(data["key"]))

    def case(v: dict) -> Callable[[], list[str]]:
        def check() -> list[str]:
            # Per-vector overrides: the suite of key 7, its material, retired tombstones.
            suite = v.get("suite", default_key.suite)
            material = bytes.fromhex(v["key"]) if "key" in v else default_key.material
            keyring = {default_key.key_id: Key(default_key.key_id, suite, material)}
            for key_id in v.get("retired_key_ids", []):
                keyring[key_id] = Key(key_id, suite, None)
            ctx = v.get("context", data["context"])
            as_type = v.get("open_as", "string")
            if v["form"] == "binary":
                raw = bytes.fromhex(v["input"])
                attempts = [("parse_binary", lambda: parse_binary(raw)), ("parse_any", lambda: parse_any(raw))]
            elif v["form"] == "text":
                text = v["input"]
                attempts = [
                    ("parse_text", lambda: parse_text(text)),
                    ("parse_any", lambda: parse_any(text.encode("utf-8"))),
                ]
            else:
                return [f"unknown form {v['form']!r}"]
            problems = []
            for how, parse in attempts:
                got = classify(lambda: open_envelope(keyring, ctx, parse(), as_type))
                if got != v["expect"]:
                    problems.append(f"{how}: expected {v['expect']}, got {got}")
                if v["expect"] == "invalid_value":
                    # A generic reader (whichever type the value holds) refuses it too.
                    got = classify(lambda: open_envelope(keyring, ctx, parse(), "value"))
                    if got != "invalid_value":
                        problems.append(f"{how}, as any type: expected invalid_value, got {got}")
            if "typed_plaintext" in v:
                # The envelope authenticates, so the refusal is about the plaintext: split the
                # binary form by section 4 (without the parser, which refuses bodies below the
                # minimum) and decrypt.
                binary = raw if v["form"] == "binary" else parse_text(text).to_binary()
                header, body = binary[:HEADER_LEN], binary[HEADER_LEN:]
                aad = header + context_bytes(ctx)
                try:
                    sealed = body[NONCE_LEN:]
                    typed = Xaes(material).open(commits(suite), body[:NONCE_LEN], aad, sealed)
                except AeadError:
                    problems.append("does not authenticate under the vector's key and context")
                else:
                    if typed.hex() != v["typed_plaintext"]:
                        problems.append("decrypts to another typed plaintext than stated")
            return problems

        return check

    cases = [(v["name"], case(v)) for v in data["vectors"]]

    # The file's own sanity: the valid envelopes open under the stated key and context.
    def valid() -> list[str]:
        problems = []
        envelopes = [
            ("", data["suite"], data["valid_envelope_binary"], data["valid_envelope_text"])
        ]
        envelopes += [(f" {e['suite']}", e["suite"], e["binary"], e["text"])
                      for e in data.get("valid_envelopes", [])]
        for label, suite, binary, text in envelopes:
            keyring = {default_key.key_id: Key(default_key.key_id, suite, default_key.material)}
            for form, env in [
                ("binary", lambda: parse_binary(bytes.fromhex(binary))),
                ("text", lambda: parse_text(text)),
            ]:
                got = classify(lambda: open_envelope(keyring, data["context"], env(), "string"))
                if got != "opened":
                    problems.append(f"valid{label} {form} envelope: {got}")
        if data.get("count") != len(data["vectors"]):
            problems.append("count field differs from the number of vectors")
        return problems

    return cases, [("valid envelopes open", valid)]
