# shellcheck shell=bash
# lab-lib.sh — shell functions shared by the lab scripts and the tests that use a lab.
# Source it (". tests/lab/lab-lib.sh"), usually together with a lab's DIR/env.
# It sets no shell options and runs nothing when sourced.
#
#   lab_bindir                 directory of the PostgreSQL binaries ($PG_BINDIR, pg_config, newest install)
#   lab_free_port [PORT...]    print a free TCP port on 127.0.0.1 (never one of the PORTs given)
#   lab_wait_for 'CMD' [SECS]  retry the shell command CMD until it succeeds or SECS (default 30) pass
#   lab_psql PORT [ARGS...]    psql -X -q -At to 127.0.0.1:PORT as user postgres, database labdb
#   lab_bg_psql PORT SQL       run SQL in a background psql session, print its pid (kill it to end it)
#   lab_run_as CMD [ARGS...]   run a command as the OS user owning the servers (postgres when root)
#   lab_alive PID              true if the process runs (exists and is not a zombie)
#   lab_live_pid FILE NAME     the pid in a pid file, if it runs and its command starts with NAME
#   lab_stop_postgres DATA BINDIR  stop the server of a data directory (any state; never fails)

# Directory holding initdb, pg_ctl, psql… Honours $PG_BINDIR, then $LAB_BINDIR, then pg_config,
# then the newest /usr/lib/postgresql/*/bin.
lab_bindir() {
    local d
    for d in "${PG_BINDIR:-}" "${LAB_BINDIR:-}"; do
        if [ -n "$d" ] && [ -x "$d/initdb" ]; then printf '%s\n' "$d"; return 0; fi
    done
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ]; then printf '%s\n' "$d"; return 0; fi
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$d/initdb" ]; then printf '%s\n' "$d"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    echo "lab: no PostgreSQL server binaries found (set PG_BINDIR, or run tests/lab/ensure-deps)" >&2
    return 1
}

# True if process $1 exists and is not a zombie (an unreaped zombie still answers kill -0;
# in containers whose pid 1 does not reap, daemons we stopped can linger as zombies).
lab_alive() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# The OS user that owns the servers: postgres when we are root, else ourselves.
lab_os_user() {
    if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Run a command as the lab's OS user (postgres when root). Runs from / so that a cwd the
# postgres user cannot read (e.g. /root) does not produce warnings.
lab_run_as() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# True if something uses TCP port $1 on this host (listening or connected).
lab_port_in_use() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ]
        return
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}

# Print a free port in 20000-31999 (below the usual ephemeral range), starting from a random
# point. Ports given as arguments are skipped (so one lab never picks the same port twice).
lab_free_port() {
    local base=$((20000 + (RANDOM * 32768 + RANDOM) % 12000)) i p x skip
    for ((i = 0; i < 12000; i++)); do
        p=$((20000 + (base - 20000 + i) % 12000))
        skip=0
        for x in "$@"; do [ "$x" = "$p" ] && skip=1; done
        [ "$skip" = 1 ] && continue
        if ! lab_port_in_use "$p"; then echo "$p"; return 0; fi
    done
    echo "lab: no free TCP port found" >&2
    return 1
}

# lab_wait_for 'CMD' [TIMEOUT_S]: eval CMD every 0.2 s until it succeeds (return 0) or the
# timeout passes (return 1). CMD's output is left alone; redirect it in CMD if needed.
lab_wait_for() {
    local cmd=$1 timeout=${2:-30} end
    end=$(($(date +%s%N) / 1000000 + timeout * 1000))
    while :; do
        if eval "$cmd"; then return 0; fi
        if [ "$(($(date +%s%N) / 1000000))" -ge "$end" ]; then return 1; fi
        sleep 0.2
    done
}

# psql used by the lab: $LAB_BINDIR/psql when set, else the one next to the server binaries.
lab_psql_bin() {
    local d
    if [ -n "${LAB_BINDIR:-}" ] && [ -x "$LAB_BINDIR/psql" ]; then echo "$LAB_BINDIR/psql"; return; fi
    d=$(lab_bindir 2>/dev/null) && [ -x "$d/psql" ] && { echo "$d/psql"; return; }
    echo psql
}

# lab_psql PORT [psql args…]: unaligned, tuples-only, quiet psql over TCP as postgres to labdb
# (a later -d in the args wins). Trust auth on 127.0.0.1 makes this work as any OS user.
lab_psql() {
    local port=$1
    shift
    "$(lab_psql_bin)" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d labdb "$@"
}

# lab_bg_psql PORT SQL: start a psql session running SQL in the background and print its pid.
# Output goes to /dev/null, so `pid=$(lab_bg_psql …)` returns at once. Set PGAPPNAME etc. in
# the environment to tag the session. Killing the pid drops the connection; the server notices
# within about 1 s even mid-query (the lab sets client_connection_check_interval).
lab_bg_psql() {
    local port=$1 sql=$2
    "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d labdb -c "$sql" \
        </dev/null >/dev/null 2>&1 &
    echo $!
}

# lab_live_pid FILE NAME: the pid in a pid file if that process still runs and its command name
# starts with NAME.
lab_live_pid() {
    local file=$1 name=$2 pid comm
    [ -r "$file" ] || return 1
    pid=$(head -n 1 "$file" 2>/dev/null | tr -dc 0-9)
    [ -n "$pid" ] || return 1
    lab_alive "$pid" || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    case $comm in "$name"*) echo "$pid" ;; *) return 1 ;; esac
}

# lab_stop_postgres DATA BINDIR: stop the postgres of data directory DATA (immediate), with
# BINDIR's pg_ctl, else by signals to the pid in its postmaster.pid; nothing when it is not running.
lab_stop_postgres() {
    local data=$1 bindir=$2 pid i
    [ -f "$data/postmaster.pid" ] || return 0
    if [ -n "$bindir" ]; then
        lab_run_as "$bindir/pg_ctl" stop -D "$data" -m immediate -w -t 20 >/dev/null 2>&1 || true
    fi
    # Last resort when pg_ctl could not do it (binaries gone, permissions…).
    if pid=$(lab_live_pid "$data/postmaster.pid" postgres); then
        kill -QUIT "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            lab_alive "$pid" || return 0
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
}
