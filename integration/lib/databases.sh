# shellcheck shell=bash
# The database commands of servers.sh: start-mariadb, start-mysql and client.
# Sourced by servers.sh, after common.sh.

# Privileges of the user `cdc`: what the connector needs (REPLICATION CLIENT is
# spelled BINLOG MONITOR on MariaDB 10.5+), then everything, because tests create
# their own databases. Kept out of the binlog so that a test starts on an empty one.
SERVERS_MARIADB_USERS="
SET sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'cdc'@'%' IDENTIFIED BY 'cdc';
CREATE USER IF NOT EXISTS 'cdc'@'127.0.0.1' IDENTIFIED BY 'cdc';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'cdc'@'%', 'cdc'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'cdc'@'%', 'cdc'@'127.0.0.1' WITH GRANT OPTION;
"
SERVERS_MYSQL_USERS="
SET sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'cdc'@'%' IDENTIFIED WITH caching_sha2_password BY 'cdc';
CREATE USER IF NOT EXISTS 'cdc'@'127.0.0.1' IDENTIFIED WITH caching_sha2_password BY 'cdc';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'%', 'cdc'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'cdc'@'%', 'cdc'@'127.0.0.1' WITH GRANT OPTION;
"

servers_start_mariadb() (
    servers::init
    [[ $# -ge 2 ]] || servers::usage "start-mariadb DIR PORT [MARIADBD_ARG...]"
    local dir port data sock log
    dir=$(servers::prepare_dir "$1" mariadbd)
    port=$(servers::check_port "$2")
    shift 2
    servers::require mariadbd "run \`servers.sh install\`"
    data="$dir/mariadb-data" sock="$dir/mariadb.sock" log="$dir/mariadb.err"
    servers::check_socket_path "$sock"

    # A new DIR gets a copy of the initialized data directory kept in the cache
    # (initializing takes seconds, copying a tenth of one); an existing DIR
    # restarts on its own data.
    if [[ ! -d $data/mysql ]]; then
        rm -rf "$data"
        servers::copy_template "mariadb-$(mariadbd --no-defaults --version | cksum | cut -d' ' -f1)" \
            "$data" servers::mariadb_initialize
    fi

    servers::spawn "$dir" mariadbd "$log" mariadbd --no-defaults \
        --datadir="$data" --socket="$sock" --port="$port" --bind-address=127.0.0.1 \
        --user=root --pid-file="$data/mariadbd.pid" --log-error="$log" \
        --server-id=1 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL \
        --binlog-row-metadata=FULL --character-set-server=utf8mb4 --skip-name-resolve \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
        --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 "$@"
    servers::wait_ready "$dir" mariadbd "$log" 30 servers::mariadb_up "$sock"

    # The TCP login proves the port and the password, not only the socket.
    if ! mariadb --no-defaults --socket="$sock" -uroot -e "$SERVERS_MARIADB_USERS" 2>>"$log" ||
        ! mariadb --no-defaults -h127.0.0.1 -P"$port" -ucdc -pcdc -e 'SELECT 1' >/dev/null 2>>"$log"; then
        servers::abort "$dir" mariadbd "$log" "cannot set up the user cdc"
    fi
    echo "mariadb ready on 127.0.0.1:$port (pid $(servers::pid_of "$dir" mariadbd))"
)

servers_start_mysql() (
    servers::init
    [[ $# -ge 2 ]] || servers::usage "start-mysql DIR PORT [MYSQLD_ARG...]"
    local bin="$OSTICKET_CDC_CACHE/mysql97/bin" dir port data sock log
    [[ -f $OSTICKET_CDC_CACHE/mysql97/.complete ]] ||
        servers::not_installed "MySQL 9.7 is not installed; run \`servers.sh install-mysql\`"
    dir=$(servers::prepare_dir "$1" mysqld)
    port=$(servers::check_port "$2")
    shift 2
    data="$dir/mysql-data" sock="$dir/mysql.sock" log="$dir/mysql.err"
    servers::check_socket_path "$sock"

    # As for MariaDB; without the copied auto.cnf the server makes itself a
    # new server_uuid, so GTIDs differ between instances.
    if [[ ! -d $data/mysql ]]; then
        rm -rf "$data"
        servers::copy_template "mysql-$("$bin/mysqld" --no-defaults --version | cksum | cut -d' ' -f1)" \
            "$data" servers::mysql_initialize "$bin"
        rm -f "$data/auto.cnf"
    fi

    # X Protocol is off: it would listen on port 33060 for every instance.
    mkdir -p "$dir/mysql-files"
    servers::spawn "$dir" mysqld "$log" "$bin/mysqld" --no-defaults \
        --datadir="$data" --socket="$sock" --port="$port" --bind-address=127.0.0.1 \
        --user=root --pid-file="$data/mysqld.pid" --log-error="$log" \
        --secure-file-priv="$dir/mysql-files" --mysqlx=OFF \
        --server-id=1 --log-bin=binlog --binlog-format=ROW --binlog-row-image=FULL \
        --binlog-row-metadata=FULL --gtid-mode=ON --enforce-gtid-consistency=ON \
        --character-set-server=utf8mb4 --skip-name-resolve --performance-schema=OFF \
        --innodb-buffer-pool-size=32M --innodb-redo-log-capacity=8M \
        --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 "$@"
    servers::wait_ready "$dir" mysqld "$log" 60 servers::mysql_up "$bin" "$sock"

    # No login as cdc here: it would fill caching_sha2_password's cache and hide
    # from tests that a first login needs TLS or the server's RSA key.
    "$bin/mysql" --no-defaults --socket="$sock" -uroot -e "$SERVERS_MYSQL_USERS" 2>>"$log" ||
        servers::abort "$dir" mysqld "$log" "cannot set up the user cdc"
    echo "mysql ready on 127.0.0.1:$port (pid $(servers::pid_of "$dir" mysqld))"
)

# Runs the root client on the socket of the database server in DIR.
servers_client() (
    servers::init
    [[ $# -ge 1 ]] || servers::usage "client DIR [CLIENT_ARG...]"
    local dir
    dir=$(servers::abs_dir "$1") || servers::die "no such directory: $1"
    shift
    if [[ -S $dir/mariadb.sock ]]; then
        exec mariadb --no-defaults --socket="$dir/mariadb.sock" -uroot "$@"
    elif [[ -S $dir/mysql.sock ]]; then
        exec "$OSTICKET_CDC_CACHE/mysql97/bin/mysql" --no-defaults --socket="$dir/mysql.sock" -uroot "$@"
    fi
    servers::die "no database server runs in $dir"
)

# Copies the template data directory NAME to DATA, first creating it with
# INIT... DIR (under a lock, as tests start servers in parallel). Options
# that only take effect at initialization cannot be passed to a start.
servers::copy_template() {
    local template="$OSTICKET_CDC_CACHE/templates/$1" data=$2
    shift 2
    mkdir -p "$OSTICKET_CDC_CACHE/templates"
    (
        flock 9
        [[ -d $template ]] && exit 0
        rm -rf "$template.tmp"
        mkdir -p "$template.tmp"
        "$@" "$template.tmp/data" >"$template.tmp/init.log" 2>&1 ||
            servers::fail_with_log "$template.tmp/init.log" "cannot initialize a data directory in $template.tmp"
        mv "$template.tmp" "$template"
    ) 9>"$template.lock"
    cp -a "$template/data" "$data"
}

servers::mariadb_initialize() {
    mariadb-install-db --no-defaults --datadir="$1" --user=root \
        --auth-root-authentication-method=normal --skip-test-db \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M
}

servers::mysql_initialize() {
    "$1/mysqld" --no-defaults --initialize-insecure --datadir="$2" --user=root \
        --innodb-buffer-pool-size=32M --innodb-redo-log-capacity=8M
}

servers::mariadb_up() {
    mariadb --no-defaults --socket="$1" -uroot -e 'SELECT 1' >/dev/null 2>&1
}

servers::mysql_up() {
    "$1/mysql" --no-defaults --socket="$2" -uroot -e 'SELECT 1' >/dev/null 2>&1
}

# A Unix socket path holds at most 107 bytes; mysqld adds ".lock" to it.
servers::check_socket_path() {
    [[ ${#1} -le 100 ]] || servers::die "socket path too long (${#1} > 100 bytes): $1; use a shorter DIR"
}
