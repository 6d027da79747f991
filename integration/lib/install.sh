# shellcheck shell=bash
# The `install` and `install-mysql` commands of servers.sh.
# Sourced by servers.sh, after common.sh.

# Installs the missing Debian packages and the Python venv for moto. Quick when
# everything is present: no apt-get update, no pip.
servers_install() (
    servers::init
    local venv="$OSTICKET_CDC_CACHE/venv" log="$OSTICKET_CDC_CACHE/install.log"
    local python="${OSTICKET_CDC_PYTHON:-/usr/bin/python3}" wanted pkg missing=()
    mkdir -p "$OSTICKET_CDC_CACHE"

    # Debian's python3 can only make a venv with python3-venv installed.
    for pkg in "${SERVERS_APT_PACKAGES[@]}" python3-venv; do
        servers::apt_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "installing Debian packages: ${missing[*]}"
        servers::apt_install "$log" "${missing[@]}"
    fi

    # The venv is rebuilt whenever the wanted packages change.
    wanted=$(printf '%s\n' "${SERVERS_PIP_PACKAGES[@]}")
    if [[ ! -x $venv/bin/moto_server || "$(cat "$venv/.requirements" 2>/dev/null)" != "$wanted" ]]; then
        echo "creating the Python venv $venv"
        rm -rf "$venv"
        {
            "$python" -m venv "$venv" &&
                "$venv/bin/pip" install --disable-pip-version-check "${SERVERS_PIP_PACKAGES[@]}"
        } >>"$log" 2>&1 || servers::fail_with_log "$log" "cannot create the venv $venv"
        echo "$wanted" >"$venv/.requirements"
    fi
    echo "installed: Debian packages and $venv"
)

servers::apt_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# apt-get install with a policy-rc.d that forbids every service start, so a
# package such as beanstalkd cannot start its system service on 127.0.0.1:11300.
# An existing policy-rc.d is put back afterwards.
servers::apt_install() {
    local log=$1 guard=/usr/sbin/policy-rc.d saved=/usr/sbin/policy-rc.d.osticket-cdc
    shift
    [[ $EUID -eq 0 ]] || servers::die "installing $* needs root"

    [[ -e $guard ]] && mv "$guard" "$saved"
    # shellcheck disable=SC2064 # the paths are fixed now, the locals gone by then
    trap "rm -f '$guard'; [[ -e '$saved' ]] && mv '$saved' '$guard'; true" EXIT
    printf '#!/bin/sh\n# written by osticket-cdc integration/servers.sh\nexit 101\n' >"$guard"
    chmod 755 "$guard"

    # An unreachable third-party source fails the update but not our packages.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >>"$log" 2>&1 || echo "servers.sh: apt-get update reported errors (see $log)" >&2
    apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 ||
        servers::fail_with_log "$log" "apt-get install $* failed"
}

