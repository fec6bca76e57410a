#!/usr/bin/env bash
# One command for every same-run comparison: runs the benchmarks, each figure beside its baseline
# measured in the same run, and writes docs/BENCHMARKS.md with its plots (docs/img/bench-*.png).
# Not a test; takes about 25 minutes (--quick: about 10, with smaller tables and shorter runs).
#
#   bash bench/report.sh [--quick]
#
# 1. One value, by size: raw AES-256-GCM, the envelope value by value and in a batch
#    (`fieldcrypt bench --sizes`), and Python's Fernet (bench/fernet_bench.py) at the same sizes.
# 2. Whole tables through sqlx on PostgreSQL and SQLite against plaintext, and the Django ORM with
#    django-encrypted-model-fields on the same PostgreSQL (`customers bench`).
# 3. Column jobs against plain `UPDATE` (bench/migrate.sh), and two shards against one process.
# 4. fieldcrypt-server against OpenBao Transit (bench/server_load.sh, a shorter soak).
# 5. Files against age and gpg, backups against the dump tools (bench/files.sh, smaller sizes).
# Python parts run in .venv-bench (bench/requirements-report.txt), made here when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
quick=""
[[ "${1:-}" == "--quick" ]] && quick=1
if [[ -n "$quick" ]]; then
    seconds=0.3; rows=20000; job_rows=100000; fernet_iterations=20000
    server_seconds=3; soak_seconds=20; file_mib=64; backup_rows=50000
else
    seconds=1; rows=100000; job_rows=1000000; fernet_iterations=200000
    server_seconds=10; soak_seconds=60; file_mib=512; backup_rows=500000
fi
sizes=16,64,256,1024,4096,16384

venv=.venv-bench
req=bench/requirements-report.txt
want="$(cat bench/requirements.txt "$req" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "report: installing $req into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
    echo "$want" >"$venv/.requirements.sha256"
fi
py="$venv/bin/python"

echo "report: building (release)" >&2
cargo build --release -q --locked -p fieldcrypt-cli -p customers
out=target/bench-report
rm -rf "$out"
mkdir -p "$out"

echo "report: one value, by size" >&2
target/release/fieldcrypt bench --json --seconds "$seconds" --sizes "$sizes" >"$out/values.json"
for size in ${sizes//,/ }; do
    "$py" bench/fernet_bench.py --field-bytes "$size" --iterations "$fernet_iterations" >"$out/fernet-$size.json"
done

echo "report: whole tables ($rows rows)" >&2
target/release/customers bench --rows "$rows" --sqlite-path "$out/bench.db" \
    --django-python "$py" --json-out "$out/tables.json" >"$out/tables.txt"

echo "report: column jobs ($job_rows rows)" >&2
BENCH_JSON="$out/jobs.json" bash bench/migrate.sh "$job_rows" >"$out/jobs.txt"

echo "report: fieldcrypt-server against OpenBao" >&2
SECONDS_SAT="$server_seconds" SECONDS_HALF="$server_seconds" SECONDS_SOAK="$soak_seconds" \
    BENCH_JSON="$out/server.json" bash bench/server_load.sh >"$out/server.txt"

echo "report: files and backups ($file_mib MiB, $backup_rows rows)" >&2
BENCH_DIR="$PWD/target" BENCH_JSON="$out/files.json" bash bench/files.sh "$file_mib" "$backup_rows" >"$out/files.txt"

{
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
    echo "cores=$(nproc)"
    echo "memory=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "kernel=$(uname -r)"
    echo "rustc=$(rustc --version)"
    echo "postgres=$(psql -tA "${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" -c 'SHOW server_version' 2>/dev/null || echo unknown)"
    echo "sqlite=$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
    echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
    echo "date=$(date -u +%Y-%m-%d)"
    echo "quick=${quick:-0}"
    echo "command=bash bench/report.sh${quick:+ --quick}"
} >"$out/machine.txt"

"$py" bench/report.py "$out" docs/BENCHMARKS.md docs/img
echo "report: wrote docs/BENCHMARKS.md and docs/img/bench-*.png" >&2
