# locks.sh — the Locks pane against a real 3-level lock chain on the lab's primary:
#   A  BEGIN; UPDATE locks_t … WHERE id = 1, then idle in transaction (holds the row)
#   B  UPDATE of the same row: waits for A
#   C  ALTER TABLE locks_t ADD COLUMN: wants an AccessExclusiveLock, waits for A and B
#   D, E  SELECTs from locks_t: queued behind C's request
# Asserts `snapshot --json` (lock_tree: one root A flagged idle in transaction, B under A, C DDL
# under A or B and also blocked by the other, D and E under C, counts), the text snapshot, and
# the screen in tmux at 120x40 (key 3: the tree with A's pid at its root, IDLE IN TRANSACTION,
# the DDL mark, tree lines in UTF-8 and in ASCII, Enter on the root opening its detail), and at
# 80x24; each TUI run quits with q, status 0, nothing on stderr. Then an idle blocker: F holds a
# session-level advisory lock, G waits for it; the root F still shows its query. The table is this test's own;
# every session is ended on exit.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
# one tmux server per TUI run: a server still exiting after a quit never swallows the next one
runs=0
sock=pgfleet-locks-$$-0
pane=locks:0.0
tab=locks_t
app=integ-locks-$$
a_psql= b_psql= c_psql= d_psql= e_psql= f_psql= g_psql=
P() { lab_psql "$PRIMARY_PORT" "$@"; }
our_backends() { P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    for ((i = 0; i <= runs; i++)); do tmux -L "pgfleet-locks-$$-$i" kill-server >/dev/null 2>&1; done
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/pgfleet-locks-$$-"* 2>/dev/null
    exec 8>&- 9>&- 2>/dev/null
    for p in $g_psql $f_psql $e_psql $d_psql $c_psql $b_psql $a_psql; do kill "$p" 2>/dev/null; done
    # the lab checks for gone clients every second; then the table can go
    wait_until 15 eval '[ "$(our_backends)" = 0 ]'
    P -c "SET lock_timeout = '10s'" -c "DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

backend_of() { P -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-$1'"; }
waiting() { [ "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app-$1' AND wait_event_type = 'Lock'")" = 1 ]; }
state_is() { [ "$(P -c "SELECT state FROM pg_stat_activity WHERE application_name = '$app-$1'")" = "$2" ]; }

P -c "DROP TABLE IF EXISTS $tab" -c "CREATE TABLE $tab (id int PRIMARY KEY, v int)" \
    -c "INSERT INTO $tab SELECT g, 0 FROM generate_series(1, 10) g" >/dev/null

# A: a psql fed from a FIFO held open, so its session stays idle in transaction
mkfifo "$tmp/a.in"
PGAPPNAME=$app-A "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/a.in" >/dev/null 2>&1 &
a_psql=$!
exec 8>"$tmp/a.in"
echo "BEGIN; UPDATE $tab SET v = v + 1 WHERE id = 1;" >&8
check "A is idle in transaction" wait_until 10 state_is A "idle in transaction"
b_psql=$(PGAPPNAME=$app-B lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 10 WHERE id = 1")
check "B waits" wait_until 10 waiting B
c_psql=$(PGAPPNAME=$app-C lab_bg_psql "$PRIMARY_PORT" "/* migration 42 */ ALTER TABLE $tab ADD COLUMN note text")
check "C waits" wait_until 10 waiting C
d_psql=$(PGAPPNAME=$app-D lab_bg_psql "$PRIMARY_PORT" "SELECT count(*) FROM $tab")
e_psql=$(PGAPPNAME=$app-E lab_bg_psql "$PRIMARY_PORT" "SELECT sum(v) FROM $tab")
check "D and E wait" wait_until 10 eval 'waiting D && waiting E'
A=$(backend_of A) B=$(backend_of B) C=$(backend_of C) D=$(backend_of D) E=$(backend_of E)
echo "  backends: A=$A B=$B C=$C D=$D E=$E"

# ---- JSON
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
YAML
"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>"$tmp/err"
check "snapshot exits 0 with valid JSON" jq -e . "$tmp/s.json" >/dev/null
j() { jq -r "$1" "$tmp/s.json"; }
PRIM='.servers[] | select(.name == "primary")'
check "no locks probe error" [ "$(j "$PRIM | .probe_errors.locks // \"none\"")" = none ]
check "exactly one root among our sessions, and it is A" \
    [ "$(j "[$PRIM | .lock_tree[] | select([.. | objects | .pid?] | any(. == $A or . == $B or . == $C)) | .pid] | join(\",\")")" = "$A" ]
ROOT="$PRIM | .lock_tree[] | select(.pid == $A)"
check "A is flagged idle in transaction" [ "$(j "$ROOT | \"\(.state) \(.idle_in_transaction)\"")" = "idle in transaction true" ]
check "A's transaction age is reported" [ "$(j "$ROOT | .xact_age_s > 0")" = true ]
check "A holds RowExclusiveLock on $tab" [ "$(j "$ROOT | .holds")" = "RowExclusiveLock on $tab" ]
check "A blocks 4 sessions" [ "$(j "$ROOT | .blocked_count")" = 4 ]
check "A carries its backend_start for actions" [ -n "$(j "$ROOT | .backend_start // empty")" ]
check "B is directly under A" [ "$(j "[$ROOT | .waiters[].pid] | index($B) != null")" = true ]
check "B waits for A's transaction, on a row of $tab" [ "$(j "$ROOT | .waiters[] | select(.pid == $B) | \"\(.locktype) \(.mode) \(.relation)\"")" = "transactionid ShareLock $tab" ]
CN="[$PRIM | .lock_tree[] | .. | objects | select(.pid? == $C)][0]"
BN="[$PRIM | .lock_tree[] | .. | objects | select(.pid? == $B)][0]"
c_parent=$(j "[$ROOT | .. | objects | select(.waiters? and ([.waiters[].pid] | index($C) != null)) | .pid][0]")
c_also=$(j "$CN | .also_blocked_by | map(tostring) | join(\",\")")
c_placed() { { [ "$c_parent" = "$A" ] && [ "$c_also" = "$B" ]; } || { [ "$c_parent" = "$B" ] && [ "$c_also" = "$A" ]; }; }
check "C hangs under A or B (under $c_parent), also blocked by the other ($c_also)" c_placed
check "C is DDL" [ "$(j "$CN | .is_ddl")" = true ]
check "C wants AccessExclusiveLock on $tab" [ "$(j "$CN | \"\(.mode) \(.relation)\"")" = "AccessExclusiveLock $tab" ]
check "C has waited a measured time" [ "$(j "$CN | .wait_s > 0")" = true ]
check "D and E are under C" [ "$(j "$CN | [.waiters[].pid] | sort | map(tostring) | join(\",\")")" = "$(printf '%s\n' "$D" "$E" | sort -n | paste -sd,)" ]
check "D and E are not DDL" [ "$(j "$CN | [.waiters[].is_ddl] | any")" = false ]
b_blocks=0
[ "$c_parent" = "$B" ] && b_blocks=3
check "C blocks 2 (D, E); B blocks $b_blocks (C, D, E when C is under it)" \
    [ "$(j "$CN | .blocked_count") $(j "$BN | .blocked_count")" = "2 $b_blocks" ]
check "the Fleet figure counts the 4 waiters" [ "$(j "$PRIM | .blocked")" -ge 4 ]
check "the replica has an empty lock tree" [ "$(j '.servers[] | select(.name == "replica") | .lock_tree | length')" = 0 ]

# ---- text snapshot: an indented listing
"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/s.txt" 2>>"$tmp/err"
check "text: A at the root, idle in transaction" grep -qE "^  $A IDLE IN TRANSACTION, xact [0-9.]+[smhd]" "$tmp/s.txt"
check "text: B indented under A" grep -qE "^    $B active, waits .* for ShareLock on $tab \(row\)" "$tmp/s.txt"
check "text: C marked DDL" grep -qE "^ +$C DDL active, waits .* for AccessExclusiveLock on $tab" "$tmp/s.txt"
check "text: the replica has no lock waits" grep -qE "^no lock waits: .*replica" "$tmp/s.txt"

# ---- the screen, 120x40
start_tui() { # LANG LC_ALL COLS ROWS: a new pgfleet (run $runs, output in $tmp/tui$runs.*) on pane 3
    T kill-server >/dev/null 2>&1
    runs=$((runs + 1))
    sock=pgfleet-locks-$$-$runs
    launch_tui locks "$3" "$4" "$tmp/tui$runs" "LANG=$1" "LC_ALL=$2" TERM=screen -- -c "$tmp/fleet.yaml"
    require "run $runs: the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
    keys 3
}
start_tui C.UTF-8 C.UTF-8 120 40
expect "pane 3 shows the primary's summary" 10 has "primary: 4 sessions waiting, 1 blocking tree"
expect "A's pid starts a root line, IDLE IN TRANSACTION" 5 has_re "^$A +IDLE IN TRANSACTION +holds RowExclusive +$tab +xact "
expect "B under A with a UTF-8 tree line" 5 has_re "^(├|└)─ $B +active +Share +$tab \(row\) +wait "
expect "C marked DDL, wanting AccessExclusive" 5 has_re "(├|└)─ $C +DDL +active +AccessExclusive +$tab +wait .*also blocked by"
expect "D and E under C" 5 eval 'has_re "(├|└)─ $D " && has_re "(├|└)─ $E "'
expect "no lock waits on the replica" 5 has "no lock waits: replica"
screen >"$tmp/screen-120x40.txt"
keys Home Enter
expect "Enter on the root opens A's detail (idle in transaction)" 5 eval 'has "Session $A on primary" && has_re "^ state +idle in transaction"'
keys Escape
expect "Esc goes back to the tree" 5 has "primary: 4 sessions waiting"
keys Down Down Enter
expect "Down Down Enter opens the next node's detail" 5 has_re "Session ($B|$C) on primary"
keys Escape
T resize-window -t locks -x 80 -y 24
expect "80x24: root, IDLE IN TRANSACTION and DDL still shown" 5 eval 'has_re "^$A +IDLE IN TRANSACTION" && has_re "─ $C +DDL "'
quit_tui "$tmp/tui$runs" "run $runs (UTF-8)"
start_tui C C 120 40
expect "ASCII fallback tree lines without UTF-8" 10 eval 'has_re "^(\|-|\`-) $B " && has_re "^ *(\|-|\`-) $C +DDL" && lacks "─"'
quit_tui "$tmp/tui$runs" "run $runs (ASCII)"
cp "$tmp/screen-120x40.txt" "${LOCKS_SCREEN_OUT:-/dev/null}" 2>/dev/null

# ---- the chain ends: killing A lets B, then C, then D and E through
kill "$a_psql"
check "after A ends, no lock waits of ours remain" wait_until 20 eval '[ "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '"'$app-%'"' AND wait_event_type = '"'Lock'"'")" = 0 ]'
"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s2.json" 2>>"$tmp/err"
check "and the primary's lock tree is empty" [ "$(jq "$PRIM | .lock_tree | length" "$tmp/s2.json")" = 0 ]
# ---- an idle blocker: F holds a session-level advisory lock and is idle (not in a transaction);
# G waits for it. The sessions probe ships no query text for idle sessions; the locks probe
# looks F's up, so the root still says what F ran.
mkfifo "$tmp/f.in"
PGAPPNAME=$app-F "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/f.in" >/dev/null 2>&1 &
f_psql=$!
exec 9>"$tmp/f.in"
echo "SELECT pg_advisory_lock(424242);" >&9
check "F is idle, holding an advisory lock" wait_until 10 state_is F idle
g_psql=$(PGAPPNAME=$app-G lab_bg_psql "$PRIMARY_PORT" "SELECT pg_advisory_lock(424242)")
check "G waits" wait_until 10 waiting G
F=$(backend_of F) G=$(backend_of G)
"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s3.json" 2>>"$tmp/err"
FROOT="$PRIM | .lock_tree[] | select(.pid == $F)"
check "F is a root, idle, with the query it ran" \
    [ "$(jq -r "$FROOT | \"\(.state)|\(.query)\"" "$tmp/s3.json")" = "idle|SELECT pg_advisory_lock(424242);" ]
check "F holds the advisory lock" jq -e "$FROOT | .holds | test(\"^ExclusiveLock on advisory \")" "$tmp/s3.json"
check "G waits under F, with its user and query" \
    [ "$(jq -r "$FROOT | .waiters[] | select(.pid == $G) | \"\(.user)|\(.query)\"" "$tmp/s3.json")" = "postgres|SELECT pg_advisory_lock(424242)" ]
no_output "the snapshots said nothing on stderr" "$tmp/err"
finish
