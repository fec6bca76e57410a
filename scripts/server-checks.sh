#!/usr/bin/env bash
# The checks of fieldcrypt-server that need tools from outside Rust, against the real binary on
# loopback (a development setup from the dev_setup example):
#   1. schemathesis (PyPI, in .venv-server) against the served OpenAPI document: no server error,
#      every status and body as documented, schema-violating requests refused;
#   2. testssl.sh (Debian) scans the listener with the floor at TLS 1.2, then at 1.3: nothing
#      below the floor is offered, and every TLS 1.2 suite is ECDHE with an AEAD;
#   3. the admin page in Debian's Chromium driven by playwright-core (npm, tools/server_checks);
#   4. after a clean stop, `fieldcrypt audit verify` checks the trail the run left.
# Expects target/debug/{fieldcrypt-server,fieldcrypt,examples/dev_setup} (cargo build
# --workspace --all-targets). With CI=true a missing tool fails; elsewhere it is skipped loudly.
#
#   bash scripts/server-checks.sh [--screenshot PATH]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
SCREENSHOT=""
[[ "${1:-}" == "--screenshot" ]] && SCREENSHOT="$(realpath -m "$2")"

missing() {
    if [[ "${CI:-}" == "true" ]]; then
        echo "MISSING (fails under CI): $*" >&2
        exit 1
    fi
    echo "SKIPPED, MISSING: $*" >&2
}

bash scripts/system-deps.sh
BIN="$REPO/target/debug"
for b in fieldcrypt-server fieldcrypt examples/dev_setup; do
    [[ -x "$BIN/$b" ]] || { echo "server-checks: $BIN/$b is not built (cargo build --workspace --all-targets)" >&2; exit 1; }
done

bash scripts/server-env.sh
VENV="$REPO/.venv-server"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # config
    "$BIN/fieldcrypt-server" serve --config "$1" --address-file "$WORK/addr" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        if curl -sf --cacert "$WORK/ca.pem" "https://localhost:$PORT/readyz" >/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server-checks: the server did not become ready; its log:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    SERVER_PID=""
}

PORT="$(free_port)"
"$BIN/examples/dev_setup" "$WORK" --listen "127.0.0.1:$PORT" --budget 3 >/dev/null
# shellcheck disable=SC1091
source "$WORK/tokens.env"
start_server "$WORK/server.toml"
echo "server-checks: fieldcrypt-server at https://localhost:$PORT (TLS floor 1.2)"

echo "== schemathesis against /v1/openapi.json"
"$VENV/bin/schemathesis" run "https://localhost:$PORT/v1/openapi.json" --tls-verify "$WORK/ca.pem" \
    -H "Authorization: Bearer $APP_TOKEN" --checks all --max-examples "${SCHEMATHESIS_EXAMPLES:-200}" \
    --no-color --seed 1 >"$WORK/schemathesis.txt" 2>&1 || { cat "$WORK/schemathesis.txt"; echo "schemathesis found failures" >&2; exit 1; }
grep -E "generated|passed" "$WORK/schemathesis.txt" | tail -n 2

tls_scan() { # floor
    if ! command -v testssl >/dev/null; then
        missing "testssl (Debian package testssl.sh)"
        return 0
    fi
    rm -f "$WORK/tls.json"
    testssl --quiet --color 0 --warnings off --jsonfile "$WORK/tls.json" -p -E --ip 127.0.0.1 \
        "localhost:$PORT" >"$WORK/testssl.txt" 2>&1 || true
    python3 - "$WORK/tls.json" "$1" <<'EOF'
import json, sys
findings = {e["id"]: e["finding"] for e in json.load(open(sys.argv[1]))}
floor = sys.argv[2]
below = ["SSLv2", "SSLv3", "TLS1", "TLS1_1"] + (["TLS1_2"] if floor == "1.3" else [])
errors = [f"{p} is offered" for p in below if not findings.get(p, "").startswith("not offered")]
if not findings.get("TLS1_3", "").startswith("offered"):
    errors.append("TLS 1.3 is not offered")
ciphers = [f for i, f in findings.items() if i.startswith("cipher-")]
for c in ciphers:
    if c.startswith("TLS 1.2") and not ("ECDHE" in c and ("GCM" in c or "CHACHA20" in c)):
        errors.append("a TLS 1.2 suite without ECDHE and an AEAD: " + c)
    if not (c.startswith("TLS 1.2") or c.startswith("TLS 1.3")):
        errors.append("a suite below TLS 1.2: " + c)
if not ciphers:
    errors.append("the scan listed no cipher suite")
if errors:
    sys.exit("TLS scan: " + "; ".join(errors))
print(f"testssl.sh, floor {floor}: only " + ", ".join(sorted({c.split()[0] + ' ' + c.split()[1] for c in ciphers})) + f" offered; {len(ciphers)} suites, all ECDHE/TLS 1.3 with AEAD")
EOF
}

echo "== TLS scan (testssl.sh)"
tls_scan 1.2

echo "== the admin page in Chromium"
if [[ -x /usr/bin/chromium ]]; then
    SPKI="$(openssl x509 -in "$WORK/server.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
    BASE_URL="https://localhost:$PORT" ADMIN_TOKEN="$ADMIN_TOKEN" SUPPORT_TOKEN="$SUPPORT_TOKEN" \
        APP_TOKEN="$APP_TOKEN" SPKI="$SPKI" NODE_EXTRA_CA_CERTS="$WORK/ca.pem" SCREENSHOT="$SCREENSHOT" \
        node tools/server_checks/admin_page.mjs
else
    missing "chromium (Debian package), for the admin page test"
fi

stop_server
echo "== the trail this run left, verified offline"
"$BIN/fieldcrypt" audit verify --file "$WORK/trail.jsonl" --public-key "$WORK/audit.pub.pem"

echo "== TLS scan with the floor at 1.3"
sed -i 's/^min_version = "1.2"/min_version = "1.3"/' "$WORK/server.toml"
start_server "$WORK/server.toml"
tls_scan 1.3
stop_server
echo "server-checks: ok"
