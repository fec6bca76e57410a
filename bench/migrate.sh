#!/usr/bin/env bash
# Throughput of the column jobs on PostgreSQL, each beside the plain-SQL baseline that rewrites
# the same column in the same run (`UPDATE t SET c2 = c`): encrypt-column in place with one blind
# index, then rotate the whole table to a new key, then rotate it again as two shards (two
# processes, `--shard 1/2` and `--shard 2/2`) against the same baseline. Not a test; prints a table.
#
#   bash bench/migrate.sh [ROWS]          (default 1,000,000; FIELDCRYPT_TEST_POSTGRES_URL)
#   BENCH_JSON=FILE also writes the figures as JSON (bench/report.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows="${1:-1000000}"
url="${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -q -p fieldcrypt-cli
bin="$PWD/target/release/fieldcrypt"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$url" -c "DROP TABLE IF EXISTS fc_bench_migrate" -c "DELETE FROM fieldcrypt_shards WHERE table_name = '"'"'fc_bench_migrate'"'"'" >/dev/null 2>&1 || true' EXIT
export FIELDCRYPT_KEYRING="$work/keyring.json" FIELDCRYPT_MASTER_KEY="$work/master.key"
"$bin" keyring init >/dev/null

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):,.0f}')" "$rows" "$1" "$2"; }

psql -q "$url" >/dev/null <<SQL
DROP TABLE IF EXISTS fc_bench_migrate;
CREATE TABLE fc_bench_migrate (id BIGINT PRIMARY KEY, email TEXT, c2 TEXT, email_idx BIGINT);
INSERT INTO fc_bench_migrate SELECT g, 'customer-' || g || '@example.org', NULL FROM generate_series(1, $rows) g;
VACUUM ANALYZE fc_bench_migrate;
SQL

t0=$(now); psql -q "$url" -c "UPDATE fc_bench_migrate SET c2 = email" >/dev/null; t1=$(now)
baseline=$(rate "$t0" "$t1")
psql -q "$url" -c "VACUUM fc_bench_migrate" >/dev/null

t0=$(now); "$bin" encrypt-column --database-url "$url" --table fc_bench_migrate --column email --index email_idx:nfkc,trim,casefold:16 ${FC_BENCH_ARGS:-} >"$work/encrypt.txt" 2>/dev/null; t1=$(now)
encrypt=$(rate "$t0" "$t1")
psql -q "$url" -c "VACUUM fc_bench_migrate" >/dev/null

t0=$(now); psql -q "$url" -c "UPDATE fc_bench_migrate SET c2 = email" >/dev/null; t1=$(now)
baseline2=$(rate "$t0" "$t1")
psql -q "$url" -c "VACUUM fc_bench_migrate" >/dev/null

"$bin" keyring rotate >/dev/null
t0=$(now); "$bin" rotate --database-url "$url" --table fc_bench_migrate --column email ${FC_BENCH_ARGS:-} >"$work/rotate.txt" 2>/dev/null; t1=$(now)
rotate=$(rate "$t0" "$t1")
psql -q "$url" -c "VACUUM fc_bench_migrate" >/dev/null

# The same rotation again, split between two processes.
psql -q "$url" -c "DELETE FROM fieldcrypt_shards WHERE table_name = 'fc_bench_migrate'" >/dev/null 2>&1 || true
"$bin" keyring rotate >/dev/null
t0=$(now)
for shard in 1 2; do
    "$bin" rotate --database-url "$url" --table fc_bench_migrate --column email --shard "$shard/2" ${FC_BENCH_ARGS:-} >"$work/rotate-shard$shard.txt" 2>/dev/null &
done
wait
t1=$(now)
rotate2=$(rate "$t0" "$t1")

# The write pass alone: the whole command's rate with the verification pass's seconds (from the
# job's own summary) taken out.
verify_s() { sed -n 's/^verification: .*(\([0-9.]*\) s)$/\1/p' "$1" | tail -n 1; }
pass_rate() { python3 -c "import sys; r, w, v = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'{r / (r / w - v):,.0f}')" "$rows" "${1//,/}" "$2"; }
share() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.0%}')" "${1//,/}" "${2//,/}"; }

echo "PostgreSQL, $rows rows, release build, whole command including the verification pass:"
printf '%-58s %12s rows/s\n' "UPDATE t SET c2 = email (plaintext rows, baseline)" "$baseline"
printf '%-58s %12s rows/s  %4s of baseline; write pass alone %s rows/s\n' \
    "fieldcrypt encrypt-column (in place, + 16-bit blind index)" "$encrypt" "$(share "$encrypt" "$baseline")" \
    "$(pass_rate "$encrypt" "$(verify_s "$work/encrypt.txt")")"
printf '%-58s %12s rows/s\n' "UPDATE t SET c2 = email (envelope rows, baseline)" "$baseline2"
printf '%-58s %12s rows/s  %4s of baseline; write pass alone %s rows/s\n' \
    "fieldcrypt rotate (every row to the new key)" "$rotate" "$(share "$rotate" "$baseline2")" \
    "$(pass_rate "$rotate" "$(verify_s "$work/rotate.txt")")"
printf '%-58s %12s rows/s  %4s of baseline; %s the rate of one process\n' \
    "fieldcrypt rotate as 2 shards (2 processes at once)" "$rotate2" "$(share "$rotate2" "$baseline2")" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "${rotate2//,/}" "${rotate//,/}")"
sed 's/^/  /' "$work/encrypt.txt" "$work/rotate.txt" "$work/rotate-shard1.txt" "$work/rotate-shard2.txt"
# For bench/report.py: the same figures as JSON.
if [[ -n "${BENCH_JSON:-}" ]]; then
    python3 - "$rows" "$baseline" "$encrypt" "$baseline2" "$rotate" "$rotate2" >"$BENCH_JSON" <<'PY'
import json, sys
rows, *rates = sys.argv[1:]
b1, enc, b2, rot, rot2 = (float(r.replace(",", "")) for r in rates)
print(json.dumps({"rows": int(rows), "update_plain_rows_per_s": b1, "encrypt_column_rows_per_s": enc,
                  "update_envelopes_rows_per_s": b2, "rotate_rows_per_s": rot,
                  "rotate_2_shards_rows_per_s": rot2}))
PY
fi
