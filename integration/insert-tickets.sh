#!/usr/bin/env bash
# Creates N tickets the way osTicket does, with the mariadb client on one
# connection and no transaction around them, so each statement autocommits:
# a session write, the INSERT into <prefix>ticket, thread, form data and
# search rows, then the UPDATEs that set status, SLA and due date. Every
# tenth ticket also logs to syslog. Departments and topics cycle through the
# ids of fixtures/seed-directory.sql (topic 0 means none).
#
# Usage: integration/insert-tickets.sh TARGET N [PREFIX]
#   TARGET  a PORT on 127.0.0.1 (user cdc, password cdc, database osticket)
#           or a URL mysql://USER:PASSWORD@HOST:PORT/DATABASE
#   PREFIX  table prefix, default ost_
# With --sql in place of TARGET, prints the statements instead of running them.

set -euo pipefail

DEPARTMENTS=(1 2 3 4 5 6 7)
TOPICS=(0 1 2 3 4 5 6 7)

usage() {
    echo "usage: insert-tickets.sh PORT|mysql://USER:PASSWORD@HOST:PORT/DB|--sql N [PREFIX]" >&2
    exit 2
}

# Prints the statements that create tickets FIRST..FIRST+N-1 (by number).
ticket_sql() {
    local prefix=$1 first=$2 count=$3 i number user ip dept topic
    echo "SET NAMES utf8mb4;"
    for ((i = first; i < first + count; i++)); do
        number=$(printf '%06d' "$i") user=$((i % 5 + 1)) ip="192.0.2.$((i % 250 + 1))"
        dept=${DEPARTMENTS[i % ${#DEPARTMENTS[@]}]} topic=${TOPICS[i % ${#TOPICS[@]}]}
        cat <<SQL
INSERT INTO \`${prefix}session\` SET session_id = 'insert-tickets-$user', session_data = 'token|$number',
  session_expire = NOW() + INTERVAL 1 DAY, session_updated = NOW(), user_id = '$user', user_ip = '$ip',
  user_agent = 'insert-tickets.sh'
  ON DUPLICATE KEY UPDATE session_data = 'token|$number', session_updated = NOW();
INSERT INTO \`${prefix}ticket\` SET number = '$number', user_id = $user, dept_id = $dept, topic_id = $topic,
  ip_address = '$ip', source = 'Web', created = NOW(), lastupdate = NOW(), updated = NOW();
SET @ticket_id = LAST_INSERT_ID();
INSERT INTO \`${prefix}thread\` SET object_id = @ticket_id, object_type = 'T', created = NOW();
SET @thread_id = LAST_INSERT_ID();
INSERT INTO \`${prefix}thread_entry\` SET thread_id = @thread_id, user_id = $user, type = 'M',
  poster = 'Test User $user', source = 'Web', title = 'Test ticket $number',
  body = 'Created by insert-tickets.sh', format = 'text', ip_address = '$ip', created = NOW(), updated = NOW();
INSERT INTO \`${prefix}ticket__cdata\` SET ticket_id = @ticket_id, subject = 'Test ticket $number', priority = '2';
INSERT INTO \`${prefix}_search\` SET object_type = 'T', object_id = @ticket_id, title = '$number Test ticket $number', content = '';
UPDATE \`${prefix}ticket\` SET status_id = 1, sla_id = 1, est_duedate = NOW() + INTERVAL 2 DAY, updated = NOW()
  WHERE ticket_id = @ticket_id;
UPDATE \`${prefix}ticket\` SET lastupdate = NOW() WHERE ticket_id = @ticket_id;
UPDATE \`${prefix}thread\` SET lastmessage = NOW() WHERE id = @thread_id;
SQL
        if ((i % 10 == 0)); then
            echo "INSERT INTO \`${prefix}syslog\` SET log_type = 'Debug', title = 'Ticket created', log = 'Ticket #$number created', logger = '', ip_address = '$ip', created = NOW(), updated = NOW();"
        fi
    done
}

[[ $# -eq 2 || $# -eq 3 ]] || usage
target=$1 count=$2 prefix=${3:-ost_}
[[ $count =~ ^[0-9]+$ ]] || usage

if [[ $target == --sql ]]; then
    ticket_sql "$prefix" 1 "$count"
    exit 0
elif [[ $target =~ ^[0-9]+$ ]]; then
    user=cdc password=cdc host=127.0.0.1 port=$target database=osticket
elif [[ $target =~ ^mysql://([^:@/]+):([^@/]*)@([^:/]+):([0-9]+)/([^/?]+)$ ]]; then
    user=${BASH_REMATCH[1]} password=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]}
    port=${BASH_REMATCH[4]} database=${BASH_REMATCH[5]}
else
    usage
fi

# The password travels in the environment, not on a command line.
client() {
    MYSQL_PWD=$password mariadb --no-defaults --default-character-set=utf8mb4 -N -B \
        -h "$host" -P "$port" -u "$user" "$database" "$@"
}

# Numbers continue after the highest ticket_id, so repeated runs stay distinct.
first=$(client -e "SELECT COALESCE(MAX(ticket_id), 0) + 1 FROM \`${prefix}ticket\`")
ticket_sql "$prefix" "$first" "$count" | client
last=$(client -e "SELECT COALESCE(MAX(ticket_id), 0) FROM \`${prefix}ticket\`")
echo "inserted $count tickets into $database.${prefix}ticket on $host:$port (highest ticket_id now $last)"
