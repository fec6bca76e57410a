#!/usr/bin/env bash
# The query data the `query!` macros of crates/fieldcrypt-sqlx/tests/macros.rs compile against
# (crates/fieldcrypt-sqlx/.sqlx), written from the live PostgreSQL: what `cargo sqlx prepare`
# does, without installing sqlx-cli. Applies tests/macros_schema.sql first.
#
#   bash scripts/sqlx-prepare.sh           rewrite the cached data
#   bash scripts/sqlx-prepare.sh --check   fail if the cached data differs from the live schema's
#
# FIELDCRYPT_TEST_POSTGRES_URL names the server (default: the local one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
url="${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cache=crates/fieldcrypt-sqlx/.sqlx
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

psql -q -v ON_ERROR_STOP=1 "$url" -f crates/fieldcrypt-sqlx/tests/macros_schema.sql >/dev/null
# Expanding the macros again, live, writes one file per query into SQLX_OFFLINE_DIR.
touch crates/fieldcrypt-sqlx/tests/macros.rs
DATABASE_URL="$url" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" \
    cargo build -q -p fieldcrypt-sqlx --test macros --locked
# The next build must expand them again from the cache, not keep this live expansion.
touch crates/fieldcrypt-sqlx/tests/macros.rs

if [[ "${1:-}" == "--check" ]]; then
    if ! diff -r "$out" "$cache"; then
        echo "the query data in $cache is stale: run bash scripts/sqlx-prepare.sh and commit it" >&2
        exit 1
    fi
    echo "ok: $(ls "$out" | wc -l) cached queries match the live schema"
else
    rm -rf "$cache"
    cp -r "$out" "$cache"
    echo "wrote $(ls "$cache" | wc -l) queries to $cache"
fi
