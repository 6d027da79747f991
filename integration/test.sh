#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing
# (Debian packages, the Python venv, MySQL 9.7 where it can be had), starts a
# MariaDB shared by the tests, checks formatting and lints, runs every test,
# and stops the servers it started.
#
# Usage: integration/test.sh [extra `cargo test` arguments]
#
# Build output goes to $CARGO_TARGET_DIR, by default a cache outside the
# checkout (~/.cache/osticket-cdc/target), so a second run does not rebuild
# RocksDB (10 to 17 minutes on 2 cores). Without the cache it is built.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/osticket-cdc/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

integration/servers.sh install
if ! integration/servers.sh install-mysql; then
    echo "note: MySQL 9.7 could not be installed here; the MySQL tests will print that they were skipped"
fi

dir=$(mktemp -d /tmp/osticket-cdc-test.XXXXXX)
cleanup() {
    integration/servers.sh stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
integration/servers.sh start-mariadb "$dir" "$port"
export OSTICKET_CDC_TEST_MARIADB_PORT=$port

cargo fmt --check
cargo clippy --all-targets -- -D warnings
integration/check-fixtures.sh
cargo test "$@"
