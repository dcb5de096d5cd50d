# matrix.sh — every PostgreSQL major 12..18 run for real (tests/lab/majors: one server per major,
# pg_stat_statements and track_io_timing on), with the same small incident on each: a lock chain
# rooted at a session idle in transaction (A holds a row; B waits for it; C, an ALTER TABLE,
# waits for both; D, a plain read, queues behind C), a long query, a slow VACUUM (progress), a
# write load, a statement of pgfleet's own role that is not pgfleet's, an inactive physical slot,
# a publication and a subscription (disabled).
# Then one `pgfleet snapshot --json` of the seven as a fleet (as mx_monitor, a pg_monitor role):
# - it validates against doc/snapshot.schema.json;
# - every figure of doc/versions.md's table is there, or absent (null) on exactly the versions
#   the table says, with the reason the snapshot gives where it gives one;
# - each lock tree has one root, A, idle in transaction, blocking B, C and D (C also blocked by B);
# - pgfleet's own statements never appear in Statements (none of mx_monitor's entries but the
#   one the test ran itself), on every version (PostgreSQL 18 drops a leading comment), nor those
#   of another pgfleet watching as another role (postgres) at the same time;
# and the monitor in tmux draws every pane with every server and quits cleanly.
# The 15 lab (replica, pgBouncer) is the other suites'; replication on the other majors is
# covered by the fixtures of tests/data/probes (see doc/versions.md).
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB_TOOLS/lab-lib.sh"

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
schema=$top/doc/snapshot.schema.json
table=$top/doc/versions.md
tmp=$(mktemp -d)
MX=$(mktemp -d "${TMPDIR:-/tmp}/pgfleet-mx.XXXXXX")
sock=pgfleet-matrix-$$
pane=mx:0.0
pids=()
fds=()
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    for fd in "${fds[@]}"; do eval "exec $fd>&-"; done 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    "$LAB_TOOLS/majors" stop "$MX" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

t0=$(ms_now)
if ! "$LAB_TOOLS/majors" start "$MX" >"$tmp/start.log" 2>&1; then
    fail "a server of every major starts (tests/lab/majors start)"
    sed 's/^/    | /' "$tmp/start.log"
    finish
    exit 1
fi
ok "$(tail -n 1 "$tmp/start.log" | sed 's/ on ports.*//; s/^majors: //') started in $((($(ms_now) - t0) / 1000)) s"
. "$MX/env"

port() { local v=MX_PORT_$1; echo "${!v}"; }
PSQL=$(lab_psql_bin)
# sql MAJOR SQL...: as postgres in database postgres (never in labdb: pgfleet's role and
# database are the ones whose statements are checked)
sql() {
    local m=$1
    shift
    lab_psql "$(port "$m")" -d postgres "$@"
}
# bg MAJOR USER APP SQL: a background session of USER in labdb running SQL
bg() {
    PGAPPNAME=$3 "$PSQL" -X -q -h 127.0.0.1 -p "$(port "$1")" -U "$2" -d labdb -c "$4" </dev/null >/dev/null 2>&1 &
    pids+=($!)
}
# count_is MAJOR N WHERE: N sessions of pg_stat_activity match WHERE
count_is() { [ "$(sql "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE $3")" = "$2" ]; }
# on_all WHAT CMD...: CMD MAJOR ... holds for every major (bounded wait each)
on_all() {
    local what=$1 m bad=
    shift
    for m in $MX_MAJORS; do wait_until 20 "$@" "$m" || bad+=" $m"; done
    if [ -z "$bad" ]; then ok "$what: on every major"; else fail "$what: not on$bad"; fi
}
waiting() { count_is "$2" 1 "application_name = '$1' AND wait_event_type = 'Lock'"; }
a_idle() { count_is "$1" 1 "application_name = 'mx-A' AND state = 'idle in transaction'"; }
long_runs() { count_is "$1" 1 "application_name = 'mx-long' AND state = 'active'"; }
vacuums() { [ "$(sql "$1" -c "SELECT count(*) FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'mx-vacuum'")" = 1 ]; }

# ---- the incident, on every major at once
for m in $MX_MAJORS; do
    lab_psql "$(port "$m")" >/dev/null <<'EOF'
