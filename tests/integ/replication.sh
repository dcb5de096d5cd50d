# replication.sh — the Replication pane against real servers. On the shared lab: primary and
# replica grouped into one cluster by system_identifier with the replica tied to its sender row;
# replay paused on the replica under a write load makes its replay lag grow in bytes and time
# (snapshot and sparkline data), and on screen in tmux (pane 4: the cluster, the replica, PAUSED,
# a growing sparkline); resuming brings it back near zero; an inactive physical slot keeping WAL
# is reported with its retained bytes; a publication is listed. On a private lab (its primary
# restarted with archive_command='false' and wal_level=logical): a failing archiver with its
# failures and last failed WAL, and a logical subscription with its slot's lag. Every run of the
# sanitizer build (TUI quit with q, so the leak check runs; snapshots) exits 0 with nothing on
# stderr.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
chmod 755 "$tmp"
priv="$tmp/lab"
sock=pgfleet-repl-$$
pane=tui:0.0
P=$PRIMARY_PORT
R=$REPLICA_PORT
cleanup() {
    T kill-server >/dev/null 2>&1
    lab_psql "$R" -c "SELECT pg_wal_replay_resume()" >/dev/null 2>&1
    lab_psql "$P" -c "SELECT pg_drop_replication_slot('pgfleet_test_inactive')" >/dev/null 2>&1
    lab_psql "$P" -c "DROP PUBLICATION IF EXISTS pgfleet_test_pub; DROP TABLE IF EXISTS repl_load" >/dev/null 2>&1
    [ -e "$priv" ] && "$LAB_TOOLS/lab" stop "$priv" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
YAML

# Every snapshot of this test: its stderr added to $tmp/snap.err, a status other than 0 noted
# in $tmp/snap.rc (both must stay empty).
snapshot() {
    local out=$1 rc
    shift
    "$PGFLEET" snapshot "$@" >"$out" 2>>"$tmp/snap.err"
    rc=$?
    [ $rc = 0 ] || echo "snapshot $* > $(basename "$out"): exit $rc" >>"$tmp/snap.rc"
    return $rc
}
: >"$tmp/snap.err"
: >"$tmp/snap.rc"
snap() { snapshot "$1" --json -c "$tmp/fleet.yaml"; }
# jv FILE SERVER EXPR: a jq expression over that server's replication object
jv() { jq -r --arg s "$2" ".servers[]|select(.name==\$s)|.replication|$3" "$1"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a + 0 > b + 0)}'; }
replayed_all() {
    local cur
    cur=$(lab_psql "$P" -c "SELECT pg_current_wal_lsn()")
    [ "$(lab_psql "$R" -c "SELECT pg_last_wal_replay_lsn() >= '$cur'::pg_lsn")" = t ]
}

# ---- baseline: one cluster, the replica under the primary
lab_psql "$P" -c "CREATE TABLE repl_load (id int, pad text)"
# a replayed commit gives the replica a last-replay timestamp to measure time lag from
check "the replica replays the primary's commit" wait_until 20 replayed_all
check "snapshot exits 0 with a JSON document" eval 'snap "$tmp/s0.json" && jq -e . "$tmp/s0.json" >/dev/null'
sid=$(jv "$tmp/s0.json" primary .system_identifier)
check "primary has a system_identifier ($sid)" bash -c "[[ '$sid' =~ ^[0-9]+\$ ]]"
check "replica has the same system_identifier" [ "$(jv "$tmp/s0.json" replica .system_identifier)" = "$sid" ]
check "roles primary/replica" [ "$(jv "$tmp/s0.json" primary .role) $(jv "$tmp/s0.json" replica .role)" = "primary replica" ]
check "timeline 1 on the primary" [ "$(jv "$tmp/s0.json" primary .timeline)" = 1 ]
check "replica streams from the primary (upstream)" [ "$(jv "$tmp/s0.json" replica .upstream)" = primary ]
check "the primary's sender row is tied to the fleet replica" [ "$(jv "$tmp/s0.json" primary '.replicas[0].server')" = replica ]
check "sender row: streaming, async, slot replica" [ "$(jv "$tmp/s0.json" primary '.replicas[0]|.state+" "+.sync_state+" "+.slot_name')" = "streaming async replica" ]
check "WAL receiver streaming from the primary's port" [ "$(jv "$tmp/s0.json" replica '.wal_receiver|.status+" "+(.sender_port|tostring)')" = "streaming $P" ]
check "lag measured against the primary" [ "$(jv "$tmp/s0.json" replica .lag_source)" = primary ]
check "replay not paused" [ "$(jv "$tmp/s0.json" replica .replay_paused)" = false ]

