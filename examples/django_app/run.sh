#!/usr/bin/env bash
# The example shop, in one command: builds the fieldcrypt package, installs it with Django into
# a venv, migrates a SQLite database, adds example customers and an admin user (admin/admin),
# and serves http://127.0.0.1:8000/admin/. The keyring and its master key are created on the
# first run, under examples/django_app/data/.
#
#   bash examples/django_app/run.sh          # serve
#   bash examples/django_app/run.sh --check  # migrate, seed, show, exit (what CI runs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
bash scripts/python-package.sh >/dev/null    # incremental: seconds once built
py="$(bash scripts/django-env.sh example | tail -n 1)"    # Django, from requirements.txt here
"$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/fieldcrypt-*.whl
cd "$here"
"$py" manage.py migrate --verbosity 0
"$py" manage.py check --fail-level WARNING
"$py" manage.py seed
if [[ "${1:-}" == "--check" ]]; then
    exit 0
fi
echo "open http://127.0.0.1:8000/admin/ (admin / admin); search customers by email"
exec "$py" manage.py runserver 127.0.0.1:8000
