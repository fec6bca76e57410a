#!/usr/bin/env bash
# Creates (or refreshes) one of the project-local venvs of the Django fixture generator
# (tools/django_fixtures/generate.py):
#
#   main    .venv-django-main    Django 5.2 + django-encrypted-model-fields, django-fernet-fields,
#                                django-fernet-encrypted-fields, cryptbase
#   search  .venv-django-search  Django 5.2 + django-searchable-encrypted-fields (its module name,
#                                `encrypted_fields`, clashes with django-fernet-encrypted-fields')
#   legacy  .venv-django-legacy  Django 4.2 + django-cryptography 1.1 (does not import on Django 5)
#
# from tools/django_fixtures/requirements-NAME.txt, and the Python package's test venvs
# (fieldcrypt.django and fieldcrypt.sqlalchemy; the fieldcrypt wheel goes in afterwards):
#
#   py52    .venv-django-py52    Django 5.2 LTS, SQLAlchemy 2, pytest, drivers for the three databases,
#                                the legacy libraries that import on Django 5.2 side by side
#   py42    .venv-django-py42    Django 4.2 LTS, the same, with django-cryptography instead
#   py52s   .venv-django-py52s   py52 with django-searchable-encrypted-fields in place of
#                                django-fernet-encrypted-fields (same module name)
#
# from crates/fieldcrypt-py/requirements-NAME.txt, and the example shop's (examples/django_app):
#
#   example .venv-django-example Django 5.2, from examples/django_app/requirements.txt
#
# Idempotent: the venv is rebuilt from scratch only when it is missing or broken, or when the
# sha256 of its requirements file differs from the one recorded after the last successful install
# (.venv-django-NAME/.requirements.sha256), so no package of an older pin set lingers. Progress goes
# to stderr; the last line on stdout is the venv's python:
#
#   PY="$(scripts/django-env.sh main | tail -n 1)"
#   "$PY" tools/django_fixtures/generate.py --library emf ...
#
# PYTHON selects the base interpreter (default: python3).
set -euo pipefail

usage() { echo "usage: $0 main|search|legacy|py52|py42|py52s|example" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
NAME="$1"
case "$NAME" in main | search | legacy | py52 | py42 | py52s | example) ;; *) usage ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-django-$NAME"
case "$NAME" in
    example) REQ="$REPO/examples/django_app/requirements.txt" ;;
    py*) REQ="$REPO/crates/fieldcrypt-py/requirements-$NAME.txt" ;;
    *) REQ="$REPO/tools/django_fixtures/requirements-$NAME.txt" ;;
esac
STAMP="$VENV/.requirements.sha256"
BASE_PYTHON="${PYTHON:-python3}"
VENV_PY="$VENV/bin/python"

log() { printf 'django-env(%s): %s\n' "$NAME" "$*" >&2; }

if [[ ! -f "$REQ" ]]; then
    log "missing $REQ"
    exit 1
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

# Two runs for the same venv at once would trample each other: serialise them.
if command -v flock >/dev/null 2>&1; then
    lock="${TMPDIR:-/tmp}/django-env-$(printf '%s' "$VENV" | sha256sum | cut -c1-16).lock"
    exec 9>"$lock"
    flock 9
fi

have=""
if [[ -f "$STAMP" ]]; then
    have="$(cat "$STAMP")"
fi

if [[ -d "$VENV" ]]; then
    if ! "$VENV_PY" -c 'import sys' >/dev/null 2>&1; then
        log "venv at $VENV is broken; rebuilding"
        rm -rf -- "$VENV"
    elif [[ "$have" != "$want" ]]; then
        log "$(basename "$REQ") changed (or last install did not finish); rebuilding $VENV"
        rm -rf -- "$VENV"
    fi
fi

if [[ ! -x "$VENV_PY" ]]; then
    log "creating venv at $VENV with $("$BASE_PYTHON" --version 2>&1)"
    "$BASE_PYTHON" -m venv "$VENV"
    log "installing $(basename "$REQ")"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ" >&2
    "$VENV_PY" -m pip check --disable-pip-version-check >&2
    # Written only after a successful install, atomically.
    printf '%s\n' "$want" >"$STAMP.tmp"
    mv -f -- "$STAMP.tmp" "$STAMP"
else
    log "up to date: $VENV"
fi

printf '%s\n' "$VENV_PY"
