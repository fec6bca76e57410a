#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, checking first (dpkg -s), so a machine that
# has them runs no apt-get at all:
#   libmariadb-dev  mysqlclient (Django's MariaDB driver) builds against it
#   chromium        the admin page's browser test (driven by playwright-core)
#   testssl.sh      the TLS scan of fieldcrypt-server's listener
#   wrk             the server load benchmark (bench/server_load.sh; not run by the tests)
#   postgresql-client, mariadb-client
#                   pg_dump/pg_restore and mariadb-dump/mariadb for `fieldcrypt backup` and restore
#
#   bash scripts/system-deps.sh
set -euo pipefail
need=()
for pkg in libmariadb-dev chromium testssl.sh wrk postgresql-client mariadb-client; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [[ ${#need[@]} -eq 0 ]]; then
    exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
sudo=""
[[ "$(id -u)" -eq 0 ]] || sudo="sudo"
$sudo apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
