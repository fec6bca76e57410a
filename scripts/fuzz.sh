#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 60) from a seed corpus of real envelopes.
# cargo-fuzz needs nightly-only compiler flags; on the stable toolchain RUSTC_BOOTSTRAP=1 allows
# them for this build only. Installs cargo-fuzz if it is missing.
#
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
# Seed corpus: every envelope in the vectors, binary and text.
python3 - <<'PY'
import json, os, hashlib
os.makedirs("fuzz/corpus/open", exist_ok=True)
os.makedirs("fuzz/corpus/envelope_parse", exist_ok=True)
seeds = []
for v in json.load(open("testdata/vectors/envelope.json"))["vectors"]:
    seeds += [bytes.fromhex(v["envelope_binary"]), v["envelope_text"].encode()]
neg = json.load(open("testdata/vectors/negative.json"))
seeds += [bytes.fromhex(neg["valid_envelope_binary"]), neg["valid_envelope_text"].encode()]
for v in neg["vectors"]:
    seeds.append(bytes.fromhex(v["input"]) if v["form"] == "binary" else v["input"].encode())
for target in ("open", "envelope_parse"):
    for s in seeds:
        with open(f"fuzz/corpus/{target}/{hashlib.sha1(s).hexdigest()}", "wb") as f:
            f.write(s)
# Fernet: the spec's tokens (valid, and each kind of invalid).
os.makedirs("fuzz/corpus/fernet", exist_ok=True)
for name in ("generate", "verify", "invalid"):
    for v in json.load(open(f"testdata/fernet/{name}.json")):
        s = v["token"].encode()
        with open(f"fuzz/corpus/fernet/{hashlib.sha1(s).hexdigest()}", "wb") as f:
            f.write(s)
# Django: the pickles django-cryptography wrote, and the texts the Django libraries stored.
os.makedirs("fuzz/corpus/django", exist_ok=True)
legacy = json.load(open("testdata/django/legacy_vectors.json"))
seeds = [b"2024-02-29 19:07:42.123456+05:30", b"1.23E+5", b"-0.0", b'{"a": [1, null]}']
for row in legacy["raw"].values():
    for cell in row["columns"].values():
        if "plaintext_pickle_hex" in cell:
            seeds.append(bytes.fromhex(cell["plaintext_pickle_hex"]))
for s in seeds:
    with open(f"fuzz/corpus/django/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
# Typed plaintexts: the vectors' (tag byte first), and JSON texts with awkward numbers.
os.makedirs("fuzz/corpus/typed", exist_ok=True)
seeds = [bytes.fromhex(v["typed_plaintext"]) for v in json.load(open("testdata/vectors/envelope.json"))["vectors"]]
seeds += [b' {"a" : [1.10, 123456789012345678901234567890.5, 1e400, "x \\" y"]} ', b'"\\ud800"']
for s in seeds:
    with open(f"fuzz/corpus/typed/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
# Text parsers: RFC 3339 times (offsets, fractions, expanded years), dates, decimals, ids.
os.makedirs("fuzz/corpus/from_str", exist_ok=True)
seeds = [b"2024-01-02T03:04:05.123456789+05:30", b"+10000-01-01T00:00:00Z", b"-0001-12-31",
         b"2024-02-29", b"1985-10-26 01:20:00-07:00", b"-12.50", b"nfkc,trim,casefold",
         b"00112233445566778899aabbccddeeff", b"true"]
for s in seeds:
    with open(f"fuzz/corpus/from_str/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
# Keyring documents: the vectors' documents and raw texts.
os.makedirs("fuzz/corpus/keyring_document", exist_ok=True)
kr = json.load(open("testdata/vectors/keyring.json"))
seeds = [json.dumps(kr["document"]).encode()]
seeds += [json.dumps(d["document"]).encode() for d in kr["documents"][:20]]
seeds += [t["text"].encode() for t in kr["document_texts"]]
for s in seeds:
    with open(f"fuzz/corpus/keyring_document/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
# Backups: whole containers (magic, version, manifest, frames, trailer) as the target seals them.
os.makedirs("fuzz/corpus/backup_container", exist_ok=True)
def document(d):
    b = json.dumps(d).encode()
    return len(b).to_bytes(4, "big") + b
def container(dump, frames):
    manifest = {"database": "postgresql", "name": "shop", "location": "127.0.0.1:5432",
                "tool": "pg_dump", "tool_version": "15.19", "dump_format": "pg_dump-custom",
                "started_at": "2026-12-08T00:00:00Z", "fieldcrypt_version": "0.1.0", "key_id": 7}
    out = b"FCBACKUP\x01" + document(manifest)
    step = max(1, len(dump) // max(1, frames))
    for i in range(0, len(dump), step):
        out += len(dump[i:i + step]).to_bytes(4, "big") + dump[i:i + step]
    out += (0).to_bytes(4, "big")
    return out + document({"finished_at": "2026-12-08T00:00:01Z", "dump_bytes": len(dump),
                           "dump_sha256": hashlib.sha256(dump).hexdigest()})
for s in (container(b"", 1), container(b"PGDMP" + bytes(range(200)), 3), container(b"-- sql\n" * 40, 5)):
    with open(f"fuzz/corpus/backup_container/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
os.makedirs("fuzz/corpus/database_url", exist_ok=True)
for s in (b"postgres://app:s3cret@db.example:5432/shop?sslmode=require", b"mariadb://root@127.0.0.1/test",
          b"sqlite:///var/lib/app/app.db", b"sqlite:app.db?mode=ro", b"mysql://u:p%40ss@[::1]:3306/d%20b"):
    with open(f"fuzz/corpus/database_url/{hashlib.sha1(s).hexdigest()}", "wb") as f:
        f.write(s)
PY
mkdir -p target
targets=(envelope_parse open fernet django typed from_str keyring_document stream_open backup_container database_url)
# Built once, then run as many at a time as there are cores (each libFuzzer run is one thread).
cargo fuzz build --sanitizer none >target/fuzz-build.log 2>&1 || { tail -n 30 target/fuzz-build.log >&2; exit 1; }
run_one() {
    local target="$1" log="target/fuzz-$1.log" status=0
    cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1 || status=$?
    grep -E '^(Done|==|thread|SUMMARY|.*panicked|.*deadly signal)' "$log" | sed "s/^/fuzz: $target: /" || true
    if [[ "$status" != 0 ]]; then
        tail -n 30 "$log" >&2
        echo "fuzz: $target FAILED (exit $status); the crashing input is in fuzz/artifacts/$target/" >&2
        return 1
    fi
    echo "fuzz: $target ran ${seconds}s without a crash"
}
parallel="$(nproc 2>/dev/null || echo 1)"
failed=0
pids=()
for target in "${targets[@]}"; do
    echo "fuzz: $target for ${seconds}s"
    run_one "$target" &
    pids+=("$!")
    if [[ "${#pids[@]}" -ge "$parallel" ]]; then
        wait "${pids[0]}" || failed=1
        pids=("${pids[@]:1}")
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
exit "$failed"
