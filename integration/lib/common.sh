# shellcheck shell=bash
# Helpers for servers.sh: messages, directories, ports, and the life of
# a daemon (spawn in its own session, wait until ready, terminate).
# Sourced by servers.sh; every function expects `set -euo pipefail`.

# Called first by every public command, inside its subshell.
servers::init() {
    set -euo pipefail
    PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
}

servers::die() {
    echo "servers.sh: $*" >&2
    exit 1
}

servers::usage() {
    echo "usage: servers.sh $*" >&2
    exit 2
}

servers::not_installed() {
    echo "servers.sh: $*" >&2
    exit 3
}

servers::require() {
    command -v "$1" >/dev/null || servers::not_installed "$1 not found; $2"
}

# Prints DIR as an absolute path without symlinks; fails if it does not exist.
servers::abs_dir() {
    [[ -d $1 ]] && (cd "$1" && pwd -P)
}

# Creates DIR, checks that no server NAME already runs there, prints its path.
servers::prepare_dir() {
    local dir name=$2 pid
    mkdir -p "$1"
    dir=$(servers::abs_dir "$1")
    if [[ -e $dir/$name.pid ]]; then
        pid=$(<"$dir/$name.pid")
        if servers::owned_by "$pid" "$dir"; then
            servers::die "$name already runs in $dir (pid $pid); run \`servers.sh stop $dir\` first"
        fi
        rm -f "$dir/$name.pid"
    fi
    echo "$dir"
}

# Prints PORT if it is a free TCP port number on 127.0.0.1.
servers::check_port() {
    [[ $1 =~ ^[0-9]+$ && $1 -ge 1 && $1 -le 65535 ]] || servers::die "not a port number: $1"
    ! servers::port_open "$1" || servers::die "port $1 on 127.0.0.1 is already in use"
    echo "$1"
}

servers::port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

servers::pid_of() {
    cat "$1/$2.pid"
}

# True while PID exists and is not a zombie.
servers::alive() {
    local stat state
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    [[ ${state%% *} != Z ]]
}

# True if PID is alive and works inside DIR. Daemons are started from DIR
# (mariadbd and mysqld then move into their data directory below it); a
# recycled pid belongs to a process elsewhere.
servers::owned_by() {
    local pid=$1 dir=$2 cwd
    [[ $pid =~ ^[0-9]+$ ]] && servers::alive "$pid" || return 1
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
    [[ $cwd == "$dir" || $cwd == "$dir"/* ]]
}

# Starts COMMAND in DIR as the leader of a new session, with no terminal and
# its output appended to LOG. The child writes its own pid to DIR/NAME.pid and
# then becomes COMMAND, so the recorded pid is the daemon's whether or not
# setsid had to fork.
servers::spawn() {
    local dir=$1 name=$2 log=$3 pidfile="$1/$2.pid" i
    shift 3
    rm -f "$pidfile"
    (
        cd "$dir"
        # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
        exec setsid sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
            "$pidfile" "$@" </dev/null >>"$log" 2>&1
    ) &
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    servers::die "$name did not start: no pid in $pidfile"
}

# Polls PROBE... until it succeeds. Fails with the tail of LOG if the daemon
# dies or TIMEOUT seconds pass; a daemon that never became ready is stopped.
servers::wait_ready() {
    local dir=$1 name=$2 log=$3 timeout=$4 pid deadline
    shift 4
    pid=$(servers::pid_of "$dir" "$name")
    deadline=$((SECONDS + timeout))

    until "$@"; do
        servers::alive "$pid" ||
            servers::abort "$dir" "$name" "$log" "$name exited during startup (pid $pid)"
        ((SECONDS < deadline)) ||
            servers::abort "$dir" "$name" "$log" "$name not ready after ${timeout}s; stopped it"
        sleep 0.1
    done
}

# Stops the half-started daemon NAME in DIR, then fails with the tail of LOG.
servers::abort() {
    local dir=$1 name=$2 log=$3
    shift 3
    servers::terminate "$(servers::pid_of "$dir" "$name")"
    rm -f "$dir/$name.pid"
    servers::fail_with_log "$log" "$@"
}

servers::fail_with_log() {
    local log=$1
    shift
    {
        echo "servers.sh: $*"
        if [[ -s $log ]]; then
            echo "--- last lines of $log:"
            tail -n 20 "$log"
        fi
    } >&2
    exit 1
}

# TERM, then up to 10 s for PID to vanish or turn zombie, then KILL.
servers::terminate() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        servers::alive "$pid" || return 0
        sleep 0.1
    done
    echo "servers.sh: pid $pid ignored TERM for 10 s; sending KILL" >&2
    kill -KILL "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        servers::alive "$pid" || return 0
        sleep 0.1
    done
    servers::die "pid $pid survived KILL"
}
