# ownreads.sh — pgfleet's own reads stay out of the Cache & IO rates. On the lab's idle primary
# and replica, snapshot --json at -d 1s and -d 200ms as postgres (a superuser: our probes run
# with track_counts off): no block hit or read and no tuple in any database, their total or the
# shared catalogs' row, no hit % anywhere (nothing was read), TPS 0, own_reads_counted false.
# As a pg_monitor role made here (dropped at the end): our reads are counted and said to be, but
# the connection's warm-up keeps the databases' share to a few blocks per refresh (the catalogs
# a probe scans every time, pg_publication once it has a page), the rest is in the shared
# catalogs' row; GRANT SET ON PARAMETER track_counts (15+) leaves them all out.
# Through pgBouncer (transaction pooling) a user's reads on the same server connections still
# count: nothing of ours sticks to them. Pane 6 in tmux says whose reads are counted.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-ownreads-$$
role=pgfleet_ownreads_$$
loads=()
stop_loads() {
    local p
    for p in "${loads[@]}"; do kill "$p" 2>/dev/null; done
    loads=()
}
drop_role() {
    lab_psql "$PRIMARY_PORT" -c "REVOKE SET ON PARAMETER track_counts FROM $role" >/dev/null 2>&1
    lab_psql "$PRIMARY_PORT" -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
}
cleanup() {
    stop_loads
    T kill-server >/dev/null 2>&1
    drop_role
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

version=$(lab_psql "$PRIMARY_PORT" -c "SHOW server_version_num")
: >"$tmp/err"
# snap DELAY CONNINFO: one snapshot of that server into $tmp/s.json (stderr collected in $tmp/err)
snap() {
    "$PGFLEET" snapshot --json -d "$1" "$2" >"$tmp/s.json" 2>>"$tmp/err"
}
jq_true() { jq -e ".servers[0] | $1" "$tmp/s.json" >/dev/null; }
# What the last snapshot said, for a failure's report.
why() {
    jq -c '.servers[0] | {status, reason, tps, hit: .cache.hit_pct, own: .cache.own_reads_counted,
        dbs: [.cache.databases[] | {name, blks_hit_per_s, blks_read_per_s, tup_returned_per_s, tup_fetched_per_s}],
        all: (.cache.all_databases | {blks_hit_per_s, tup_returned_per_s}),
        shared: (.cache.shared_objects | {blks_hit_per_s, tup_returned_per_s})}' "$tmp/s.json" 2>&1 | sed 's/^/    | /'
}
# A row that read nothing: blocks and tuples per second under 1 (old pgfleet: thousands).
QUIET='((.blks_hit_per_s + .blks_read_per_s) < 1 and (.tup_returned_per_s + .tup_fetched_per_s) < 1)'
DBS_QUIET="(.cache.databases | length) > 0 and all(.cache.databases[]; $QUIET) and (.cache.all_databases | $QUIET)"
SHARED_QUIET=".cache.shared_objects | $QUIET"
# A few blocks and tuples of ours per refresh, no more (a cold connection read thousands).
FEW='((.blks_hit_per_s + .blks_read_per_s) < 10 and (.tup_returned_per_s + .tup_fetched_per_s) < 100)'
DBS_FEW="(.cache.databases | length) > 0 and all(.cache.databases[]; $FEW) and (.cache.all_databases | $FEW)"
NO_RATIO='.cache.hit_pct == null and all(.cache.databases[]; .hit_pct == null) and .cache.all_databases.hit_pct == null'
# quiet_snap DELAY CONNINFO EXPR: snapshots until one shows EXPR (autovacuum may read a little
# now and then: a quiet interval must come, not every interval be quiet).
quiet_snap() { snap "$1" "$2" && jq_true "$3"; }
# expect_quiet "what" DELAY CONNINFO EXPR
expect_quiet() {
    if wait_until 30 quiet_snap "$2" "$3" "$4"; then ok "$1"; else fail "$1"; why; fi
}

# ---- a superuser: nothing of ours in any row, at two refresh rates, on both servers
for target in primary replica; do
    port_var=${target^^}_PORT
    conninfo="host=127.0.0.1 port=${!port_var} dbname=labdb user=postgres"
    for delay in 1s 200ms; do
        expect_quiet "$target -d $delay as a superuser: no block or tuple of ours in any database, their total or the shared catalogs" \
            "$delay" "$conninfo" "$DBS_QUIET and ($SHARED_QUIET)"
        check "$target -d $delay: no hit % (nothing was read), TPS $(jq -r '.servers[0].tps' "$tmp/s.json")" \
            jq_true "$NO_RATIO and .tps < 0.5"
        check "$target -d $delay: our own reads are not counted" jq_true '.cache.own_reads_counted == false'
    done
