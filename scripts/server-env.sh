#!/usr/bin/env bash
# The tools scripts/server-checks.sh drives, in project-local places: schemathesis (PyPI, in
# .venv-server, rebuilt when tools/server_checks/requirements.txt changes) and playwright-core
# (npm, from tools/server_checks's lock file; no browser download: Debian's Chromium is used).
# Idempotent; a second run does nothing.
#
#   bash scripts/server-env.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-server"
REQ="$REPO/tools/server_checks/requirements.txt"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/schemathesis" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "server-env: installing schemathesis into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQ" >&2
    echo "$want" >"$VENV/.requirements.sha256"
fi
if [[ ! -d "$REPO/tools/server_checks/node_modules/playwright-core" ]]; then
    (cd "$REPO/tools/server_checks" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
fi
