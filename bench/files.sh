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
target/release/examples/stream_throughput "$mib"

echo
echo "== 2. files: $mib MiB of random bytes, page cache warm, best of 3 (seconds, peak RSS)"
head -c "$((mib << 20))" /dev/urandom >"$work/plain"
cat "$work/plain" >/dev/null
# Runs a command three times; prints the best wall time and that run's max RSS in MiB.
measure() {
    local best="" rss=""
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 </dev/null
        read -r t kb <"$work/time"
        if [[ -z "$best" ]] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; rss="$((kb / 1024))"; fi
    done
    printf '%8.2f s  %7.0f MB/s  %5s MiB' "$best" "$(awk "BEGIN{print $mib * 1.048576 / $best}")" "$rss"
}
age_key="$work/age.key"
age-keygen -o "$age_key" 2>/dev/null
age_recipient="$(age-keygen -y "$age_key")"
printf '%-44s %s\n' "fieldcrypt file seal" "$(measure "$bin" file seal "$work/plain" --out "$work/plain.fcs")"
printf '%-44s %s\n' "fieldcrypt file open" "$(measure "$bin" file open "$work/plain.fcs" --out "$work/plain.out")"
cmp "$work/plain" "$work/plain.out"
printf '%-44s %s\n' "age -r (X25519, ChaCha20-Poly1305)" "$(measure age -r "$age_recipient" -o "$work/plain.age" "$work/plain")"
printf '%-44s %s\n' "age -d" "$(measure age -d -i "$age_key" -o "$work/plain.age.out" "$work/plain.age")"
gpg_opts=(--batch --yes --quiet --pinentry-mode loopback --passphrase bench --homedir "$work/gnupg")
mkdir -m 700 -p "$work/gnupg"
printf '%-44s %s\n' "gpg --symmetric (AES256, no compression)" "$(measure gpg "${gpg_opts[@]}" --symmetric --cipher-algo AES256 --compress-algo none -o "$work/plain.gpg" "$work/plain")"
printf '%-44s %s\n' "gpg --decrypt" "$(measure gpg "${gpg_opts[@]}" --decrypt -o "$work/plain.gpg.out" "$work/plain.gpg")"
printf '%-44s %s\n' "cp (the disk's own cost)" "$(measure cp "$work/plain" "$work/plain.cp")"
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
