#!/usr/bin/env bash
# Starts a private MariaDB holding an osTicket 1.18 database, ready for the
# connector to follow: database `osticket`, tables with prefix ost_ (or
# PREFIX), the seed departments and help topics. Prints the connection URL on
# stdout and the server's ready line on stderr.
#
# Usage: integration/quickstart-db.sh DIR PORT [PREFIX]
#   then: integration/insert-tickets.sh PORT 10
#   stop: integration/servers.sh stop DIR

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: quickstart-db.sh DIR PORT [PREFIX]" >&2
    exit 2
fi
dir=$1 port=$2 prefix=${3:-ost_}

"$here/servers.sh" start-mariadb "$dir" "$port" >&2
"$here/servers.sh" client "$dir" -e 'CREATE DATABASE osticket'
for fixture in schema-1.18.sql noise-tables.sql seed-directory.sql; do
    sed "s/{prefix}/$prefix/g" "$here/fixtures/$fixture" |
        "$here/servers.sh" client "$dir" --default-character-set=utf8mb4 osticket
done
echo "mysql://cdc:cdc@127.0.0.1:$port/osticket"
