#!/usr/bin/env bash
# Benchmark (not a test) of each sink: file, beanstalk (beanstalkd with its
# write-ahead log, `-b`) and firehose (moto as a local Firehose with an S3
# destination). For each it prints:
#
# - records per second at full speed: BACKLOG tickets are created with no
#   connector running (integration/insert-tickets.sh, the osTicket way),
#   then the release build starts from the position before them; the time
#   is from the process start to the acknowledgement of the last record;
# - the time from a ticket's commit to the sink's acknowledgement of its
#   record, median and 99th percentile, with the connector running while
#   tickets are created: at a steady RATE tickets per second for SECS
#   seconds, then at full speed (as fast as one client connection creates
#   them, the osTicket way) for the same number of tickets.
#
# How the latency is measured: one client connection (the `mariadb`
# client fed by a small Python driver that paces the tickets) creates each
# ticket with the statements of integration/insert-tickets.sh and, right
# after the autocommitted ticket INSERT returns, runs
# `SELECT UNIX_TIMESTAMP(NOW(6))`: that server time is the ticket's commit
# time (late by at most one loopback round trip, so latencies are, if
# anything, slightly understated). The connector runs with
# `--log-format json` and the `batch acknowledged` debug event of
# src/pipeline/batcher.rs, logged right after the sink acknowledged a
# batch, with the batch's first sequence number and record count; the
# sequence numbers count the records from 1, so ticket k of a run is
# sequence k. latency(k) = time of the event acknowledging sequence k -
# commit time of ticket k. Server, client and connector share the clock.
#
# Usage: integration/bench-sinks.sh [BACKLOG [RATE [SECS]]]
#        (defaults 20000 tickets, 200 tickets/s, 30 s)
#   BENCH_SINKS="file beanstalk" picks sinks (default: file beanstalk firehose).
# Prints the figures; the README keeps the latest ones.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backlog=${1:-20000} rate=${2:-200} secs=${3:-30}
sinks=${BENCH_SINKS:-file beanstalk firehose}
steady=$((rate * secs))
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/osticket-cdc/target}"
venv="${OSTICKET_CDC_CACHE:-$HOME/.cache/osticket-cdc}/venv"
integration/servers.sh install >/dev/null
cargo build --quiet --release --bin osticket-cdc
bin="$CARGO_TARGET_DIR/release/osticket-cdc"

work=$(mktemp -d /tmp/osticket-cdc-bench-sinks.XXXXXX)
connector=
cleanup() {
    [[ -n $connector ]] && kill "$connector" 2>/dev/null && wait "$connector" 2>/dev/null
    integration/servers.sh stop "$work/servers" >/dev/null 2>&1 || true
    integration/servers.sh stop "$work/db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The servers: MariaDB with osTicket's tables, beanstalkd with its log, moto
# with a bucket and a delivery stream writing to it.
db_port=$(free_port) bs_port=$(free_port) moto_port=$(free_port)
url=$(integration/quickstart-db.sh "$work/db" "$db_port" 2>/dev/null)
integration/servers.sh start-beanstalkd "$work/servers" "$bs_port" >/dev/null
integration/servers.sh start-moto "$work/servers" "$moto_port" >/dev/null
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true
"$venv/bin/python" - "http://127.0.0.1:$moto_port" <<'PY'
import sys, boto3
url = sys.argv[1]
boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="bench")
boto3.client("firehose", endpoint_url=url, region_name="us-east-1").create_delivery_stream(
    DeliveryStreamName="bench",
    ExtendedS3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::123456789012:role/bench",
        "BucketARN": "arn:aws:s3:::bench",
    },
)
PY

# The ticket client: creates COUNT tickets at RATE per second (0: as fast
# as it can) on one `mariadb` connection and prints `k commit_time` per
# ticket, k counted from 1.
cat >"$work/client.py" <<'PY'
import subprocess, sys, time
count, rate, sql_cmd, client_cmd = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
sql = subprocess.run(sql_cmd.split() + [str(count)], check=True, capture_output=True, text=True).stdout
head, _, rest = sql.partition("\n")
blocks, k = [], 0
for line in rest.splitlines(keepends=True):
    if line.startswith("INSERT INTO `ost_session`"):
        blocks.append("")
    if line.startswith("SET @ticket_id = LAST_INSERT_ID();"):
        k += 1
        line = f"SELECT {k}, UNIX_TIMESTAMP(NOW(6));\n" + line
    blocks[-1] += line
assert len(blocks) == count == k, (len(blocks), count, k)
client = subprocess.Popen(client_cmd, stdin=subprocess.PIPE, text=True)
client.stdin.write(head + "\n")
start = time.monotonic()
for i, block in enumerate(blocks):
    if rate > 0:
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    client.stdin.write(block)
    client.stdin.flush()
client.stdin.close()
sys.exit(client.wait())
PY

# Latency and throughput from the connector's log and the commit times.
cat >"$work/analyze.py" <<'PY'
import bisect, datetime, json, sys
mode, log = sys.argv[1], sys.argv[2]
acks = []  # (first sequence, records, time)
commits = []  # from an acknowledgement to its checkpoint's commit, ms
for line in open(log):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    fields = event.get("fields", {})
    t = datetime.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
    if fields.get("message") == "batch acknowledged":
        acks.append((fields["first_sequence"], fields["records"], t))
    elif fields.get("message") == "checkpoint committed" and fields.get("records") and acks:
        commits.append((t - acks[-1][2]) * 1000)
acks.sort()
def ack_of(seq):
    i = bisect.bisect_right([a[0] for a in acks], seq) - 1
    first, records, t = acks[i]
    assert first <= seq < first + records, f"sequence {seq} was never acknowledged"
    return t
