#!/usr/bin/env bash
# Benchmark (not a test): how fast the connector turns an osTicket binlog
# into records, beside the time the server's own client needs to pull the
# same binlog raw.
#
# 1. starts a private MariaDB and fills its binlog with TICKETS tickets
#    created the osTicket way, each surrounded by noise rows (session,
#    thread, thread_entry, ticket__cdata, _search, syslog, follow-up UPDATEs);
# 2. pulls the whole binlog with `mariadb-binlog --read-from-remote-server
#    --raw` and times it;
# 3. runs the release build of osticket-cdc from the start of the binlog
#    (source.start = earliest, file sink) until the last record is written,
#    and times it.
#
# Usage: integration/bench.sh [TICKETS]      (default 100000)
# Prints the figures; the README keeps the latest ones.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tickets=${1:-100000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/osticket-cdc/target}"
integration/servers.sh install >/dev/null
cargo build --quiet --release --bin osticket-cdc
bin="$CARGO_TARGET_DIR/release/osticket-cdc"

work=$(mktemp -d /tmp/osticket-cdc-bench.XXXXXX)
connector=
cleanup() {
    [[ -n $connector ]] && kill "$connector" 2>/dev/null && wait "$connector" 2>/dev/null
    integration/servers.sh stop "$work/db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$(integration/quickstart-db.sh "$work/db" "$port" 2>/dev/null)

echo "filling the binlog with $tickets tickets and their noise..."
start=$(date +%s.%N)
integration/insert-tickets.sh --sql "$tickets" | integration/servers.sh client "$work/db" osticket
fill=$(echo "$(date +%s.%N) - $start" | bc)
binlog_bytes=$(du -cb "$work"/db/mariadb-data/mysql-bin.[0-9]* | tail -1 | cut -f1)
transactions=$(integration/servers.sh client "$work/db" -N -e "SELECT SUBSTRING_INDEX(@@gtid_binlog_pos, '-', -1)")
first=$(integration/servers.sh client "$work/db" -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)

echo "pulling the binlog raw with mariadb-binlog..."
mkdir "$work/raw"
start=$(date +%s.%N)
mariadb-binlog --no-defaults --read-from-remote-server --host=127.0.0.1 --port="$port" \
    --user=cdc --password=cdc --raw --to-last-log --result-file="$work/raw/" "$first"
raw=$(echo "$(date +%s.%N) - $start" | bc)

echo "running osticket-cdc from the start of the binlog..."
cat >"$work/bench.toml" <<TOML
[source]
url = "$url"
start = "earliest"
[checkpoint]
dir = "$work/state"
[sink]
type = "file"
path = "$work/records.jsonl"
[pipeline]
max_batch_records = 5000
[helpdesk]
code = "BENCH"
[tickets_creation]
# The plugin's reference output: JSON data, Base64, a JSON Kinesis record.
stream_name = "osticket-tickets"
TOML
start=$(date +%s.%N)
OSTICKET_CDC_LOG=warn "$bin" run --config "$work/bench.toml" 2>"$work/connector.log" &
connector=$!
peak_kb=0
written() { [[ -f $work/records.jsonl ]] && wc -l <"$work/records.jsonl" || echo 0; }
while (( $(written) < tickets )); do
    kill -0 "$connector" 2>/dev/null || { cat "$work/connector.log"; exit 1; }
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$connector/status" 2>/dev/null || echo 0)
    (( rss > peak_kb )) && peak_kb=$rss
    sleep 0.05
done
cdc=$(echo "$(date +%s.%N) - $start" | bc)
kill -TERM "$connector" && wait "$connector" || true
connector=

records=$(wc -l <"$work/records.jsonl")
printf '\n%-44s %s\n' "tickets in the binlog" "$tickets"
printf '%-44s %s\n' "binlog transactions (tickets and noise)" "$transactions"
printf '%-44s %.1f MB\n' "binlog size" "$(echo "$binlog_bytes / 1000000" | bc -l)"
printf '%-44s %.1f s\n' "filling the binlog" "$fill"
printf '%-44s %.2f s (%.0f MB/s)\n' "mariadb-binlog --read-from-remote-server --raw" "$raw" \
    "$(echo "$binlog_bytes / 1000000 / $raw" | bc -l)"
printf '%-44s %.2f s (%.0f tickets/s, %.0f transactions/s)\n' "osticket-cdc, start to last record" "$cdc" \
    "$(echo "$records / $cdc" | bc -l)" "$(echo "$transactions / $cdc" | bc -l)"
printf '%-44s %s\n' "records written" "$records"
printf '%-44s %.0f MB\n' "osticket-cdc peak resident memory" "$(echo "$peak_kb / 1024" | bc -l)"
