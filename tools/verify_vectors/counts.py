"""The counts suite: every file's count and counts members against what the file holds."""

from __future__ import annotations


def _tally(items: list, member: str) -> dict:
    out: dict = {}
    for v in items:
        key = "null" if v.get(member) is None else str(v[member])
        out[key] = out.get(key, 0) + 1
    return out


def count_cases(envelope: dict, negative: dict, blind: dict, keyring: dict, stream: dict) -> list:
    """Every file's count and counts members against what the file holds (section 13 points at
    them instead of repeating numbers)."""
    def compare(file: str, given, want) -> list[str]:
        return [] if given == want else [f"{file}: counts says {given}, the file holds {want}"]

    def envelope_counts() -> list[str]:
        want = {"vectors": len(envelope["vectors"]),
                "json_payloads": len(envelope.get("json_payloads", [])),
                "context_limits": len(envelope.get("context_limits", []))}
        return (compare("envelope.json count", envelope.get("count"), len(envelope["vectors"]))
                + compare("envelope.json", envelope.get("counts"), want))

    def negative_counts() -> list[str]:
        return (compare("negative.json count", negative.get("count"), len(negative["vectors"]))
                + compare("negative.json", negative.get("counts"),
                          _tally(negative["vectors"], "expect")))

    def blind_counts() -> list[str]:
        want = {"vectors": len(blind["vectors"]),
                "normalizer_lists": len(blind.get("normalizer_lists", []))}
        return (compare("blind_index.json count", blind.get("count"), len(blind["vectors"]))
                + compare("blind_index.json", blind.get("counts"), want))

    def keyring_counts() -> list[str]:
        files = keyring.get("master_key_files", [])
        want = {
            "entries": len(keyring["entries"]),
            "documents": _tally(keyring["documents"], "expect"),
            "document_texts": _tally(keyring.get("document_texts", []), "expect"),
            "provider_documents": _tally(keyring.get("provider_documents", []), "expect"),
            "master_key_files": {"accepted": sum(1 for f in files if f["key"] is not None),
                                 "refused": sum(1 for f in files if f["key"] is None)},
            "argon2id_parameters": _tally(keyring.get("argon2id_parameters", []), "expect"),
        }
        return (compare("keyring.json count", keyring.get("count"), len(keyring["documents"]))
                + compare("keyring.json", keyring.get("counts"), want))

    def stream_counts() -> list[str]:
        want = {"vectors": len(stream["vectors"]),
                "negative": _tally(stream["negative"], "expect")}
        return (compare("stream.json count", stream.get("count"), len(stream["vectors"]))
                + compare("stream.json", stream.get("counts"), want))

    return [("envelope.json", envelope_counts), ("negative.json", negative_counts),
            ("blind_index.json", blind_counts), ("keyring.json", keyring_counts),
            ("stream.json", stream_counts)]