done

# ---- a pg_monitor role, which may not set track_counts
lab_psql "$PRIMARY_PORT" -c "CREATE ROLE $role LOGIN IN ROLE pg_monitor" >/dev/null
role_on_replica() { [ "$(lab_psql "$REPLICA_PORT" -c "SELECT count(*) FROM pg_roles WHERE rolname = '$role'")" = 1 ]; }
check "the monitor role reached the replica" wait_until 30 role_on_replica
for target in primary replica; do
    port_var=${target^^}_PORT
    conninfo="host=127.0.0.1 port=${!port_var} dbname=labdb user=$role"
    expect_quiet "$target as a pg_monitor role: the warm connection reads a few blocks of the databases at most" \
        1s "$conninfo" "$DBS_FEW"
    check "$target as a pg_monitor role: our reads are said to be counted" jq_true '.cache.own_reads_counted == true'
    check "$target as a pg_monitor role: they are in the shared catalogs' row ($(jq -r '.servers[0].cache.shared_objects.blks_hit_per_s' "$tmp/s.json") hits/s)" \
        jq_true '.cache.shared_objects.blks_hit_per_s > 0 and .cache.shared_objects.name == "(shared)"'
done
if [ "$version" -ge 150000 ]; then
    lab_psql "$PRIMARY_PORT" -c "GRANT SET ON PARAMETER track_counts TO $role" >/dev/null
    conninfo="host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=$role"
    expect_quiet "granted SET on track_counts, the pg_monitor role's reads are gone from the shared catalogs too" \
        1s "$conninfo" "$DBS_QUIET and ($SHARED_QUIET)"
    check "granted SET on track_counts: not counted" jq_true '.cache.own_reads_counted == false'
    lab_psql "$PRIMARY_PORT" -c "REVOKE SET ON PARAMETER track_counts FROM $role" >/dev/null
fi

# ---- through pgBouncer (transaction pooling): a user's reads on the pooled server connections
# still count while pgfleet's transactions there run with counting off
pooled="host=127.0.0.1 port=$BOUNCER_PORT dbname=labdb user=postgres"
{ while :; do echo "SELECT sum(balance) FROM accounts, pg_sleep(0.02);"; done; } 2>/dev/null |
    PGAPPNAME=ownreads-load "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d labdb >/dev/null 2>&1 &
loads+=($!)
read_load() { snap 1s "$pooled" && jq_true '[.cache.databases[] | select(.name == "labdb") | .blks_hit_per_s] | .[0] > 10'; }
if wait_until 30 read_load; then
    ok "through pgBouncer: a user's reads on the pooled server connections are counted ($(jq -r '.servers[0].cache.databases[] | select(.name == "labdb") | .blks_hit_per_s' "$tmp/s.json") hits/s)"
else
    fail "through pgBouncer: a user's reads on the pooled server connections are counted"
    why
fi
check "through pgBouncer: and our own reads are not" jq_true '.cache.own_reads_counted == false'
check "through pgBouncer: track_counts is back on for the next client of the pool" \
    [ "$(lab_psql "$BOUNCER_PORT" -c "SHOW track_counts")" = on ]
stop_loads
no_output "the snapshots said nothing on stderr (no sanitizer report)" "$tmp/err"

# ---- pane 6: the monitor role's server says its own reads are counted, the superuser's not
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
servers:
  - { name: as-monitor, conninfo: "host=127.0.0.1 port=$REPLICA_PORT dbname=labdb user=$role" }
  - { name: as-super, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=postgres" }
YAML
launch_tui ownreads 150 50 "$tmp/tui" -- -c "$tmp/fleet.yaml"
require "the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 6
expect "pane 6: the shared catalogs have a row of their own" 15 has_re '^  \(shared\) +'
if [ "$version" -ge 150000 ]; then
    expect "pane 6: the monitor role's server says its own reads are counted and how to leave them out" 15 \
        has "own reads    pgfleet's own reads are counted here:  GRANT SET ON PARAMETER track_counts TO $role  leaves them out"
else
    expect "pane 6: the monitor role's server says its own reads are counted" 15 \
        has "own reads    pgfleet's own reads are counted here:  only a superuser may set track_counts before PostgreSQL 15"
fi
check "pane 6: only once (the superuser's server counts none of ours)" [ "$(count_lines '^  own reads ')" = 1 ]
super_labdb_quiet() { screen | sed -n '/^as-super/,$p' | grep -qE '^  labdb +- +0 +0 '; }
expect "pane 6: labdb on the superuser's server: no hit %, no read, no hit" 15 super_labdb_quiet
quit_tui "$tmp/tui" "the TUI"
finish