# ---- an inactive slot keeping WAL, and a publication
lab_psql "$P" -c "SELECT pg_create_physical_replication_slot('pgfleet_test_inactive', true)" >/dev/null
lab_psql "$P" -c "CREATE PUBLICATION pgfleet_test_pub FOR TABLE repl_load" >/dev/null 2>&1

# ---- replay paused under a write load
lab_psql "$R" -c "SELECT pg_wal_replay_pause()" >/dev/null
paused() { [ "$(lab_psql "$R" -c "SELECT pg_is_wal_replay_paused()")" = t ]; }
check "replay pause took effect" wait_until 20 paused

# the TUI runs through the load so its sparkline sees the lag grow
launch_tui tui 120 40 "$tmp/tui" LANG=C.UTF-8 LC_ALL=C.UTF-8 -- -c "$tmp/fleet.yaml"
require "the TUI shows the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 4
load() { lab_psql "$P" -c "INSERT INTO repl_load SELECT g, repeat('x', 100) FROM generate_series(1, 40000) g" >/dev/null; }
lagb() { jv "$1" replica .lag_bytes; }
# lag_over FILE BYTES: a new snapshot into FILE shows the replica behind by more than BYTES
lag_over() { snap "$1" && gt "$(lagb "$1")" "$2"; }
load
check "a snapshot sees the replica over 1MB behind" wait_until 20 lag_over "$tmp/s1.json" 1000000
b1=$(lagb "$tmp/s1.json")
load
check "a later snapshot sees it further behind" wait_until 20 lag_over "$tmp/s2.json" "$b1"
b2=$(lagb "$tmp/s2.json")
t1=$(jv "$tmp/s1.json" replica .lag_s)
t2=$(jv "$tmp/s2.json" replica .lag_s)
check "replay lag in bytes > 1MB while paused ($b1)" gt "$b1" 1000000
check "replay lag in bytes grows under load ($b1 -> $b2)" gt "$b2" "$b1"
check "replay lag in seconds grows ($t1 -> $t2)" gt "$t2" "$t1"
check "replay_paused reported" [ "$(jv "$tmp/s2.json" replica '(.replay_paused|tostring)+" "+.pause_state')" = "true paused" ]
check "the primary sees the replay lag too" gt "$(jv "$tmp/s2.json" primary '.replicas[0].replay_lag_bytes')" 1000000
check "fleet figure: worst lag of the primary" gt "$(jv "$tmp/s2.json" primary .worst_lag_bytes)" 1000000
h1=$(jv "$tmp/s1.json" replica '.lag_history|last')
h2=$(jv "$tmp/s2.json" replica '.lag_history|last')
check "lag history (sparkline data) has points and grows ($h1 -> $h2)" gt "$h2" "$h1"
check "primary-side lag history is non-zero" gt "$(jv "$tmp/s2.json" primary '.replicas[0].lag_history|last')" 0