SET client_min_messages = warning;
CREATE TABLE ledger (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ledger SELECT g FROM generate_series(1, 100) g;
CREATE TABLE bloat (id int, pad text);
INSERT INTO bloat SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
DELETE FROM bloat;
GRANT ALL ON ledger, bloat TO mx_app;
GRANT SELECT ON ledger TO mx_monitor;
SELECT pg_create_physical_replication_slot('mx_slot', true);
CREATE PUBLICATION mx_pub FOR TABLE ledger;
SET client_min_messages = error;
CREATE SUBSCRIPTION mx_sub CONNECTION 'host=127.0.0.1 port=1 dbname=none' PUBLICATION mx_pub
    WITH (connect = false);
EOF
    # A: a row of accounts, held idle in transaction (a psql fed from a FIFO kept open)
    mkfifo "$tmp/a$m.in"
    PGAPPNAME=mx-A "$PSQL" -X -q -h 127.0.0.1 -p "$(port "$m")" -U mx_app -d labdb <"$tmp/a$m.in" >/dev/null 2>&1 &
    pids+=($!)
    exec {fd}>"$tmp/a$m.in"
    fds+=("$fd")
    echo "BEGIN; UPDATE accounts SET balance = balance - 1 WHERE id = 1;" >&"$fd"
done
on_all "A holds row 1 of accounts, idle in transaction" a_idle
for m in $MX_MAJORS; do bg "$m" mx_app mx-B "UPDATE accounts SET balance = balance + 1 WHERE id = 1"; done
on_all "B waits for A's row" waiting mx-B
# the migration: needs the whole table, so it waits for A and B; reads then queue behind it
for m in $MX_MAJORS; do bg "$m" postgres mx-C "ALTER TABLE accounts ADD COLUMN note text"; done
on_all "C (ALTER TABLE) waits for A and B" waiting mx-C
for m in $MX_MAJORS; do
    bg "$m" mx_app mx-D "SELECT count(*) FROM accounts"
    bg "$m" mx_app mx-long "SELECT pg_sleep(600)"
    # a VACUUM slowed down to last minutes: progress
    PGOPTIONS='-c vacuum_cost_delay=100ms -c vacuum_cost_limit=1' bg "$m" postgres mx-vacuum "VACUUM bloat"
    # a write load (as mx_app), and one statement of pgfleet's own role and database
    {
        i=0
        while :; do
            i=$((i % 100 + 1))
            echo "UPDATE ledger SET v = v + 1 WHERE id = $i;"
            echo "SELECT pg_sleep(0.02);"
        done
    } | PGAPPNAME=mx-load "$PSQL" -X -q -h 127.0.0.1 -p "$(port "$m")" -U mx_app -d labdb >/dev/null 2>&1 &
    pids+=($!)
    {
        while :; do
            echo "SELECT /* mx-same-role */ count(*), pg_sleep(0.1) FROM ledger WHERE v >= 0;"
        done
    } | PGAPPNAME=mx-same-role "$PSQL" -X -q -h 127.0.0.1 -p "$(port "$m")" -U mx_monitor -d labdb >/dev/null 2>&1 &
    pids+=($!)
done
on_all "D (a read) queues behind C" waiting mx-D
on_all "a long query runs" long_runs
on_all "a VACUUM is in progress" vacuums
ok "the incident is set up on every major after $((($(ms_now) - t0) / 1000)) s"

# ---- the snapshot
# fleet_yaml USER: the seven as a fleet, watched as USER
fleet_yaml() {
    echo "refresh: 1s"
    echo "timeout: 5s"
    echo "servers:"
    for m in $MX_MAJORS; do
        echo "  - { name: pg$m, conninfo: \"host=127.0.0.1 port=$(port "$m") dbname=labdb user=$1\" }"
    done
}
fleet=$tmp/fleet.yaml
fleet_yaml mx_monitor >"$fleet"
fleet_yaml postgres >"$tmp/other.yaml"
# another pgfleet, as another role, busy at the same time: its statements are pgfleet's too
(
    trap 'kill "$c" 2>/dev/null; exit 0' TERM
    while :; do
        "${PGFLEET_RELEASE:-$PGFLEET}" snapshot -c "$tmp/other.yaml" >/dev/null 2>&1 &
        c=$!
        wait "$c"
    done
) &
other=$!
pids+=("$other")
: >"$tmp/err"
"$PGFLEET" snapshot --json -c "$fleet" >"$tmp/s.json" 2>>"$tmp/err"
kill "$other" 2>/dev/null
wait "$other" 2>/dev/null
check "snapshot --json of the seven exits 0 and is JSON" jq -e '.servers | length == 7' "$tmp/s.json"
check "the snapshot validates against doc/snapshot.schema.json" python3 - "$schema" "$tmp/s.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.validators.validator_for(schema)(schema)
errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errs[:20]:
    print("    |", "/".join(str(p) for p in e.absolute_path) or "(root)", ":", e.message[:300])
sys.exit(1 if errs else 0)
PY
# MATRIX_SAVE=DIR keeps the snapshot there (to see every figure of every version, or to redo
# doc/versions.md's table)
[ -z "${MATRIX_SAVE:-}" ] || cp "$tmp/s.json" "$MATRIX_SAVE/matrix-snapshot.json"
j() { jq -r "$1" "$tmp/s.json"; }
S() { echo ".servers[]|select(.name==\"pg$1\")"; }

for m in $MX_MAJORS; do
    check "pg$m: UP, primary, version $m.x" [ "$(j "$(S "$m")|\"\(.status) \(.role) \(.version_num / 10000 | floor)\"")" = "UP primary $m" ]
done

# ---- figures: doc/versions.md's table, row by row: "yes" = a value, "n/a…" = null there
# A row is | figure | `jq path` | 12 | 13 | … | 18 |; the jq path is read from each server.
figures=$(awk -F'|' '/^\| .* \| `\.[^`]*` \|/ {
    p = $3; gsub(/^ *`|` *$/, "", p); printf "%s", p
    for (i = 4; i < NF; i++) { c = $i; gsub(/^ +| +$/, "", c); printf "\t%s", (c ~ /^yes/ ? "yes" : "n/a") }
    printf "\n" }' "$table")
check "doc/versions.md has the figure table" [ "$(grep -c . <<<"$figures")" -ge 20 ]
cols=$(awk -F'|' '/^\| figure / { for (i = 4; i < NF; i++) { c = $i; gsub(/ /, "", c); printf "%s ", c } exit }' "$table")
check "its columns are the majors ($cols)" [ "${cols% }" = "$MX_MAJORS" ]
while IFS=$'\t' read -r path cells; do
    read -ra want <<<"$cells"
    k=0 bad=
    for m in $MX_MAJORS; do
        have=$(j "$(S "$m")|$path|if . == null then \"n/a\" else \"yes\" end" 2>/dev/null)
        [ "$have" = "${want[$k]}" ] || bad+=" pg$m:$have(want ${want[$k]})"
        k=$((k + 1))
    done
    if [ -z "$bad" ]; then ok "figure $path as the table says"; else fail "figure $path:$bad"; fi
done <<<"$figures"

# reasons the snapshot gives for what is absent, and no other probe error
for m in $MX_MAJORS; do
    errs=$(j "$(S "$m")|.probe_errors|del(.flush)|to_entries|map(\"\\(.key): \\(.value)\")|join(\"; \")")
    if [ "$m" -lt 16 ]; then want="io: needs PostgreSQL 16 or later"; else want=""; fi
    check "pg$m: probe errors: only what the version lacks (${errs:-none})" [ "$errs" = "$want" ]
    # the flush probe is not needed before 15 (probe_server.c); it is no error either
    check "pg$m: no probe error for the flush probe (not needed before 15)" \
        [ "$(j "$(S "$m")|.probe_errors.flush")" = null ]
    st=$(j "$(S "$m")|.io.errors.io // \"none\"")
    if [ "$m" -lt 16 ]; then
        check "pg$m: pg_stat_io's absence says why ($st)" [ "$st" = "needs PostgreSQL 16 or later" ]
    else
        check "pg$m: pg_stat_io has no error" [ "$st" = none ]
    fi
    src=$(j "$(S "$m")|.io.wal.source")
    if [ "$m" -lt 14 ]; then want="wal position"; else want=pg_stat_wal; fi
    check "pg$m: WAL rate from $want" [ "$src" = "$want" ]
    src=$(j "$(S "$m")|.io.bgwriter.backend_source")
    if [ "$m" -lt 17 ]; then want=pg_stat_bgwriter; else want=pg_stat_io; fi
    check "pg$m: backend writes from $want" [ "$src" = "$want" ]
done

# ---- the incident as seen: lock tree, activity, progress, statements
for m in $MX_MAJORS; do
    s=$(S "$m")
    apid=$(sql "$m" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mx-A'")
    check "pg$m: one lock tree, rooted at A ($apid), idle in transaction, blocking 3" \
        [ "$(j "[$s|.lock_tree[]|\"\(.pid) \(.state) \(.blocked_count)\"]|join(\",\")")" = "$apid idle in transaction 3" ]
    check "pg$m: under A: B, C (the DDL, also blocked by B) and D behind C" \
        [ "$(j "[$s|.lock_tree[0]|..|objects|select(.application_name? and .mode?)|\"\(.application_name):\(.is_ddl):\(.also_blocked_by|length)\"]|sort|join(\" \")")" = "mx-B:false:0 mx-C:true:1 mx-D:false:0" ]
    check "pg$m: activity shows the long query" [ "$(j "[$s|.activity[]|select(.application_name == \"mx-long\" and .state == \"active\")]|length")" = 1 ]
    check "pg$m: blocked 3, one idle in transaction" [ "$(j "$s|\"\(.blocked) \(.connections.idle_in_transaction)\"")" = "3 1" ]
    check "pg$m: the VACUUM's progress" [ "$(j "[$s|.progress[]|select(.command == \"VACUUM\")]|length")" = 1 ]
    check "pg$m: the write load is listed in Statements" [ "$(j "[$s|.statements[]|select(.user == \"mx_app\" and (.query|test(\"UPDATE ledger\")))]|length")" = 1 ]
    # pgfleet marks its statements inside (after the first word): every version keeps that
    check "pg$m: pg_stat_statements has both pgfleets' statements, with the mark" \
        [ "$(lab_psql "$(port "$m")" -c "SELECT count(DISTINCT r.rolname) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE s.query LIKE '%/* pgfleet */%' AND s.calls > 1")" = 2 ]
    check "pg$m: no pgfleet statement is listed, of either role" \
        [ "$(j "[$s|.statements[]|select(.query // \"\"|contains(\"/* pgfleet */\"))]|length")" = 0 ]
    check "pg$m: pgfleet's own statements are not listed (only the test's own of its role)" \
        [ "$(j "[$s|.statements[]|select(.user == \"mx_monitor\")|.query|sub(\"\\\\s+\"; \" \"; \"g\")]|join(\" | \")")" = 'SELECT /* mx-same-role */ count(*), pg_sleep($1) FROM ledger WHERE v >= $2' ]
done
no_output "the snapshot wrote nothing to stderr" "$tmp/err"

# ---- the TUI: every pane, every server (tall enough for every server's part of each pane)
# each MAJOR, a line of the screen matches ERE (MAJOR in it as %s)
each() {
    local m re
    read_screen || return 1
    for m in $MX_MAJORS; do
        re=${1//%s/$m}
        grep -qE -- "$re" <<<"$screen_text" || return 1
    done
}
# exactly N lines of the screen match ERE
lines_are() { read_screen && [ "$(grep -cE -- "$2" <<<"$screen_text")" = "$1" ]; }
launch_tui mx 200 150 "$tmp/tui" -- -c "$fleet"
expect "1 Fleet: every server UP, primary, with its version" 15 each '^pg%s +primary +%s\.[0-9]+ +(EOL +)?UP '
expect "1 Fleet: each blocked 3, one idle in transaction, PROG 1" 10 each '^pg%s .* UP +[0-9]+/37 +[0-9]+ +3 +1 .* 1 *$'
keys 2
expect "2 Activity: each server's long query" 10 each '^pg%s .*mx-long .*pg_sleep\(600\)'
keys 3
expect "3 Locks: each server: 3 sessions waiting, one tree" 10 each '^pg%s: 3 sessions waiting, 1 blocking tree$'
expect "3 Locks: 7 roots idle in transaction blocking 3" 5 lines_are 7 \
    '^[0-9]+ +IDLE IN TRANSACTION holds RowExclusive +accounts +xact [0-9.hms]+ +3 UPDATE accounts SET balance = balance - 1'
expect "3 Locks: 7 DDL waiters, each also blocked by a second session" 5 lines_are 7 \
    ' DDL +active +AccessExclusive +accounts +wait [0-9.hms]+ +1 also blocked by [0-9]+ \| ALTER TABLE'
keys 4
expect "4 Replication: each server, a primary with its slot" 10 each '^. pg%s +primary, PG %s\.[0-9]+ +timeline 1 '
expect "4 Replication: each server's inactive slot" 5 lines_are 7 '^ +mx_slot +physical INACTIVE retains '
expect "4 Replication: no error (pg_subscription's columns before 14)" 5 lacks_re 'permission denied|error'

keys 5
expect "5 Connections: each server's part" 10 each '^pg%s +primary +%s\.'
keys 6
expect "6 Cache & IO: each server's part" 10 each '^pg%s +primary +%s\.[0-9]+ +interval'
expect "6 Cache & IO: pg_stat_io needs 16 (said for 12 to 15)" 5 lines_are 4 'pg_stat_io needs PostgreSQL 16'
expect "6 Cache & IO: WAL from its position on 12 and 13" 5 lines_are 2 '^ +WAL .*\(wal position\)'
keys 7
expect "7 Statements: each server's write load" 15 each '^pg%s .*UPDATE ledger SET v = v \+ \$1 WHERE id = \$2'
keys 9
expect "9 Jobs: no jobs" 5 has "no actions yet"
quit_tui "$tmp/tui" "the TUI on seven majors"
ok "the matrix took $((($(ms_now) - t0) / 1000)) s"
finish
