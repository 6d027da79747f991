#!/usr/bin/env bash
# Loads every schema fixture into a real server and checks it: once with the
# prefix ost_ and once with helpdesk_, the seed directory on top, the column
# count and the place of ticket.number per shape, and osTicket's way of
# creating a ticket (an INSERT naming only some columns, then an UPDATE) in
# strict SQL mode.
#
# Usage: integration/check-fixtures.sh [PORT]     (default 33310)
#   CHECK_MYSQL=1 also checks against MySQL 9.7 on PORT+1 when it is installed.
#
# Starts its servers in a temporary directory and stops them on exit.
# Prints one line per shape and prefix; exits non-zero on the first failure.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
servers="$here/servers.sh"
fixtures="$here/fixtures"
port=${1:-33310}
work=$(mktemp -d /tmp/osticket-cdc-fixtures.XXXXXX)
trap '"$servers" stop "$work/mariadb" >/dev/null; "$servers" stop "$work/mysql" >/dev/null 2>&1; rm -rf "$work"' EXIT

# Expected shape: columns in ticket, department, help_topic, then the position
# of ticket.number and the type of help_topic.dept_id.
declare -A shapes=(
    [schema-1.10.sql]="25 17 20 2 int"
    [schema-1.14.sql]="27 18 19 3 int"
    [schema-1.18.sql]="27 18 19 3 int"
    [schema-upgraded-1.7.sql]="27 18 19 6 tinyint"
)

fail() {
    echo "check-fixtures: $*" >&2
    exit 1
}

# Runs SQL from stdin (or -e) as root in database DB of the server in DIR.
sql() {
    local dir=$1
    shift
    "$servers" client "$dir" --default-character-set=utf8mb4 -N -B "$@"
}

load() {
    local dir=$1 db=$2 prefix=$3 file=$4
    sed "s/{prefix}/$prefix/g" "$fixtures/$file" | sql "$dir" "$db" ||
        fail "$file with prefix $prefix does not load"
}

check_shape() {
    local dir=$1 kind=$2 file=$3 prefix=$4 db ticket department topic number dept_type got
    read -r ticket department topic number dept_type <<<"${shapes[$file]}"
    db="fx_${prefix%_}_$(basename "$file" .sql | tr -c 'a-z0-9\n' '_')"

    # The schema and the seed load, and only prefixed tables appear.
    sql "$dir" -e "CREATE DATABASE \`$db\`"
    load "$dir" "$db" "$prefix" "$file"
    load "$dir" "$db" "$prefix" noise-tables.sql
    load "$dir" "$db" "$prefix" seed-directory.sql
    got=$(sql "$dir" -e "SELECT COUNT(*), SUM(table_name LIKE '${prefix}%') FROM information_schema.tables WHERE table_schema = '$db'")
    [[ $got == $'11\t11' ]] || fail "$db: expected 11 prefixed tables, got $got (count, prefixed)"

    # Column counts and the place of ticket.number differ between shapes.
    got=$(sql "$dir" -e "SELECT
        (SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '$db' AND table_name = '${prefix}ticket'),
        (SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '$db' AND table_name = '${prefix}department'),
        (SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '$db' AND table_name = '${prefix}help_topic'),
        (SELECT ordinal_position FROM information_schema.columns WHERE table_schema = '$db' AND table_name = '${prefix}ticket' AND column_name = 'number'),
        (SELECT data_type FROM information_schema.columns WHERE table_schema = '$db' AND table_name = '${prefix}help_topic' AND column_name = 'dept_id')")
    [[ $got == "$ticket"$'\t'"$department"$'\t'"$topic"$'\t'"$number"$'\t'"$dept_type" ]] ||
        fail "$db: expected shape '$ticket $department $topic $number $dept_type', got '$got'"

    # osTicket creates a ticket with one INSERT, then sets status and SLA.
    sql "$dir" "$db" <<SQL || fail "$db: osTicket's ticket creation fails"
SET SESSION sql_mode = 'STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO';
INSERT INTO \`${prefix}ticket\` SET number = '481516', user_id = 7, dept_id = 4, topic_id = 5,
    ip_address = '192.0.2.10', source = 'Web', created = NOW(), lastupdate = NOW(), updated = NOW();
SET @ticket_id = LAST_INSERT_ID();
UPDATE \`${prefix}ticket\` SET status_id = 1, sla_id = 1, est_duedate = NOW() + INTERVAL 2 DAY
    WHERE ticket_id = @ticket_id;
SQL

    # The directory arrived intact: nesting, quotes and accents.
    got=$(sql "$dir" "$db" -e "SELECT CONCAT_WS('|', d.name, t.topic, k.status_id, k.number)
        FROM \`${prefix}ticket\` k, \`${prefix}department\` d, \`${prefix}help_topic\` t
        WHERE d.id = 6 AND t.topic_id = 6")
    [[ $got == "L'équipe \"Qualité\"|Café \"Crème\" l'été|1|481516" ]] ||
        fail "$db: seed or ticket row read back as '$got'"
    echo "ok $file prefix=$prefix on $kind (db $db)"
}

check_server() {
    local dir=$1 kind=$2 file prefix
    for file in $(printf "%s\n" "${!shapes[@]}" | sort); do
        for prefix in ost_ helpdesk_; do
            check_shape "$dir" "$kind" "$file" "$prefix"
        done
    done
}

"$servers" start-mariadb "$work/mariadb" "$port" >/dev/null
check_server "$work/mariadb" mariadb

if [[ ${CHECK_MYSQL:-0} == 1 ]]; then
    if "$servers" start-mysql "$work/mysql" "$((port + 1))" >/dev/null; then
        check_server "$work/mysql" mysql
    else
        echo "skipped MySQL 9.7: not installed or not starting"
    fi
fi
echo "all fixtures passed"