# the screen: the cluster, the replica with its lag, PAUSED, the inactive slot, a growing sparkline
pane_ready() { has "cluster $sid" && has PAUSED && has INACTIVE; }
expect "pane 4 shows the cluster, the paused replica and the inactive slot" 15 pane_ready
row=$(screen | grep -F PAUSED | head -1)
check "the replica row shows its lag in MB" grep -qE '└ replica .*[0-9.]+MB' <<<"$row"
# the sparkline's weight: blocks ▁..█ count 1..8; it grows as points are added or rise
spark_sum() {
    local sum=0 c
    for c in $(screen | grep -F PAUSED | head -1 | LC_ALL=C.UTF-8 grep -o '[▁▂▃▄▅▆▇█]'); do
        case $c in
            ▁) sum=$((sum + 1)) ;; ▂) sum=$((sum + 2)) ;; ▃) sum=$((sum + 3)) ;; ▄) sum=$((sum + 4)) ;;
            ▅) sum=$((sum + 5)) ;; ▆) sum=$((sum + 6)) ;; ▇) sum=$((sum + 7)) ;; █) sum=$((sum + 8)) ;;
        esac
    done
    echo "$sum"
}
n1=$(spark_sum)
load
spark_grew() { [ "$(spark_sum)" -gt "$n1" ]; }
check "the sparkline grows (weight $n1 -> more)" wait_until 15 spark_grew
# 80x24: the replica row keeps its name, lag and PAUSED; the sparkline stays
T resize-window -t tui -x 80 -y 24 >/dev/null 2>&1
narrow_ok() {
    [ "$(screen | LC_ALL=C.UTF-8 wc -L)" -le 80 ] && screen | grep -F PAUSED | LC_ALL=C.UTF-8 grep -qE '└ replica .*[0-9.]+MB .*PAUSED.*[▁▂▃▄▅▆▇█]'
}
check "at 80x24 the replica row still shows lag, PAUSED and its sparkline" wait_until 10 narrow_ok
quit_tui "$tmp/tui" "the TUI"

# ---- resume: lag back near zero
lab_psql "$R" -c "SELECT pg_wal_replay_resume()" >/dev/null
near_zero() {
    snap "$tmp/s3.json"
    gt 1048576 "$(jv "$tmp/s3.json" replica '.lag_bytes // 1e12')" &&
        [ "$(jv "$tmp/s3.json" replica .replay_paused)" = false ]
}
check "after resume the lag falls below 1MB" wait_until 40 near_zero
check "after resume the time lag is small ($(jv "$tmp/s3.json" replica .lag_s))" gt 5 "$(jv "$tmp/s3.json" replica '.lag_s // 1e9')"

# ---- slot and publication (from the paused snapshot)
slot() { jv "$tmp/s2.json" primary ".slots[]|select(.slot_name==\"pgfleet_test_inactive\")|$1"; }
check "inactive slot reported inactive" [ "$(slot .active)" = false ]
check "inactive slot retains WAL ($(slot .retained_bytes) bytes)" gt "$(slot .retained_bytes)" 0
check "inactive slot keeping WAL is a warning" bash -c "[[ '$(slot .severity)' =~ ^(warn|crit)\$ ]]"
check "the replica's active slot is fine" [ "$(jv "$tmp/s2.json" primary '.slots[]|select(.slot_name=="replica")|(.active|tostring)+" "+.severity')" = "true ok" ]
check "publication listed" [ "$(jv "$tmp/s2.json" primary '.publications[]|select(.name=="pgfleet_test_pub")|.tables')" = 1 ]
snapshot "$tmp/s.txt" -c "$tmp/fleet.yaml"
check "text snapshot has the replication section" grep -q '^REPLICATION' "$tmp/s.txt"
lab_psql "$P" -c "SELECT pg_drop_replication_slot('pgfleet_test_inactive')" >/dev/null

# ---- a private lab: failing archive_command, logical replication
if ! "$LAB_TOOLS/lab" start "$priv" >"$tmp/priv.log" 2>&1 </dev/null; then
    fail "private lab starts"
    cat "$tmp/priv.log"
    finish
    exit
fi
PP=$(. "$priv/env"; echo "$PRIMARY_PORT")
PDATA=$(. "$priv/env"; echo "$PRIMARY_DATA")
lab_psql "$PP" -c "ALTER SYSTEM SET archive_mode = on" -c "ALTER SYSTEM SET archive_command = 'false'" \
    -c "ALTER SYSTEM SET wal_level = logical" >/dev/null
