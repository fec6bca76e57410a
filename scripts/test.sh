#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, integration, doc tests, examples and benches
# compiled), the format vectors checked by the independent Python implementation, and a short
# fuzz smoke run when cargo-fuzz is installed. Brings up what the tests need by itself.
#
#   bash scripts/test.sh
#
# With CI=true a missing prerequisite fails the run; elsewhere it is skipped with a loud line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Each step says when it began (minutes since the start), so a slow run shows where time went.
say() { printf '\n== %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }
missing() {
    if [[ "${CI:-}" == "true" ]]; then
        echo "MISSING (fails under CI): $*" >&2
        exit 1
    fi
    echo "SKIPPED, MISSING: $*" >&2
}

say "formatting"
cargo fmt --all --check

say "preparing Debian packages and the project venvs in the background (scripts/prepare.sh, log in target/prepare.log)"
mkdir -p target
bash scripts/prepare.sh >target/prepare.log 2>&1 &
prepare_pid=$!
prepare_done=""
cleanup() {
    [[ -n "$prepare_done" ]] || kill "$prepare_pid" 2>/dev/null || true
    [[ -z "${demo_dir:-}" ]] || rm -rf "$demo_dir"
    if declare -F stop_services >/dev/null; then stop_services || true; fi
}
trap cleanup EXIT

say "build: workspace, tests, examples, benches"
cargo build --workspace --all-targets --locked

say "clippy (all features: the Vault and AWS KMS providers in the CLI too)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

say "rustdoc: no broken or ambiguous links"
# All features, as clippy above: the dependencies checked for clippy serve rustdoc too.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet

say "build cost: the default fieldcrypt binary pulls in no HTTP client and no AWS SDK"
if cargo tree -p fieldcrypt-cli -p fieldcrypt-sqlx -e normal --prefix none --locked | grep -E '^(reqwest|hyper|aws-sdk-kms|aws-config|aws-smithy-runtime) '; then
    echo "the default build of fieldcrypt-cli or fieldcrypt-sqlx depends on the crates above" >&2
    exit 1
fi
echo "ok: $(cargo tree -p fieldcrypt-cli -e normal --prefix none --locked | sort -u | wc -l) crates, none of reqwest, hyper, aws-sdk"

say "waiting for the background preparation"
prepare_status=0
wait "$prepare_pid" || prepare_status=$?
prepare_done=1
grep '^prepare:' target/prepare.log || true
if [[ "$prepare_status" != 0 ]]; then
    tail -n 40 target/prepare.log >&2
    missing "the background preparation (scripts/prepare.sh exited $prepare_status; see above)"
fi

say "python venv (independent vector checker, Fernet baseline)"
PY="$(bash scripts/python-env.sh | tail -n 1)"
export FIELDCRYPT_TEST_PYTHON="$PY"  # pyca/cryptography for the Fernet interop test

say "services: OpenBao dev server and the moto KMS stand-in, from the venv"
# shellcheck source=scripts/services.sh
source scripts/services.sh
start_services "$(dirname "$PY")" || missing "a test service (OpenBao or moto_server; see above)"

say "python package (crates/fieldcrypt-py, PyO3 + maturin, abi3): built into the venv, its pytest suite"
# Unoptimised here (the same code; no second, release compilation of the AWS SDK for the wheel),
# and so for the example shop's own call below, which then finds it built.
export FIELDCRYPT_WHEEL_PROFILE=debug
PYPKG="$(bash scripts/python-package.sh | tail -n 1)"
CI="${CI:-}" "$PYPKG" -m pytest -q -s crates/fieldcrypt-py/tests/test_core.py crates/fieldcrypt-py/tests/test_providers.py crates/fieldcrypt-py/tests/test_files.py crates/fieldcrypt-py/tests/test_fork.py 2>&1 | grep -v '^$'
[[ "${PIPESTATUS[0]}" == 0 ]] || exit 1

say "fieldcrypt.django (Django 5.2 and 4.2 on SQLite, PostgreSQL, MariaDB); the wheel without a toolchain"
bash scripts/python-django.sh

say "the example Django shop (examples/django_app): migrate, seed, search, on SQLite"
bash examples/django_app/run.sh --check

say "Django fixture venvs: Django with the six field-encryption libraries (tools/django_fixtures)"
for venv in main search legacy; do
    if django_py="$(bash scripts/django-env.sh "$venv" | tail -n 1)"; then
        export "FIELDCRYPT_TEST_DJANGO_${venv^^}=$django_py"
    else
        missing "the Django fixture venv '$venv' (bash scripts/django-env.sh $venv)"
    fi
done

say "format vectors, checked by an independent Python implementation"
"$PY" tools/verify_vectors.py

say "fuzz smoke run (${FUZZ_SECONDS:-20} s per target; installs cargo-fuzz if missing)"
if ! bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"; then
    if [[ "${CI:-}" == "true" ]] || cargo fuzz --version >/dev/null 2>&1; then
        exit 1  # a crash, or CI without a way to fuzz
    fi
    missing "cargo-fuzz could not be installed (cargo install cargo-fuzz) for the fuzz smoke run"
fi

say "the main job (examples/customers demo) on SQLite, PostgreSQL and MariaDB"
demo_dir="$(mktemp -d)"
for url in "sqlite://$demo_dir/customers.db?mode=rwc" \
    "${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" \
    "${FIELDCRYPT_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"; do
    # Reset (rows of an earlier run are sealed under another keyring), then twice: the first
    # run creates the keyring and the rows, the second reads them back.
    for run in reset demo demo; do
        if ! out="$(XDG_CONFIG_HOME="$demo_dir/config" target/debug/customers \
            --database-url "$url" --keyring "$demo_dir/keyring.json" "$run" 2>&1)"; then
            case "$url" in
                sqlite*) echo "$out" >&2; exit 1 ;;
                *) echo "$out" >&2; missing "database for the demo at ${url%%@*}@…"; break ;;
            esac
        fi
        [[ "$run" == reset ]] || grep -q "copied into .* it does not open" <<<"$out" || { echo "$out" >&2; echo "demo output incomplete" >&2; exit 1; }
    done
    echo "demo ok: ${url%%\?*}"
