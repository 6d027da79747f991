#!/usr/bin/env bash
# The connector's main job end to end on this machine: installs MariaDB,
# builds osticket-cdc, starts a local database with osTicket's tables,
# runs the connector (config/quickstart.toml, records on stdout), creates a
# few tickets the way osTicket does and shows their records, then stops
# everything it started.
#
# Usage: integration/quickstart.sh [TICKETS]     (default 5)
# Environment: QUICKSTART_PORT (default 3406) for the database.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tickets=${1:-5}
port=${QUICKSTART_PORT:-3406}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/osticket-cdc/target}"
work=.quickstart

integration/servers.sh install
echo "== building osticket-cdc (the first build compiles RocksDB: 10 to 17 minutes)"
# --all-targets: the same feature set as the tests, so RocksDB is built once for both.
cargo build --quiet --all-targets
bin="$CARGO_TARGET_DIR/debug/osticket-cdc"

integration/servers.sh stop "$work/db" >/dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$work"
connector=
cleanup() {
    [[ -n $connector ]] && kill "$connector" 2>/dev/null && wait "$connector" 2>/dev/null
    integration/servers.sh stop "$work/db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== starting MariaDB with osTicket 1.18's tables on 127.0.0.1:$port"
url=$(integration/quickstart-db.sh "$work/db" "$port")

echo "== starting the connector: osticket-cdc run --config config/quickstart.toml"
OSTICKET_CDC_SOURCE__URL="$url" "$bin" run --config config/quickstart.toml \
    >"$work/records.jsonl" 2>"$work/connector.log" &
connector=$!
for _ in $(seq 100); do
    grep -q "streaming binlog" "$work/connector.log" && break
    kill -0 "$connector" 2>/dev/null || { cat "$work/connector.log"; exit 1; }
    sleep 0.1
done

echo "== creating $tickets tickets"
integration/insert-tickets.sh "$port" "$tickets" >/dev/null
for _ in $(seq 100); do
    (( $(wc -l <"$work/records.jsonl") >= tickets )) && break
    sleep 0.1
done

echo "== the connector's records (one per ticket, in commit order):"
cat "$work/records.jsonl"
kill -TERM "$connector"
wait "$connector" && status=0 || status=$?
connector=
echo "== connector stopped (exit $status); its log is $work/connector.log"
(( $(wc -l <"$work/records.jsonl") == tickets ))
