#!/usr/bin/env bash
# The Python package's Django and SQLAlchemy suites (crates/fieldcrypt-py/tests/django and
# tests/sqlalchemy), on
# Django 5.2 LTS and 4.2 LTS, each on SQLite, PostgreSQL (127.0.0.1:5432) and MariaDB
# (127.0.0.1:3306), and the legacy path from django-searchable-encrypted-fields
# (tests/django/test_legacy.py only) in a third venv, py52s, on the same three databases.
# Builds the test venvs (scripts/django-env.sh py52|py42|py52s) and installs the
# wheel scripts/python-package.sh built (target/wheels) into them. Also checks that the wheel
# installs into a fresh venv and imports with no Rust toolchain on PATH.
#
#   bash scripts/python-django.sh            # after bash scripts/python-package.sh
#
# With CI=true a database that does not answer fails the run; elsewhere it is skipped loudly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
wheel="$(ls target/wheels/fieldcrypt-*.whl)"

missing() {
    if [[ "${CI:-}" == "true" ]]; then
        echo "MISSING (fails under CI): $*" >&2
        exit 1
    fi
    echo "SKIPPED, MISSING: $*" >&2
}

echo "-- the wheel in a fresh venv, no Rust toolchain on PATH"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
python3 -m venv "$fresh/venv"
env -i HOME="$HOME" PATH="/usr/bin:/bin" bash -c '
    set -e
    if command -v cargo >/dev/null || command -v rustc >/dev/null; then
        echo "a Rust toolchain is on the restricted PATH" >&2; exit 1
    fi
    "$1/bin/pip" install --quiet --disable-pip-version-check --no-index "$2"
    "$1/bin/python" -c "
import fieldcrypt
k = fieldcrypt.Keyring.generate()
assert k.open(\"t\", \"c\", k.seal(\"t\", \"c\", 42)) == 42
print(\"ok: fieldcrypt\", fieldcrypt.__version__, \"from the wheel, no toolchain\")
"
    "$1/bin/fieldcrypt" --version
    "$1/bin/fieldcrypt" keyring init --keyring "$1/k.json" --master-key "$1/master.key" >/dev/null
    "$1/bin/python" -c "
import sys, fieldcrypt
k = fieldcrypt.Keyring.open_file(sys.argv[1], master_key=sys.argv[2])
print(\"ok: the installed fieldcrypt command made a keyring the package opens:\", k.id)
" "$1/k.json" "$1/master.key"' _ "$fresh/venv" "$wheel"

bash scripts/system-deps.sh
# The command the migrating-mode and legacy-path tests run (the workspace's build).
if [[ -x target/debug/fieldcrypt ]]; then
    export FIELDCRYPT_TEST_CLI="$PWD/target/debug/fieldcrypt"
fi
# The Rust side of the cross-language tests (fieldcrypt-sqlx's examples/cross_language.rs).
if [[ -x target/debug/examples/cross_language ]]; then
    export FIELDCRYPT_TEST_CROSS="$PWD/target/debug/examples/cross_language"
fi
db_up() {
    case "$1" in
        sqlite) return 0 ;;
        postgres) (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null ;;
        mysql) (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null ;;
    esac
}
# The legacy libraries whose path to fieldcrypt (tests/django/test_legacy.py) each venv must run;
# no venv can hold all six (see test_legacy.py's docstring). A flavor listed here whose library is
# missing fails the run under CI; one not listed is skipped there, and another venv runs it.
declare -A legacy=(
    [py52]="encrypted-model-fields,fernet-fields,fernet-encrypted-fields,cryptbase"
    [py42]="encrypted-model-fields,cryptography"
    [py52s]="encrypted-model-fields,fernet-fields,cryptbase,searchable"
)
for django in py52 py42 py52s; do
    py="$(bash scripts/django-env.sh "$django" | tail -n 1)"
    "$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
    export FIELDCRYPT_TEST_LEGACY="${legacy[$django]}"
    if [[ "$django" == py52 ]]; then
        echo "-- every legacy flavor is run by one of the venvs"
        "$py" - "${legacy[@]}" <<'PY'
import sys
from fieldcrypt.django.fields import LEGACY_FLAVORS
run = {f for venv in sys.argv[1:] for f in venv.split(",")}
missing = set(LEGACY_FLAVORS) - run
if missing:
    sys.exit(f"no venv runs the legacy path of {sorted(missing)}: add them to scripts/python-django.sh")
PY
        echo "-- mypy --strict over the package, stubtest of the native module's stubs"
        (cd crates/fieldcrypt-py/python && "$py" -m mypy --config-file ../pyproject.toml -p fieldcrypt)
        "$py" -m mypy.stubtest fieldcrypt._native
    fi
    for db in sqlite postgres mysql; do
        if ! db_up "$db"; then
            missing "$db for the fieldcrypt.django suite"
            continue
        fi
        if [[ "$django" == py52s ]]; then
            # py52 runs everything else; this venv exists for django-searchable-encrypted-fields.
            echo "-- fieldcrypt.django legacy path ($FIELDCRYPT_TEST_LEGACY), $db"
            (cd crates/fieldcrypt-py/tests/django &&
                FIELDCRYPT_TEST_DB="$db" FIELDCRYPT_TEST_DB_SUFFIX="_$django" "$py" -m pytest -q test_legacy.py 2>&1 | tail -n 40)
            continue
        fi
        echo "-- fieldcrypt.django on $("$py" -c 'import django; print("Django", django.get_version())'), $db"
        (cd crates/fieldcrypt-py/tests/django &&
            FIELDCRYPT_TEST_DB="$db" FIELDCRYPT_TEST_DB_SUFFIX="_$django" "$py" -m pytest -q 2>&1 | tail -n 40)
        echo "-- fieldcrypt.sqlalchemy on $("$py" -c 'import sqlalchemy; print("SQLAlchemy", sqlalchemy.__version__)'), $db (sync and asyncio engines)"
        (cd crates/fieldcrypt-py/tests/sqlalchemy &&
            FIELDCRYPT_TEST_DB="$db" FIELDCRYPT_TEST_DB_SUFFIX="_$django" "$py" -m pytest -q -p no:cacheprovider 2>&1 | tail -n 40)
    done
done
