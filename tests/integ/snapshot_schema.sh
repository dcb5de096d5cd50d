# snapshot_schema.sh — real `pgfleet snapshot --json` documents validate against the published
# contract, doc/snapshot.schema.json (python3-jsonschema): a fleet of the lab's primary, replica
# and pgBouncer (serving the primary, a client waiting in it) plus a closed port (DOWN), with a
# session in pg_sleep, a lock wait (one session idle in transaction holding a row, one waiting
# for it) and pg_stat_statements rows from a light load. The documents hold what the test set up
# (so the schema is checked against every section, not empty arrays) and schema_version 1.
# Negative cases: a renamed key, an unknown key, a wrong type, a status outside its enum and
# another schema_version each make validation fail. No snapshot writes to stderr.
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

schema=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/doc/snapshot.schema.json
tmp=$(mktemp -d)
tab=pgfleet_schema_$$
app=integ-schema-$$
pids=()
P() { lab_psql "$PRIMARY_PORT" "$@"; }
ours() { P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    exec 8>&- 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait_until 15 eval '[ "$(ours)" = 0 ]'
    P -c "SET lock_timeout = '10s'" -c "DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

check "python3 has jsonschema (tests/lab/ensure-deps installs python3-jsonschema)" \
    python3 -c 'import jsonschema'
check "the schema is valid JSON Schema" python3 - "$schema" <<'PY'
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.validators.validator_for(s).check_schema(s)
PY

# validate FILE: 0 when the document is valid; the errors (at most 20) on stderr otherwise.
validate() {
    python3 - "$schema" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.validators.validator_for(schema)(schema)
errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errs[:20]:
    print("/".join(str(p) for p in e.absolute_path) or "(root)", ":", e.message[:300], file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}

closed=$(lab_free_port)
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO", tags: [prod, eu] }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
  - { name: closed, conninfo: "host=127.0.0.1 port=$closed dbname=labdb user=postgres" }
poolers:
  - { name: bouncer, conninfo: "$BOUNCER_CONNINFO", serves: [primary] }
YAML

P -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS $tab" -c "CREATE TABLE $tab (id int PRIMARY KEY, v int)" \
    -c "INSERT INTO $tab SELECT g, 0 FROM generate_series(1, 10) g" >/dev/null
# activity: a long query
pids+=("$(PGAPPNAME=$app-sleep lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(120)")")
# a lock wait: A holds row 1 idle in transaction (a psql fed from a FIFO held open), B waits
mkfifo "$tmp/a.in"
PGAPPNAME=$app-A "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/a.in" >/dev/null 2>&1 &
pids+=($!)
exec 8>"$tmp/a.in"
echo "BEGIN; UPDATE $tab SET v = v + 1 WHERE id = 1;" >&8
# B starts only once A holds the row: on a loaded machine B could otherwise take it first
check "A holds row 1, idle in transaction" wait_until 10 eval \
    "[ \"\$(P -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app-A' AND state = 'idle in transaction'\")\" = 1 ]"
pids+=("$(PGAPPNAME=$app-B lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 10 WHERE id = 1")")
check "B waits for A's lock" wait_until 10 eval \
    "[ \"\$(P -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app-B' AND wait_event_type = 'Lock'\")\" = 1 ]"
# pg_stat_statements: a light, steady load of one statement
{
    while :; do
        echo "SELECT /* $app */ count(*) FROM $tab WHERE v >= 0;"
        echo "SELECT pg_sleep(0.02);"
    done
} | PGAPPNAME=$app-load "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    >/dev/null 2>&1 &
pids+=($!)
# a pgBouncer client, so the pooler has a pool with an active client
pids+=("$(PGAPPNAME=$app-pooled lab_bg_psql "$BOUNCER_PORT" "SELECT pg_sleep(120)")")

: >"$tmp/err"
j() { jq -r "$1" "$tmp/s.json"; }
PR='.servers[]|select(.name=="primary")'
# Retried (bounded) until the snapshot holds every section the test set up.
snap_full() {
    "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>>"$tmp/err" || return 1
    [ "$(j "[$PR|.activity[]|select(.application_name==\"$app-sleep\")]|length")" = 1 ] &&
        [ "$(j "$PR|.lock_tree|length")" -ge 1 ] &&
        [ "$(j "$PR|.statements|length")" -ge 1 ] &&
        [ "$(j '.servers[]|select(.name=="bouncer")|.pools|length')" -ge 1 ]
}
check "a snapshot holds activity, a lock tree, statements and pools" wait_until 40 snap_full
check "schema_version is 1" [ "$(j '.schema_version')" = 1 ]
check "closed is DOWN" [ "$(j '.servers[]|select(.name=="closed")|.status')" = DOWN ]
check "replica is UP as replica" [ "$(j '.servers[]|select(.name=="replica")|.status+" "+.role')" = "UP replica" ]
check "B waits under A in the lock tree" [ "$(j "$PR|.lock_tree[0].waiters|length")" -ge 1 ]
check "primary's replication lists the replica" [ "$(j "$PR|.replication.replicas|length")" -ge 1 ]
check "the real snapshot validates against doc/snapshot.schema.json" validate "$tmp/s.json"
cp "$tmp/s.json" "$tmp/full.json"

# A second, plain snapshot (one server given on the command line, idle sessions included).
"$PGFLEET" snapshot --json --idle "$REPLICA_CONNINFO" >"$tmp/s2.json" 2>>"$tmp/err"
check "a single-server snapshot with --idle validates" validate "$tmp/s2.json"

# Negative cases: each mutation of the real document must fail validation.
mutate() { # NAME JQ-FILTER
    jq "$2" "$tmp/full.json" >"$tmp/bad.json" || { fail "$1: the jq mutation"; return; }
    check "$1 fails validation" eval "! validate '$tmp/bad.json' 2>/dev/null"
}
mutate "a renamed key (status -> state)" '.servers[0] |= (.state = .status | del(.status))'
mutate "an unknown top-level key" '. + {surprise: 1}'
mutate "an unknown key in an activity row" "($PR|.activity[0]) += {extra: true}"
mutate "a number as a string (tick_ms)" '.servers[0].tick_ms |= tostring'
mutate "a status outside its enum" '.servers[0].status = "MAYBE"'
mutate "schema_version 2" '.schema_version = 2'
mutate "a missing required key (lock_tree)" "del($PR|.lock_tree)"
mutate "a renamed key in a lock waiter (mode -> lock_mode)" \
    "($PR|.lock_tree[0].waiters[0]) |= (.lock_mode = .mode | del(.mode))"
mutate "a renamed key in a pool (cl_waiting -> waiting)" \
    '(.servers[]|select(.name=="bouncer")|.pools[0]) |= (.waiting = .cl_waiting | del(.cl_waiting))'

no_output "no snapshot wrote to stderr" "$tmp/err"
finish
