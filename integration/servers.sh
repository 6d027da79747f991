#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Installs and runs the real servers that osticket-cdc's integration tests talk
# to: MariaDB 10.11 (Debian), optionally MySQL 9.7, beanstalkd, and moto as a
# local Kinesis Data Firehose. Every server listens on 127.0.0.1 only and lives
# in a directory of the caller's choosing.
#
# As a command:
#   servers.sh install                         Debian packages and the Python venv
#   servers.sh install-mysql                   optional MySQL 9.7, unpacked privately
#   servers.sh start-mariadb DIR PORT [ARG...] ARGs go to mariadbd after ours
#   servers.sh start-mysql DIR PORT [ARG...]   ARGs go to mysqld after ours
#   servers.sh start-beanstalkd DIR PORT [--no-wal] [ARG...]
#                                              --no-wal: without -b (jobs in memory only)
#   servers.sh start-moto DIR PORT
#   servers.sh stop DIR                        stops the servers whose pids are in DIR
#   servers.sh status DIR
#   servers.sh client DIR [ARG...]             root client on DIR's database socket
#
# Sourced (`source integration/servers.sh`), it defines the same commands as
# functions: servers_install, servers_install_mysql, servers_start_mariadb, ...,
# servers_client. Each runs in a subshell, so it neither changes the caller's
# shell options nor exits the caller's shell.
#
# A server's options come first and extra arguments last; the server keeps the
# last value it is given, so `start-mariadb DIR PORT --binlog-format=STATEMENT`
# or `--binlog-row-metadata=NO_LOG` overrides ours. Setup statements (creating
# the user `cdc`) are kept out of the binlog, which starts empty for a test.
#
# A successful start prints one line, `mariadb ready on 127.0.0.1:PORT (pid N)`;
# a failed one prints the reason and the tail of the server's log on stderr.
# A new DIR gets a copy of a data directory initialized once per server version
# and kept in the cache (options that only matter at initialization, such as
# the page size, cannot be passed). Starting on an existing DIR restarts the
# server on the data it already has.
#
# Layout of DIR (one database server per DIR; beanstalkd and moto can share it):
#   mariadbd.pid mariadb.sock mariadb.err mariadb-data/   (binlogs: mysql-bin.*)
#   mysqld.pid   mysql.sock   mysql.err   mysql-data/     (binlogs: binlog.*)
#   beanstalkd.pid beanstalkd.log wal/    moto.pid moto.log
#
# Users on both databases: root without password on the socket; `cdc`@`%` and
# `cdc`@`127.0.0.1` with password `cdc`, replication and SELECT grants, and all
# privileges on *.* because tests create their own databases.
#
# Environment:
#   OSTICKET_CDC_CACHE   where the venv, MySQL and the data directory templates
#                        go (default ~/.cache/osticket-cdc)
#   OSTICKET_CDC_PYTHON  interpreter for the venv (default /usr/bin/python3)
#   OSTICKET_CDC_DEBIAN_MIRROR  for install-mysql (default http://deb.debian.org/debian)
#
# Exit codes: 0 done; 1 failed (reason on stderr); 2 usage error;
# 3 not installed (run `install`, or `install-mysql` for MySQL).

OSTICKET_CDC_CACHE="${OSTICKET_CDC_CACHE:-$HOME/.cache/osticket-cdc}"
SERVERS_LIB_DIR="$(dirname "${BASH_SOURCE[0]}")/lib"

# Debian packages the tests and the build need: libclang-dev for the RocksDB
# bindings, php to hold the PHP-exact codec against PHP itself.
SERVERS_APT_PACKAGES=(mariadb-server-core mariadb-client beanstalkd libclang-dev
    php8.2-cli php8.2-mbstring)
SERVERS_PIP_PACKAGES=('moto[s3,firehose]==5.2.5' flask flask-cors boto3)

# shellcheck source=lib/common.sh
source "$SERVERS_LIB_DIR/common.sh"
# shellcheck source=lib/install.sh
source "$SERVERS_LIB_DIR/install.sh"
# shellcheck source=lib/databases.sh
source "$SERVERS_LIB_DIR/databases.sh"