lab_run_as "$LAB_BINDIR/pg_ctl" restart -D "$PDATA" -m fast -w -t 60 >"$tmp/restart.log" 2>&1
check "private primary restarted with archiving and wal_level=logical" \
    [ "$(lab_psql "$PP" -c "SELECT current_setting('archive_mode') || ' ' || current_setting('wal_level')")" = "on logical" ]
lab_psql "$PP" >/dev/null <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text);
CREATE PUBLICATION pub_items FOR TABLE items;
SELECT pg_create_logical_replication_slot('sub_items', 'pgoutput');
CREATE DATABASE subdb;
SQL
lab_psql "$PP" -d subdb >/dev/null <<SQL
CREATE TABLE items (id int PRIMARY KEY, v text);
CREATE SUBSCRIPTION sub_items CONNECTION 'host=127.0.0.1 port=$PP dbname=labdb user=postgres'
    PUBLICATION pub_items WITH (create_slot = false, slot_name = 'sub_items');
SQL
lab_psql "$PP" -c "INSERT INTO items SELECT g, 'v' FROM generate_series(1, 1000) g" -c "SELECT pg_switch_wal()" >/dev/null
cat >"$tmp/priv.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: priv, conninfo: "host=127.0.0.1 port=$PP dbname=labdb user=postgres" }
YAML
psnap() { snapshot "$tmp/p.json" --json -c "$tmp/priv.yaml"; }
failing() { psnap && [ "$(jv "$tmp/p.json" priv '.archiver.failing')" = true ]; }
check "archiver failing is reported" wait_until 40 failing
check "failed_count > 0 ($(jv "$tmp/p.json" priv .archiver.failed_count))" gt "$(jv "$tmp/p.json" priv '.archiver.failed_count')" 0
check "last_failed_wal is set ($(jv "$tmp/p.json" priv .archiver.last_failed_wal))" \
    bash -c "[[ '$(jv "$tmp/p.json" priv .archiver.last_failed_wal)' =~ ^[0-9A-F]{24}\$ ]]"
check "fleet figure: archiver_failing" [ "$(jv "$tmp/p.json" priv .archiver_failing)" = true ]
check "WAL waiting to be archived is counted" gt "$(jv "$tmp/p.json" priv '.archiver.ready_count')" 0
sub_running() { psnap && [ "$(jv "$tmp/p.json" priv '.subscriptions[]|select(.name=="sub_items")|.pid|type')" = number ]; }
check "subscription with a running apply worker" wait_until 30 sub_running
check "subscription enabled, in database subdb" [ "$(jv "$tmp/p.json" priv '.subscriptions[]|select(.name=="sub_items")|(.enabled|tostring)+" "+.database')" = "true subdb" ]
check "publication pub_items listed" [ "$(jv "$tmp/p.json" priv '.publications[].name')" = pub_items ]
check "logical slot with its confirmed lag" [ "$(jv "$tmp/p.json" priv '.slots[]|select(.slot_name=="sub_items")|.slot_type+" "+(.confirmed_lag_bytes|type)')" = "logical number" ]
check "the logical walsender is listed as logical" [ "$(jv "$tmp/p.json" priv '.replicas[]|select(.slot_type=="logical")|.application_name')" = sub_items ]
snapshot "$tmp/p.txt" -c "$tmp/priv.yaml"
check "text: archiver FAILING line" grep -q 'FAILING' "$tmp/p.txt"
check "text: subscription line with its slot's lag" grep -q 'subscription sub_items on priv.*lag .* (slot on priv)' "$tmp/p.txt"
check "every snapshot exited 0" [ ! -s "$tmp/snap.rc" ]
[ -s "$tmp/snap.rc" ] && sed 's/^/    | /' "$tmp/snap.rc" | head -5
no_output "the snapshots said nothing on stderr (no sanitizer report, no stray message)" "$tmp/snap.err"
finish
