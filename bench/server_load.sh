#!/usr/bin/env bash
# Load benchmark (not a test): fieldcrypt-server's /v1/open with the audit trail on, beside
# OpenBao Transit's decrypt, on this machine, in one run, with one load generator (oha) on
# loopback. For batches of 1 and of 100 values:
#   1. the saturating rate: 32 connections as fast as they go for $SECONDS_SAT s;
#   2. latency at half that rate (oha -q, a fixed request rate) for $SECONDS_HALF s;
# then fieldcrypt-server's memory (RSS) over a $SECONDS_SOAK s run at half its batch-1 rate.
# The load generator and the servers share this machine's cores; both systems get the same.
#
# fieldcrypt-server: the release build, dev_setup's configuration (TLS 1.3, local keyring, one
# principal), the trail in a local file with fdatasync per batch (audit on: every open is an
# entry written before the answer). OpenBao: `bao server -dev` (in memory, no TLS, no audit
# device; the same machine, the same loopback), a Transit aes256-gcm96 key, `decrypt` and its
# `batch_input` for 100; measured without an audit device (the dev server as the tests run it),
# then with a file audit device.
#
#   bash bench/server_load.sh            # prints a Markdown table
#   BENCH_JSON=FILE also writes the figures as JSON (bench/report.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_SAT="${SECONDS_SAT:-10}"
SECONDS_HALF="${SECONDS_HALF:-10}"
SECONDS_SOAK="${SECONDS_SOAK:-300}"

cargo build --release -q -p fieldcrypt-server --bins --examples
command -v oha >/dev/null || cargo install -q --locked oha
PY="$(bash scripts/python-env.sh | tail -n 1)"
BAO="$(dirname "$PY")/bao"

WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- fieldcrypt-server
FC_PORT="$(free_port)"
target/release/examples/dev_setup "$WORK/fc" --listen "127.0.0.1:$FC_PORT" --budget 1000000000000 >/dev/null
sed -i 's/^min_version = "1.2"/min_version = "1.3"/' "$WORK/fc/server.toml"
# shellcheck disable=SC1091
source "$WORK/fc/tokens.env"
FIELDCRYPT_SERVER_LOG=info target/release/fieldcrypt-server serve --config "$WORK/fc/server.toml" >"$WORK/fc.log" 2>&1 &
FC_PID=$!
PIDS+=("$FC_PID")
for _ in $(seq 100); do curl -sf --cacert "$WORK/fc/ca.pem" "https://localhost:$FC_PORT/readyz" >/dev/null && break; sleep 0.1; done
ENVELOPE="$(curl -sf --cacert "$WORK/fc/ca.pem" "https://localhost:$FC_PORT/v1/seal" -H "Authorization: Bearer $APP_TOKEN" \
    -H 'content-type: application/json' \
    -d '{"items": [{"table": "customers", "column": "card_number", "row": 1, "value": "4111111111111111"}]}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["envelope"])')"
python3 - "$WORK" "$ENVELOPE" <<'EOF'
import json, sys
work, env = sys.argv[1], sys.argv[2]
item = {"table": "customers", "column": "card_number", "row": 1, "envelope": env}
for n in (1, 100):
    json.dump({"purpose": "bench", "items": [item] * n}, open(f"{work}/fc{n}.json", "w"))
EOF

# --- OpenBao Transit
BAO_PORT="$(free_port)"
# OpenBao 2 creates audit devices through the API only when its configuration allows it.
echo 'unsafe_allow_api_audit_creation = true' >"$WORK/bao.hcl"
"$BAO" server -dev -dev-root-token-id=bench -dev-listen-address="127.0.0.1:$BAO_PORT" -config="$WORK/bao.hcl" >"$WORK/bao.log" 2>&1 &
PIDS+=($!)
BAO_URL="http://127.0.0.1:$BAO_PORT"
for _ in $(seq 100); do curl -sf "$BAO_URL/v1/sys/health" >/dev/null && break; sleep 0.1; done
curl -sf -H "X-Vault-Token: bench" "$BAO_URL/v1/sys/mounts/transit" -d '{"type": "transit"}' >/dev/null
curl -sf -H "X-Vault-Token: bench" -X POST "$BAO_URL/v1/transit/keys/bench" >/dev/null
CIPHERTEXT="$(curl -sf -H "X-Vault-Token: bench" "$BAO_URL/v1/transit/encrypt/bench" \
    -d "{\"plaintext\": \"$(printf 4111111111111111 | base64)\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["ciphertext"])')"
python3 - "$WORK" "$CIPHERTEXT" <<'EOF'
import json, sys
work, ct = sys.argv[1], sys.argv[2]
json.dump({"ciphertext": ct}, open(f"{work}/bao1.json", "w"))
json.dump({"batch_input": [{"ciphertext": ct}] * 100}, open(f"{work}/bao100.json", "w"))
EOF

run_oha() { # name url body-file seconds [rate] -> JSON file
    local name="$1" url="$2" body="$3" seconds="$4" rate="${5:-}"
    local auth=(-H "Authorization: Bearer $APP_TOKEN")
    [[ "$url" == "$BAO_URL"* ]] && auth=(-H "X-Vault-Token: bench")
    local args=(-z "${seconds}s" -c 32 --no-tui --output-format json -m POST -H 'content-type: application/json' "${auth[@]}" -D "$body")
    [[ -n "$rate" ]] && args+=(-q "$rate")
    [[ "$url" == https* ]] && args+=(--cacert "$WORK/fc/ca.pem")
    oha "${args[@]}" "$url" >"$WORK/$name.json"
}

summary() { # JSON file -> "rps p50_ms p99_ms ok_share"
    python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k == "200")
total = sum(codes.values()) or 1
print(f'{s["requestsPerSec"]:.0f} {p["p50"]*1000:.2f} {p["p99"]*1000:.2f} {ok/total:.3f}')
EOF
}