servers_start_beanstalkd() (
    servers::init
    [[ $# -ge 2 ]] || servers::usage "start-beanstalkd DIR PORT [--no-wal] [ARG...]"
    local dir port wal
    dir=$(servers::prepare_dir "$1" beanstalkd)
    port=$(servers::check_port "$2")
    shift 2
    servers::require beanstalkd "run \`servers.sh install\`"

    wal=(-b "$dir/wal")
    if [[ ${1:-} == --no-wal ]]; then
        wal=()
        shift
    fi
    mkdir -p "$dir/wal"
    servers::spawn "$dir" beanstalkd "$dir/beanstalkd.log" \
        beanstalkd -l 127.0.0.1 -p "$port" "${wal[@]}" "$@"
    servers::wait_ready "$dir" beanstalkd "$dir/beanstalkd.log" 10 \
        servers::port_open "$port"
    echo "beanstalkd ready on 127.0.0.1:$port (pid $(servers::pid_of "$dir" beanstalkd))"
)

servers_start_moto() (
    servers::init
    [[ $# -eq 2 ]] || servers::usage "start-moto DIR PORT"
    local dir port moto="$OSTICKET_CDC_CACHE/venv/bin/moto_server"
    dir=$(servers::prepare_dir "$1" moto)
    port=$(servers::check_port "$2")
    [[ -x $moto ]] || servers::not_installed "moto is not installed in $OSTICKET_CDC_CACHE/venv; run \`servers.sh install\`"

    servers::spawn "$dir" moto "$dir/moto.log" "$moto" -H 127.0.0.1 -p "$port"
    servers::wait_ready "$dir" moto "$dir/moto.log" 30 servers::port_open "$port"
    echo "moto ready on 127.0.0.1:$port (pid $(servers::pid_of "$dir" moto))"
)

# Stops every server recorded in DIR: TERM, up to 10 s for the pid to vanish or
# turn zombie, then KILL. Only pids whose working directory lies inside DIR are
# signalled, so a stale pid file never hits an unrelated process.
servers_stop() (
    servers::init
    [[ $# -eq 1 ]] || servers::usage "stop DIR"
    local dir pidfile name pid
    dir=$(servers::abs_dir "$1") || return 0

    for pidfile in "$dir"/*.pid; do
        [[ -e $pidfile ]] || continue
        name=$(basename "$pidfile" .pid) pid=$(<"$pidfile")
        if servers::owned_by "$pid" "$dir"; then
            servers::terminate "$pid"
            echo "$name stopped (pid $pid)"
        fi
        rm -f "$pidfile"
    done
)

servers_status() (
    servers::init
    [[ $# -eq 1 ]] || servers::usage "status DIR"
    local dir pidfile name pid all_up=0 found=0
    dir=$(servers::abs_dir "$1") || servers::die "no such directory: $1"

    for pidfile in "$dir"/*.pid; do
        [[ -e $pidfile ]] || continue
        found=1 name=$(basename "$pidfile" .pid) pid=$(<"$pidfile")
        if servers::owned_by "$pid" "$dir"; then
            echo "$name running (pid $pid)"
        else
            echo "$name not running (stale pid $pid)"
            all_up=1
        fi
    done
    [[ $found -eq 1 ]] || { echo "no servers in $dir"; return 1; }
    return "$all_up"
)

servers::main() {
    local command="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$command" in
        install) servers_install "$@" ;;
        install-mysql) servers_install_mysql "$@" ;;
        start-mariadb) servers_start_mariadb "$@" ;;
        start-mysql) servers_start_mysql "$@" ;;
        start-beanstalkd) servers_start_beanstalkd "$@" ;;
        start-moto) servers_start_moto "$@" ;;
        stop) servers_stop "$@" ;;
        status) servers_status "$@" ;;
        client) servers_client "$@" ;;
        *)
            sed -n '/^# As a command:/,/^#$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
            return 2
            ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    servers::main "$@"
fi