# MySQL 9.7 comes from Debian's unstable suite, whose packages need that
# suite's C library. The whole dependency closure is downloaded with an apt
# state of its own (nothing touches the system's apt), unpacked with dpkg -x,
# and run through the unpacked dynamic loader by the wrappers bin/mysqld and
# bin/mysql. It breaks on any day unstable moves, so it stays optional: any
# failure ends in one line and leaves the previous state as it was.
servers_install_mysql() (
    servers::init
    local dir="$OSTICKET_CDC_CACHE/mysql97" log="$OSTICKET_CDC_CACHE/mysql97-install.log"
    local stage version
    if [[ -f $dir/.complete ]]; then
        echo "mysql already installed in $dir: $("$dir/bin/mysqld" --no-defaults --version | sed "s/.* Ver /mysqld /")"
        return 0
    fi
    mkdir -p "$OSTICKET_CDC_CACHE"
    stage=$(mktemp -d "$dir.partial.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    : >"$log"

    servers::mysql_download "$stage/apt" >>"$log" 2>&1 ||
        servers::mysql_failed "$log" "cannot download mysql-server-core and its dependencies from unstable"
    servers::mysql_unpack "$stage/apt/cache/archives" "$stage/root" >>"$log" 2>&1 ||
        servers::mysql_failed "$log" "cannot unpack the downloaded packages"
    servers::mysql_write_wrappers "$stage" ||
        servers::mysql_failed "$log" "unpacked tree lacks mysqld, mysql or ld-linux-x86-64.so.2"
    version=$("$stage/bin/mysqld" --no-defaults --version 2>>"$log" | sed "s/.* Ver /mysqld /") ||
        servers::mysql_failed "$log" "the unpacked mysqld does not run"

    # Drop the apt state (the .debs alone are 60 MB) and move into place.
    rm -rf "$stage/apt" "$dir"
    touch "$stage/.complete"
    mv "$stage" "$dir"
    echo "mysql installed in $dir: $version"
)

servers::mysql_failed() {
    echo "servers.sh: install-mysql failed: $2 (log: $1)" >&2
    exit 1
}

servers::mysql_download() {
    local state=$1 mirror="${OSTICKET_CDC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    mkdir -p "$state"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d}
    : >"$state/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror unstable main" \
        >"$state/sources.list"

    # An empty dpkg status makes apt fetch the full closure, C library included.
    local apt=(apt-get -q
        -o Dir::State="$state" -o Dir::State::Lists="$state/lists"
        -o Dir::State::status="$state/status" -o Dir::Cache="$state/cache"
        -o Dir::Cache::Archives="$state/cache/archives"
        -o Dir::Etc::SourceList="$state/sources.list"
        -o Dir::Etc::SourceParts="$state/sources.list.d"
        -o Dir::Etc::Preferences="$state/preferences"
        -o Dir::Etc::PreferencesParts="$state/preferences.d"
        -o Debug::NoLocking=1 -o APT::Install-Recommends=false
        -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
        -o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false)
    "${apt[@]}" update &&
        "${apt[@]}" -y install --download-only mysql-server-core mysql-client-core
}

# perl is in the closure for helper scripts we never run; it is left packed.
servers::mysql_unpack() {
    local archives=$1 root=$2 deb
    mkdir -p "$root"
    for deb in "$archives"/*.deb; do
        case $(basename "$deb") in perl_* | perl-* | libperl*) continue ;; esac
        dpkg -x "$deb" "$root" || return 1
    done
}

# Writes STAGE/bin/mysqld and the clients mysql, mysqladmin and mysqlbinlog.
# They find the tree relative to themselves, so the directory can move.
# mysqld gets the paths it would look for under /usr, after --no-defaults
# (which must stay the first option).
servers::mysql_write_wrappers() {
    local stage=$1 loader tool libdir=usr/lib/x86_64-linux-gnu
    for loader in usr/lib64/ld-linux-x86-64.so.2 lib64/ld-linux-x86-64.so.2 ""; do
        [[ -x $stage/root/$loader ]] && break
    done
    [[ -n $loader && -x $stage/root/usr/sbin/mysqld && -x $stage/root/usr/bin/mysql ]] || return 1
    mkdir -p "$stage/bin"

    cat >"$stage/bin/mysqld" <<EOF
#!/bin/sh
# MySQL's mysqld, run with the C library it was built for.
# Written by osticket-cdc's integration/servers.sh install-mysql.
root=\$(cd "\$(dirname "\$0")/../root" && pwd)
first=
case "\${1-}" in --no-defaults | --defaults-file=* | --defaults-extra-file=*) first=\$1; shift ;; esac
exec "\$root/$loader" --library-path "\$root/$libdir" "\$root/usr/sbin/mysqld" \${first:+"\$first"} \\
    --basedir="\$root/usr" --lc-messages-dir="\$root/usr/share/mysql" \\
    --plugin-dir="\$root/usr/lib/mysql/plugin" "\$@"
EOF
    for tool in mysql mysqladmin mysqlbinlog; do
        cat >"$stage/bin/$tool" <<EOF
#!/bin/sh
# MySQL's $tool, run with the C library it was built for.
# Written by osticket-cdc's integration/servers.sh install-mysql.
root=\$(cd "\$(dirname "\$0")/../root" && pwd)
exec "\$root/$loader" --library-path "\$root/$libdir" "\$root/usr/bin/$tool" "\$@"
EOF
    done
    chmod 755 "$stage"/bin/*
}