done

say "your first app (crates/fieldcrypt-sqlx/examples/first_app.rs) on SQLite, PostgreSQL and MariaDB"
for url in "sqlite://$demo_dir/first-app.db?mode=rwc" \
    "${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" \
    "${FIELDCRYPT_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"; do
    # Twice: the first run creates the keyring and its master key, the second reopens them.
    for run in 1 2; do
        if ! out="$(FIELDCRYPT_MASTER_KEY="$demo_dir/first-app-master.key" FIRST_APP_DIR="$demo_dir/first-app" \
            DATABASE_URL="$url" target/debug/examples/first_app 2>&1)"; then
            case "$url" in
                sqlite*) echo "$out" >&2; exit 1 ;;
                *) echo "$out" >&2; missing "database for the first app at ${url%%@*}@…"; break ;;
            esac
        fi
        grep -q 'found "  BOB@example.ORG ": user 2' <<<"$out" || { echo "$out" >&2; echo "first app output incomplete" >&2; exit 1; }
    done
    echo "first app ok: ${url%%\?*}"
done

say "rust tests (vector counts are printed as 'vectors: ...')"
cargo test --workspace --doc --locked
cargo test --workspace --all-targets --locked -- --nocapture 2>&1 | grep -v '^test .* \.\.\. ok$'
status="${PIPESTATUS[0]}"
[[ "$status" == 0 ]] || exit "$status"

say "the fieldcrypt-sqlx suite again on sqlx 0.9 (crates/fieldcrypt-sqlx/sqlx09, outside the workspace)"
cargo test --manifest-path crates/fieldcrypt-sqlx/sqlx09/Cargo.toml --locked -- --nocapture 2>&1 | grep -v '^test .* \.\.\. ok$'
[[ "${PIPESTATUS[0]}" == 0 ]] || exit 1

say "query! macros: the cached query data matches the live PostgreSQL schema"
if command -v psql >/dev/null; then
    bash scripts/sqlx-prepare.sh --check
else
    missing "psql (postgresql-client), to check crates/fieldcrypt-sqlx/.sqlx against the live schema"
fi

say "fieldcrypt-server with outside tools: schemathesis, a testssl.sh scan, the admin page in Chromium"
bash scripts/server-checks.sh

say "the fieldcrypt binary with the Vault and AWS KMS providers (against OpenBao and moto)"
cargo test -p fieldcrypt-cli --features vault,aws-kms --locked --test cli --test provider_settings -- --nocapture 2>&1 | grep -v '^test .* \.\.\. ok$'
[[ "${PIPESTATUS[0]}" == 0 ]] || exit 1

say "fieldcrypt-files with its tokio adapters (feature tokio)"
cargo test -p fieldcrypt-files --features tokio --locked --test tokio_io 2>&1 | grep -v '^test .* \.\.\. ok$'
[[ "${PIPESTATUS[0]}" == 0 ]] || exit 1

say "fieldcrypt-server with the AWS KMS provider (against moto)"
cargo test -p fieldcrypt-server --features aws-kms --locked --test kms -- --nocapture 2>&1 | grep -v '^test .* \.\.\. ok$'
exit "${PIPESTATUS[0]}"