declare -A SAT
echo "| system | batch | saturating req/s | values/s | p50 at saturation (ms) | p99 at saturation (ms) | p50 at half rate (ms) | p99 at half rate (ms) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for target in fc1 fc100 bao1 bao100 audit baoA1 baoA100; do
    if [[ "$target" == audit ]]; then
        # The same OpenBao with a file audit device: each request and answer logged (HMACed).
        curl -sf -H "X-Vault-Token: bench" "$BAO_URL/v1/sys/audit/file" \
            -d "{\"type\": \"file\", \"options\": {\"file_path\": \"$WORK/bao-audit.log\"}}"
        continue
    fi
    case "$target" in
        fc*) url="https://localhost:$FC_PORT/v1/open"; body="$WORK/$target.json"; name="fieldcrypt-server (TLS 1.3, trail fdatasync'd)" ;;
        baoA*) url="$BAO_URL/v1/transit/decrypt/bench"; body="$WORK/bao${target#baoA}.json"; name="OpenBao Transit decrypt, file audit device" ;;
        bao*) url="$BAO_URL/v1/transit/decrypt/bench"; body="$WORK/$target.json"; name="OpenBao Transit decrypt, no audit device" ;;
    esac
    n="${target//[a-zA-Z]/}"
    run_oha "$target-sat" "$url" "$body" "$SECONDS_SAT"
    read -r rps p50 p99 ok <<<"$(summary "$WORK/$target-sat.json")"
    [[ "$ok" == "1.000" ]] || { echo "$target: only $ok of the answers were 200" >&2; exit 1; }
    SAT[$target]="$rps"
    half=$((rps / 2))
    run_oha "$target-half" "$url" "$body" "$SECONDS_HALF" "$half"
    read -r hrps hp50 hp99 hok <<<"$(summary "$WORK/$target-half.json")"
    echo "| $name | $n | $rps | $((rps * n)) | $p50 | $p99 | $hp50 (at $hrps req/s) | $hp99 |"
    echo "$target $rps $p50 $p99 $hrps $hp50 $hp99" >>"$WORK/rows.txt"
done
python3 - "${SAT[fc1]}" "${SAT[bao1]}" "${SAT[baoA1]}" "${SAT[fc100]}" "${SAT[bao100]}" "${SAT[baoA100]}" <<'EOF'
import sys
fc1, bao1, baoa1, fc100, bao100, baoa100 = map(float, sys.argv[1:])
print(f"\nbatch 1: fieldcrypt-server {fc1/bao1:.1f}x OpenBao without an audit device, {fc1/baoa1:.1f}x with one (target: at least 5x)")
print(f"batch 100: fieldcrypt-server {fc100/bao100:.1f}x OpenBao without an audit device, {fc100/baoa100:.1f}x with one")
EOF

# Memory over a long run at half the batch-1 rate.
half=$(( ${SAT[fc1]} / 2 ))
rss() { awk '/VmRSS/ {print $2}' "/proc/$FC_PID/status"; }
start_rss="$(rss)"
run_oha soak "https://localhost:$FC_PORT/v1/open" "$WORK/fc1.json" "$SECONDS_SOAK" "$half" &
SOAK=$!
samples=()
for ((t = 0; t < SECONDS_SOAK; t += 10)); do sleep 10; samples+=("$(rss)"); done
wait "$SOAK"
read -r srps sp50 sp99 _ <<<"$(summary "$WORK/soak.json")"
python3 - "$WORK/rows.txt" "${BENCH_JSON:-}" "$start_rss" "$srps" "$sp99" "${samples[@]}" <<'EOF'
import json, sys
rows_file, json_out, start, rps, p99, *samples = sys.argv[1:]
samples = [int(s) for s in samples]
third = max(1, len(samples) // 3)
first, last = samples[:third], samples[-third:]
print(f"\nmemory over {len(samples) * 10} s at {float(rps):.0f} req/s (p99 {p99} ms): RSS {int(start)/1024:.1f} MiB before, "
      f"{min(samples)/1024:.1f}-{max(samples)/1024:.1f} MiB during; first third mean {sum(first)/len(first)/1024:.1f} MiB, "
      f"last third mean {sum(last)/len(last)/1024:.1f} MiB")
if json_out:
    targets = {}
    for line in open(rows_file):
        t, sat, p50, p99s, half, hp50, hp99 = line.split()
        targets[t] = {"batch": 100 if t.endswith("100") else 1, "saturating_req_per_s": float(sat),
                      "p50_ms": float(p50), "p99_ms": float(p99s), "half_rate_req_per_s": float(half),
                      "half_rate_p50_ms": float(hp50), "half_rate_p99_ms": float(hp99)}
    json.dump({"targets": targets, "soak": {"seconds": len(samples) * 10, "req_per_s": float(rps),
               "rss_before_mib": int(start) / 1024, "rss_min_mib": min(samples) / 1024,
               "rss_max_mib": max(samples) / 1024}}, open(json_out, "w"))
EOF
echo "trail entries written: $(wc -l <"$WORK/fc/trail.jsonl")"
