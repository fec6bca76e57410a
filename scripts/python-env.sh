#!/usr/bin/env bash
# Creates (or refreshes) the project-local Python venv at $REPO/.venv with tools/requirements.txt.
#
# Idempotent: the venv is (re)built only when it is missing or broken, and the requirements are
# (re)installed only when tools/requirements.txt changed since the last successful install (the
# sha256 of the file is kept in .venv/.requirements.sha256). Progress goes to stderr; the last
# line on stdout is the venv's python, so callers can do:
#
#   PY="$(scripts/python-env.sh | tail -n 1)"
#   "$PY" tools/verify_vectors.py
#
# PYTHON selects the base interpreter (default: python3).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
REQ="$REPO/tools/requirements.txt"
STAMP="$VENV/.requirements.sha256"
BASE_PYTHON="${PYTHON:-python3}"
VENV_PY="$VENV/bin/python"

log() { printf 'python-env: %s\n' "$*" >&2; }

if [[ ! -f "$REQ" ]]; then
    log "missing $REQ"
    exit 1
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

# A venv whose interpreter no longer runs (base python moved or upgraded) is rebuilt.
if [[ -d "$VENV" ]] && ! "$VENV_PY" -c 'import sys' >/dev/null 2>&1; then
    log "venv at $VENV is broken; rebuilding"
    rm -rf -- "$VENV"
fi

if [[ ! -x "$VENV_PY" ]]; then
    log "creating venv at $VENV with $("$BASE_PYTHON" --version 2>&1)"
    "$BASE_PYTHON" -m venv "$VENV"
fi

have=""
if [[ -f "$STAMP" ]]; then
    have="$(cat "$STAMP")"
fi

if [[ "$have" != "$want" ]]; then
    log "installing $(basename "$REQ") into $VENV"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ" >&2
    # Written only after a successful install, atomically.
    printf '%s\n' "$want" >"$STAMP.tmp"
    mv -f -- "$STAMP.tmp" "$STAMP"
fi

printf '%s\n' "$VENV_PY"
