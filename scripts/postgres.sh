# Sourced by .ci/run and scripts/test.sh: starts Debian's PostgreSQL cluster (installed by scripts/setup.sh) and
# makes the role and database the collector's tests use; exports ESPAT_TEST_PG. Idempotent. As root only (CI runs
# as root); otherwise set ESPAT_TEST_PG to a database you may create schemas in.
if [ -z "${ESPAT_TEST_PG:-}" ] && [ "$(id -u)" = 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
    read -r pg_version pg_name _ < <(pg_lsclusters --no-header 2>/dev/null; echo)
    if [ -z "$pg_version" ]; then
        pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
        pg_name=main
        pg_createcluster "$pg_version" "$pg_name" >/dev/null
    fi
    pg_row() { pg_lsclusters --no-header | awk -v v="$pg_version" -v c="$pg_name" '$1==v && $2==c'; }
    if ! pg_row | grep -q online; then
        echo "setup: starting PostgreSQL $pg_version/$pg_name" >&2
        pg_ctlcluster "$pg_version" "$pg_name" start
    fi
    pg_port=$(pg_row | awk '{print $3}')
    pg_ask() { runuser -u postgres -- psql -qAt -p "$pg_port" -c "$1"; }
    [ "$(pg_ask "SELECT 1 FROM pg_roles WHERE rolname='espat'")" = 1 ] ||
        runuser -u postgres -- psql -q -p "$pg_port" -c "CREATE ROLE espat LOGIN PASSWORD 'espat'"
    [ "$(pg_ask "SELECT 1 FROM pg_database WHERE datname='espat_test'")" = 1 ] ||
        runuser -u postgres -- createdb -p "$pg_port" -O espat espat_test
    export ESPAT_TEST_PG="postgresql://espat:espat@127.0.0.1:$pg_port/espat_test"
fi
