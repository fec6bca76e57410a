#!/usr/bin/env bash
# Builds the fieldcrypt Python package (crates/fieldcrypt-py, PyO3 + maturin, abi3; with the
# `fieldcrypt` command) into the
# project venv and prints that venv's python on the last line. Installs maturin and pytest into
# the venv if they are missing (pinned in crates/fieldcrypt-py/requirements-dev.txt).
#
#   bash scripts/python-package.sh
#
# FIELDCRYPT_WHEEL_PROFILE=debug builds both the module and the command unoptimised, reusing what
# the test run's debug builds compiled (scripts/test.sh does this: the same code, minutes less of
# release compilation of the AWS SDK, twice). The default is release, as a published wheel is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="$(bash scripts/python-env.sh | tail -n 1)"
bin="$(dirname "$PY")"
"$PY" -m pip install --quiet --disable-pip-version-check -r crates/fieldcrypt-py/requirements-dev.txt >&2
rm -rf target/wheels
# The `fieldcrypt` command goes into the wheel (maturin's `data` directory, scripts/), so that
# `pip install fieldcrypt` installs it without a Rust toolchain: a release build, stripped.
profile="${FIELDCRYPT_WHEEL_PROFILE:-release}"
case "$profile" in
    release) release=(--release) ;;
    debug) release=() ;;
    *) echo "FIELDCRYPT_WHEEL_PROFILE is release or debug, not '$profile'" >&2; exit 2 ;;
esac
cargo build "${release[@]}" --locked --quiet -p fieldcrypt-cli --features vault,aws-kms >&2
install -D -m 0755 "target/$profile/fieldcrypt" crates/fieldcrypt-py/wheel-data/scripts/fieldcrypt
strip crates/fieldcrypt-py/wheel-data/scripts/fieldcrypt 2>/dev/null || true
"$bin/maturin" build "${release[@]}" --quiet --manifest-path crates/fieldcrypt-py/Cargo.toml --out target/wheels >&2
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/fieldcrypt-*.whl >&2
echo "$PY"