if mode == "throughput":
    records, start = int(sys.argv[3]), float(sys.argv[4])
    last = ack_of(records)
    print(f"{records / (last - start):.0f} records/s ({records} in {last - start:.2f} s, "
          f"{len(acks)} batches)")
elif mode == "latency":
    commit_times, base = sys.argv[3], int(sys.argv[4])
    times = [tuple(map(float, l.split())) for l in open(commit_times) if l.strip()]
    lat = sorted((ack_of(base + int(k)) - c) * 1000 for k, c in times)
    span = times[-1][1] - times[0][1]
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    print(f"median {pct(50):.1f} ms, p99 {pct(99):.1f} ms, max {lat[-1]:.1f} ms "
          f"({len(lat)} tickets at {len(lat) / span:.0f} tickets/s)")
elif mode == "checkpoint":
    commits.sort()
    print(f"median {commits[len(commits) // 2]:.1f} ms, p99 "
          f"{commits[min(len(commits) - 1, len(commits) * 99 // 100)]:.1f} ms, "
          f"max {commits[-1]:.1f} ms ({len(commits)} checkpoints)")
PY

binlog_end() {
    integration/servers.sh client "$work/db" -N -B -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'
}
acknowledged() { # LOG -> highest acknowledged sequence
    python3 -c '
import json, sys
top = 0
for line in open(sys.argv[1]):
    if "batch acknowledged" in line:
        f = json.loads(line)["fields"]
        top = max(top, f["first_sequence"] + f["records"] - 1)
print(top)' "$1"
}
# Writes a configuration for SINK into DIR, starting at START.
write_config() {
    local sink=$1 dir=$2 start=$3 sink_toml data
    case $sink in
        file) sink_toml="type = \"file\"
path = \"$dir/records\"" ;;
        beanstalk) sink_toml="type = \"beanstalk\"
host = \"127.0.0.1\"
port = $bs_port
tube = \"bench-$(basename "$dir")\"" ;;
        firehose) sink_toml="type = \"firehose\"
delivery_stream = \"bench\"
endpoint_url = \"http://127.0.0.1:$moto_port\"" ;;
    esac
    # Firehose takes the data serializer's output: NDJSON keeps records
    # apart in S3. The others get the plugin's reference record.
    data=json
    [[ $sink == firehose ]] && data=ndjson
    mkdir -p "$dir"
    cat >"$dir/bench.toml" <<TOML
[source]
url = "$url"
start = "$start"
[checkpoint]
dir = "$dir/state"
[sink]
$sink_toml
[helpdesk]
code = "BENCH"
[tickets_creation]
stream_name = "osticket-tickets"
data_serializer = "$data"
extra_fields = ["sequence"]
TOML
}
# Starts the connector on DIR's configuration; sets $connector, $started.
start_connector() {
    started=$(date +%s.%N)
    OSTICKET_CDC_LOG=info,osticket_cdc::pipeline::batcher=debug \
        "$bin" run --config "$1/bench.toml" --log-format json 2>>"$1/connector.log" &
    connector=$!
}
stop_connector() {
    kill -TERM "$connector" 2>/dev/null || true
    wait "$connector" || true
    connector=
}
# Waits until DIR's connector acknowledged sequence N.
wait_for() {
    while (( $(acknowledged "$1/connector.log") < $2 )); do
        kill -0 "$connector" 2>/dev/null || { tail "$1/connector.log"; exit 1; }
        sleep 0.2
    done
}
tickets() { # COUNT RATE OUT
    python3 "$work/client.py" "$1" "$2" "integration/insert-tickets.sh --sql" \
        integration/servers.sh client "$work/db" -N -B --unbuffered osticket >"$3"
}

declare -A results
for sink in $sinks; do
    echo "$sink: backlog of $backlog tickets..." >&2
    start=$(binlog_end)
    integration/insert-tickets.sh "$db_port" "$backlog" >/dev/null
    write_config "$sink" "$work/$sink-backlog" "$start"
    start_connector "$work/$sink-backlog"
    wait_for "$work/$sink-backlog" "$backlog"
    stop_connector
    results[$sink,backlog]=$(python3 "$work/analyze.py" throughput \
        "$work/$sink-backlog/connector.log" "$backlog" "$started")

    echo "$sink: $rate tickets/s for $secs s, then $steady at full speed..." >&2
    write_config "$sink" "$work/$sink-live" "$(binlog_end)"
    start_connector "$work/$sink-live"
    until grep -qs '"first start: snapshot taken"' "$work/$sink-live/connector.log"; do sleep 0.1; done
    sleep 1
    tickets "$steady" "$rate" "$work/$sink-steady.commits"
    wait_for "$work/$sink-live" "$steady"
    tickets "$steady" 0 "$work/$sink-full.commits"
    wait_for "$work/$sink-live" $((2 * steady))
    stop_connector
    results[$sink,steady]=$(python3 "$work/analyze.py" latency \
        "$work/$sink-live/connector.log" "$work/$sink-steady.commits" 0)
    results[$sink,full]=$(python3 "$work/analyze.py" latency \
        "$work/$sink-live/connector.log" "$work/$sink-full.commits" "$steady")
    results[$sink,checkpoint]=$(python3 "$work/analyze.py" checkpoint \
        "$work/$sink-live/connector.log")
done

echo
for sink in $sinks; do
    printf '%-10s %-34s %s\n' "$sink" "backlog, start to last ack" "${results[$sink,backlog]}"
    printf '%-10s %-34s %s\n' "" "commit to ack, $rate tickets/s" "${results[$sink,steady]}"
    printf '%-10s %-34s %s\n' "" "commit to ack, full speed" "${results[$sink,full]}"
    printf '%-10s %-34s %s\n' "" "ack to checkpoint committed" "${results[$sink,checkpoint]}"
done
printf '\nload average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
