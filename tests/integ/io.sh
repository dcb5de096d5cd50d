# io.sh — the Cache & IO pane against the lab primary: the cache hit % of labdb over the
# interval drops while a table five times larger than shared_buffers (32 MB) is scanned over and
# over, and recovers above 95 % once the scans stop and only a small hot table is read; temp
# files show as bytes per second while sorts spill past a tiny work_mem; WAL bytes per second
# under a write load; the host disk of the (local) lab server; pane 6 in tmux with the database
# line and its hit %. Tables are made here and dropped at the end (the lab is shared).
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-io-$$
pane=io:0.0
loads=()
stop_loads() {
    local p
    for p in "${loads[@]}"; do kill "$p" 2>/dev/null; done
    loads=()
}
cleanup() {
    stop_loads
    T kill-server >/dev/null 2>&1
    lab_psql "$PRIMARY_PORT" -c "DROP TABLE IF EXISTS io_big, io_wal" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# A 2 s interval: statistics reach pg_stat_database when a backend goes idle, at most once a
# second, so a longer interval always holds a few flushes of the load.
cat >"$tmp/fleet.yaml" <<YAML
refresh: 2s
timeout: 5s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
YAML

# every snapshot's stderr is added to $tmp/err (which must stay empty); $tmp/last.err has the last's
: >"$tmp/err"
snap() {
    "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>"$tmp/last.err"
    local rc=$?
    cat "$tmp/last.err" >>"$tmp/err"
    return $rc
}
P='.servers[] | select(.name == "primary")'
j() { jq -r "$P | $1" "$tmp/s.json"; }
db() { j ".cache.databases[] | select(.name == \"labdb\") | .$1"; }
# jq_true EXPR: EXPR on the primary's object of the last snapshot is true.
jq_true() { jq -e "$P | $1" "$tmp/s.json" >/dev/null; }
# snap_until EXPR: take snapshots until EXPR holds (bounded by wait_until's caller).
snap_until() { snap && jq_true "$1"; }

# load APP SETUP_SQL SQL: a psql session (application_name APP) running SQL over and over, each
# statement its own transaction; its pid is remembered for stop_loads.
load() {
    local app=$1 setup=$2 sql=$3
    { [ -n "$setup" ] && echo "$setup"; while :; do echo "$sql"; done; } 2>/dev/null |
        PGAPPNAME=$app "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb >/dev/null 2>&1 &
    loads+=($!)
}
quiet_psql() { PGOPTIONS='-c client_min_messages=warning' lab_psql "$PRIMARY_PORT" "$@"; }
# What the last snapshot said about the primary, for a failure's report.
why() { jq -c "$P | {status, reason, probe_errors, tick_ms, interval_s}" "$tmp/s.json" 2>&1 | sed 's/^/    | /'; sed 's/^/    | /' "$tmp/last.err"; }
sessions_of() { lab_psql "$PRIMARY_PORT" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'"; }
gone() { [ "$(sessions_of "$1")" = 0 ]; }

# ---- the shape of the snapshot, on a quiet server
snap
check "snapshot with the io keys" jq_true '.io | has("checkpointer") and has("bgwriter") and has("wal") and has("stat_io") and has("sizes") and has("disk")'
check "cache keeps the Fleet figures and lists labdb" jq_true '(.cache | has("hit_pct") and has("interval_s")) and any(.cache.databases[]; .name == "labdb")'
check "templates are not listed" jq_true 'all(.cache.databases[]; .name != "template0" and .name != "template1")'
check "track_io_timing is reported on (the lab sets it)" jq_true '.io.track_io_timing == true'
check "labdb has a size" jq_true '[.cache.databases[] | select(.name == "labdb") | .size_bytes] | .[0] > 1000000'
check "sizes total is the sum of the databases" jq_true '.io.sizes.total_bytes == ([.io.sizes.databases[].bytes] | add)'
check "checkpointer figures are numbers" jq_true '(.io.checkpointer.timed | type) == "number" and (.io.checkpointer.buffers_per_s | type) == "number"'
version=$(j .version_num)
if [ "$version" -ge 160000 ]; then
    check "pg_stat_io lines on 16+" jq_true '(.io.stat_io | type) == "array"'
else
    check "pg_stat_io: null with its reason below 16" jq_true '.io.stat_io == null and (.io.errors.io | test("PostgreSQL 16"))'
fi
if [ "$version" -ge 140000 ]; then
    check "WAL rate from pg_stat_wal on 14+" [ "$(j .io.wal.source)" = pg_stat_wal ]
fi

# The disk under the data directory: present unless this machine has no block device for it.
reason=$(j '.io.disk.reason // empty')
if [ -n "$reason" ] && [[ $reason == *"not on a disk"* || $reason == *"no disk found"* || $reason == *"not in /proc/diskstats"* ]]; then
    ok "disk stats: this machine has none for the data directory ($reason)"
else
    check "disk stats of the local lab server (device $(j .io.disk.device))" jq_true '(.io.disk.device | length) > 0 and (.io.disk.reads_per_s | type) == "number" and (.io.disk.util_pct | type) == "number"'
fi

# ---- a table far larger than shared_buffers, scanned over and over: reads, not hits
# ~150 MB, unlogged (fast to make, no WAL), no autovacuum (it would read it later, in the middle
# of the recovery check).
# CREATE TABLE AS writes through a small ring of buffers: the rest of the cache stays as it was.
quiet_psql -c "DROP TABLE IF EXISTS io_big" -c "CREATE UNLOGGED TABLE io_big WITH (autovacuum_enabled = off)
    AS SELECT g AS id, repeat('x', 500) AS pad FROM generate_series(1, 290000) g" >/dev/null
big=$(lab_psql "$PRIMARY_PORT" -c "SELECT pg_relation_size('io_big')")
check "the big table is larger than 4 x shared_buffers ($((big / 1048576)) MB)" [ "$big" -gt $((128 * 1048576)) ]
lab_psql "$PRIMARY_PORT" -c "SELECT count(*) FROM io_big" >/dev/null # sets hint bits once
load io-scan "" "SELECT count(*) FROM io_big;"
check "the scans run" wait_until 10 eval '[ "$(sessions_of io-scan)" = 1 ]'
if wait_until 60 snap_until '[.cache.databases[] | select(.name == "labdb") | .hit_pct] | .[0] != null and .[0] < 80'; then
    ok "hit % of labdb over the interval drops under scans ($(db hit_pct | cut -c1-5) %, $(db blks_read_per_s | cut -d. -f1) reads/s)"
else
    fail "hit % of labdb over the interval drops under scans (last: $(db hit_pct), reads/s $(db blks_read_per_s))"
    why
fi
check "reads per second show the scans" jq_true '[.cache.databases[] | select(.name == "labdb") | .blks_read_per_s] | .[0] > 1000'
stop_loads
check "the scans stopped" wait_until 15 gone io-scan

# ---- then only a small hot table: the ratio over the interval recovers (not since boot)
load io-hot "" "SELECT sum(balance) FROM accounts, pg_sleep(0.005);"
if wait_until 60 snap_until '[.cache.databases[] | select(.name == "labdb") | .hit_pct] | .[0] != null and .[0] > 95'; then
    ok "hit % of labdb recovers above 95 % after the scans ($(db hit_pct | cut -c1-5) %)"
else
    fail "hit % of labdb recovers above 95 % after the scans (last: $(db hit_pct), reads/s $(db blks_read_per_s))"
fi
stop_loads
check "the hot reads stopped" wait_until 15 gone io-hot
lab_psql "$PRIMARY_PORT" -c "DROP TABLE io_big" >/dev/null

# ---- sorts beyond work_mem write temp files
load io-temp "SET work_mem = '64kB';" "SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY random()) s;"
if wait_until 60 snap_until '[.cache.databases[] | select(.name == "labdb") | .temp_bytes_per_s] | .[0] != null and .[0] > 0'; then
    ok "temp bytes per second while sorts spill ($(db temp_bytes_per_s | cut -d. -f1) B/s, $(db temp_files_per_s) files/s)"
else
    fail "temp bytes per second while sorts spill (last: $(db temp_bytes_per_s))"
fi
stop_loads
check "the sorts stopped" wait_until 15 gone io-temp

# ---- a write load generates WAL
quiet_psql -c "DROP TABLE IF EXISTS io_wal" -c "CREATE TABLE io_wal (id int, pad text)" >/dev/null
load io-wal "" "INSERT INTO io_wal SELECT g, repeat('w', 100) FROM generate_series(1, 2000) g, pg_sleep(0.01) WHERE g > 0;"
if wait_until 60 snap_until '.io.wal.bytes_per_s != null and .io.wal.bytes_per_s > 0'; then
    ok "WAL bytes per second under a write load ($(j .io.wal.bytes_per_s | cut -d. -f1) B/s from $(j .io.wal.source))"
else
    fail "WAL bytes per second under a write load (last: $(j .io.wal.bytes_per_s))"
fi
check "the write load shows as inserted tuples per second" jq_true '[.cache.databases[] | select(.name == "labdb") | .tup_inserted_per_s] | .[0] > 0'
no_output "the snapshots said nothing on stderr (no sanitizer report)" "$tmp/err"

# ---- pane 6 on screen
launch_tui io 120 40 "$tmp/tui" -- -c "$tmp/fleet.yaml"
require "the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 6
expect "pane 6 shows the labdb line with its hit %" 15 has_re '^  labdb +[0-9]+\.[0-9] '
check "pane 6 has the database table's titles" has_re 'DATABASE +HIT% +READ/s'
check "pane 6 shows checkpoints and WAL" eval "has_re '^  checkpoints +timed' && has_re '^  WAL +[0-9.]+[kMG]?B/s'"
screen >"$tmp/pane6.txt"
quit_tui "$tmp/tui" "the TUI"
stop_loads
finish
