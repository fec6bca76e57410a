#!/usr/bin/env bash
# Everything the tests need that is not built by cargo, made ready in one go: Debian packages
# (scripts/system-deps.sh), then the project-local venvs (scripts/python-env.sh with the Python
# package's build tools, scripts/django-env.sh for each venv, scripts/server-env.sh). Each part
# is idempotent, so a prepared machine runs through in seconds. scripts/test.sh starts this in
# the background while cargo builds: downloads and installs overlap the compilation.
#
#   bash scripts/prepare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf 'prepare: %s (%ss)\n' "$1" "$SECONDS"; }
step "Debian packages"
bash scripts/system-deps.sh
step "the project venv (.venv)"
PY="$(bash scripts/python-env.sh | tail -n 1)"
"$PY" -m pip install --quiet --disable-pip-version-check -r crates/fieldcrypt-py/requirements-dev.txt
for venv in main search legacy py52 py42 py52s example; do
    step "the Django venv '$venv'"
    bash scripts/django-env.sh "$venv" >/dev/null
done
step "schemathesis and playwright-core"
bash scripts/server-env.sh
step "done"
