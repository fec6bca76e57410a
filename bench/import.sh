#!/usr/bin/env bash
# Throughput of `fieldcrypt import django` on PostgreSQL: a django-encrypted-model-fields column
# (Fernet tokens written by the library itself, tools/django_fixtures/generate.py --bulk) re-sealed
# in place, beside the plain-SQL baseline that rewrites the same column in the same run
# (`UPDATE t SET c2 = secret`), and beside the library's own read rate in Python (the ORM is not
# involved: its decrypt function over the same tokens, one process). Not a test; prints a table.
#
#   bash bench/import.sh [ROWS]          (default 1,000,000; FIELDCRYPT_TEST_POSTGRES_URL)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows="${1:-1000000}"
url="${FIELDCRYPT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
table=fc_bench_import
cargo build --release -q -p fieldcrypt-cli
bin="$PWD/target/release/fieldcrypt"
py="$(bash scripts/django-env.sh main | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$url" -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1 || true' EXIT
export FIELDCRYPT_KEYRING="$work/keyring.json" FIELDCRYPT_MASTER_KEY="$work/master.key"
"$bin" keyring init >/dev/null

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):,.0f}')" "$rows" "$1" "$2"; }

"$py" tools/django_fixtures/generate.py --library emf --bulk "$rows" --database-url "$url" \
    --table "$table" --out "$work/manifest.json" >/dev/null 2>&1
python3 - "$work/manifest.json" "$work/settings.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
json.dump({"FIELD_ENCRYPTION_KEY": m["settings"]["FIELD_ENCRYPTION_KEY"]}, open(sys.argv[2], "w"))
PY
psql -q "$url" -c "ALTER TABLE $table ADD COLUMN c2 TEXT" -c "VACUUM ANALYZE $table" >/dev/null

t0=$(now); psql -q "$url" -c "UPDATE $table SET c2 = secret" >/dev/null; t1=$(now)
baseline=$(rate "$t0" "$t1")
psql -q "$url" -c "UPDATE $table SET c2 = NULL" -c "VACUUM $table" >/dev/null

# The library's own decrypt over the same tokens, in Python (what a Django-side re-encryption
# script pays before it writes anything).
python_rate=$("$py" - "$url" "$table" "$work/manifest.json" <<'PY'
import json, sys, time
import django
from django.conf import settings
m = json.load(open(sys.argv[3]))
settings.configure(FIELD_ENCRYPTION_KEY=m["settings"]["FIELD_ENCRYPTION_KEY"], INSTALLED_APPS=[])
django.setup()
from encrypted_model_fields.fields import decrypt_str
import psycopg
with psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://")) as conn:
    tokens = [r[0] for r in conn.execute(f"SELECT secret FROM {sys.argv[2]}")]
t0 = time.perf_counter()
for t in tokens:
    decrypt_str(t)
print(f"{len(tokens) / (time.perf_counter() - t0):,.0f}")
PY
)

t0=$(now); "$bin" import django --flavor encrypted-model-fields --settings "$work/settings.json" \
    --database-url "$url" --table "$table" --column secret >"$work/import.txt" 2>/dev/null; t1=$(now)
import=$(rate "$t0" "$t1")

echo "PostgreSQL, $rows rows of django-encrypted-model-fields tokens, release build:"
printf '%-62s %12s rows/s\n' "UPDATE t SET c2 = secret (baseline)" "$baseline" \
    "Python: the library's decrypt_str alone (no writes)" "$python_rate" \
    "fieldcrypt import django (in place, whole command + verify)" "$import"
sed 's/^/  /' "$work/import.txt"
