#!/usr/bin/env bash
# Streams, files and backups, each beside its baseline measured in the same run. Not a test;
# prints tables (docs/BACKUPS.md "Speed" keeps the last run's figures).
#
#   bash bench/files.sh [MIB] [ROWS]     (defaults 1024 MiB and 1,000,000 rows)
#
# 1. In memory: SealWriter and OpenReader against raw AES-256-GCM over the same bytes.
# 2. Files on disk: `fieldcrypt file seal|open` against `age -p` and `gpg --symmetric` (AES256,
#    no compression) on the same file, with each one's peak memory (GNU time's max RSS).
# 3. A 1,000,000-row PostgreSQL table: `fieldcrypt backup` against `pg_dump -Fc` to a file,
#    and the same on MariaDB against `mariadb-dump`.
# Needs age, gpg and GNU time (installed through apt-get when missing).
# BENCH_JSON=FILE also writes the figures as JSON (bench/report.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mib="${1:-1024}"
rows="${2:-1000000}"
pg="${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
my="${FIELDCRYPT_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"

need=()
command -v age >/dev/null || need+=(age)
command -v gpg >/dev/null || need+=(gpg)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
    sudo=""; [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
fi

cargo build --release -q -p fieldcrypt-cli
cargo build --release -q -p fieldcrypt-files --example stream_throughput
bin="$PWD/target/release/fieldcrypt"
work="$(mktemp -d "${BENCH_DIR:-/tmp}/fc-bench-files.XXXXXX")"
trap 'rm -rf "$work"; psql -q "$pg" -c "DROP TABLE IF EXISTS fc_bench_backup" >/dev/null 2>&1 || true; mariadb -h 127.0.0.1 -u root test -e "DROP TABLE IF EXISTS fc_bench_backup" >/dev/null 2>&1 || true' EXIT
export FIELDCRYPT_KEYRING="$work/keyring.json" FIELDCRYPT_MASTER_KEY="$work/master.key"
"$bin" keyring init >/dev/null 2>&1

echo "== 1. in memory"
target/release/examples/stream_throughput "$mib" | tee "$work/memory.txt"

echo
echo "== 2. files: $mib MiB of random bytes, page cache warm, best of 3 (seconds, peak RSS)"
head -c "$((mib << 20))" /dev/urandom >"$work/plain"
cat "$work/plain" >/dev/null
# Runs a command three times; prints the best wall time, its rate and that run's max RSS in MiB,
# and records them under KEY for BENCH_JSON.
measure() { # KEY LABEL COMMAND...
    local key="$1" label="$2" best="" rss="" rate
    shift 2
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 </dev/null
        read -r t kb <"$work/time"
        if [[ -z "$best" ]] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; rss="$((kb / 1024))"; fi
    done
    best="$(awk "BEGIN{print ($best > 0.01 ? $best : 0.01)}")"
    rate="$(awk "BEGIN{print $mib * 1.048576 / $best}")"
    printf '%-44s %8.2f s  %7.0f MB/s  %5s MiB\n' "$label" "$best" "$rate" "$rss"
    echo "$key $best $rate $rss" >>"$work/files.txt"
}
age_key="$work/age.key"
age-keygen -o "$age_key" 2>/dev/null
age_recipient="$(age-keygen -y "$age_key")"
measure fieldcrypt_seal "fieldcrypt file seal" "$bin" file seal "$work/plain" --out "$work/plain.fcs"
measure fieldcrypt_open "fieldcrypt file open" "$bin" file open "$work/plain.fcs" --out "$work/plain.out"
cmp "$work/plain" "$work/plain.out"
measure age_encrypt "age -r (X25519, ChaCha20-Poly1305)" age -r "$age_recipient" -o "$work/plain.age" "$work/plain"
measure age_decrypt "age -d" age -d -i "$age_key" -o "$work/plain.age.out" "$work/plain.age"
gpg_opts=(--batch --yes --quiet --pinentry-mode loopback --passphrase bench --homedir "$work/gnupg")
mkdir -m 700 -p "$work/gnupg"
measure gpg_encrypt "gpg --symmetric (AES256, no compression)" gpg "${gpg_opts[@]}" --symmetric --cipher-algo AES256 --compress-algo none -o "$work/plain.gpg" "$work/plain"
measure gpg_decrypt "gpg --decrypt" gpg "${gpg_opts[@]}" --decrypt -o "$work/plain.gpg.out" "$work/plain.gpg"
measure cp "cp (the disk's own cost)" cp "$work/plain" "$work/plain.cp"
rm -f "$work"/plain*

echo
echo "== 3. backups of a $rows-row table (seconds, best of 3)"
psql -q "$pg" >/dev/null <<SQL
DROP TABLE IF EXISTS fc_bench_backup;
CREATE TABLE fc_bench_backup AS SELECT g AS id, 'customer-' || g || '@example.org' AS email, md5(g::text) AS note, g * 3 AS amount FROM generate_series(1, $rows) g;
SQL
pg_dump_url="${pg}"
best_of() {
    local best=""
    for _ in 1 2 3; do
        local t0 t1 t
        t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
        t=$(awk "BEGIN{print $t1 - $t0}")
        if [[ -z "$best" ]] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; fi
    done
    echo "$best"
}
pg_plain=$(best_of pg_dump -Fc --dbname "$pg_dump_url" -t fc_bench_backup -f "$work/pg.dump")
pg_whole_plain=$(best_of pg_dump -Fc --dbname "$pg_dump_url" -f "$work/pg.dump")
pg_fc=$(best_of "$bin" backup --database-url "$pg" --out "$work/pg.fcbk")
printf '%-44s %8.2f s\n' "pg_dump -Fc (database test, to a file)" "$pg_whole_plain"
printf '%-44s %8.2f s  (%.2fx)\n' "fieldcrypt backup (database test)" "$pg_fc" "$(awk "BEGIN{print $pg_fc / $pg_whole_plain}")"
echo "  (of which the $rows-row table alone takes pg_dump $pg_plain s)"

mariadb -h 127.0.0.1 -u root test >/dev/null <<SQL
DROP TABLE IF EXISTS fc_bench_backup;
CREATE TABLE fc_bench_backup (id BIGINT PRIMARY KEY, email TEXT, note TEXT, amount BIGINT);
SET SESSION max_recursive_iterations = $rows;
INSERT INTO fc_bench_backup WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $rows) SELECT n, CONCAT('customer-', n, '@example.org'), MD5(n), n * 3 FROM g;
SQL
my_plain=$(best_of mariadb-dump --single-transaction --routines --triggers --hex-blob --default-character-set=utf8mb4 -h 127.0.0.1 -u root test --result-file="$work/my.sql")
my_fc=$(best_of "$bin" backup --database-url "$my" --out "$work/my.fcbk")
printf '%-44s %8.2f s\n' "mariadb-dump (database test, to a file)" "$my_plain"
printf '%-44s %8.2f s  (%.2fx)\n' "fieldcrypt backup (database test)" "$my_fc" "$(awk "BEGIN{print $my_fc / $my_plain}")"
ls -l "$work"/*.dump "$work"/*.fcbk "$work"/*.sql | awk '{print "  " $5 " bytes  " $9}' | sed "s|$work/||"
# For bench/report.py: the same figures as JSON.
if [[ -n "${BENCH_JSON:-}" ]]; then
    python3 - "$work/memory.txt" "$work/files.txt" "$mib" "$rows" "$pg_whole_plain" "$pg_fc" "$my_plain" "$my_fc" >"$BENCH_JSON" <<'PY'
import json, re, sys
memory_txt, files_txt, mib, rows, pg_plain, pg_fc, my_plain, my_fc = sys.argv[1:]
memory = {}
for line in open(memory_txt):
    m = re.match(r"\s+(.+?)\s+([0-9.]+) GB/s", line)
    if m:
        key = {"raw AES-256-GCM (aws-lc-rs, in place)": "raw_in_place", "raw AES-256-GCM, streamed (copy, seal)": "raw_streamed",
               "SealWriter": "seal_writer", "OpenReader": "open_reader"}.get(m.group(1))
        if key:
            memory[key + "_gb_per_s"] = float(m.group(2))
files = {}
for line in open(files_txt):
    key, seconds, rate, rss = line.split()
    files[key] = {"seconds": float(seconds), "mb_per_s": float(rate), "max_rss_mib": int(rss)}
print(json.dumps({"mib": int(mib), "rows": int(rows), "memory": memory, "files": files,
                  "backups": {"pg_dump_s": float(pg_plain), "fieldcrypt_backup_postgres_s": float(pg_fc),
                              "mariadb_dump_s": float(my_plain), "fieldcrypt_backup_mariadb_s": float(my_fc)}}))
PY
fi
