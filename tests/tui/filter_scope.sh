# filter_scope.sh — the filter and the scope in every pane, and tags, in a 120x40 tmux pane: a
# fleet of the lab's primary (tags orders, eu-west), replica (tag lab), pgBouncer and a server
# that is DOWN (nothing listens on its port; tag graveyard); on the primary a session H idle in
# transaction blocks W.
# (1) Fleet: a TAGS column; / matches tags (and any cell) and hides the other servers; the
#     Activity and Locks panes match a server's tags too; panes that do not filter say so in the
#     tab bar, and / there says which panes do;
# (2) Locks: / hides the lock trees it does not match and says so when it hides them all; a
#     match keeps the whole tree from its root;
# (3) scope: Enter on a Fleet row scopes every pane, shown as "scope: NAME (Esc: all)"; back in
#     Fleet the scoped row is marked and a line says what the scope does; Esc clears the filter
#     first, then the scope; Jobs are scoped too;
# (4) Enter on the DOWN server: Activity says "server is DOWN: connection refused".
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-fscope-$$
tab=fscope_t
app=fscope$$
h_psql= w_psql=
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
ours() { q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    exec 7>&- 2>/dev/null
    for p in $w_psql $h_psql; do kill "$p" 2>/dev/null; done
    wait_until 15 eval '[ "$(ours)" = 0 ]'
    q "SET lock_timeout = '10s'; DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-$1'"; }
state_is() { [ "$(q "SELECT state FROM pg_stat_activity WHERE application_name = '$app-$1'")" = "$2" ]; }
waiting() { [ "$(q "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = '$app-$1'")" = Lock ]; }
fleet_shown() { line_re 3 '^SERVER +ROLE'; }
list_shown() { line_re 3 '^SERVER +PID'; }
forest_shown() { line_re 3 '^PID +FLAG +STATE'; }
# fleet_row NAME: the Fleet row of server NAME (the scoped one is marked "> NAME")
fleet_row() { rows | awk -v s="$1" '$1 == s || ($1 == ">" && $2 == s)'; }
# select_server NAME: on the Fleet, move the selection to NAME's row with j
select_server() {
    local n i
    n=$(rows | awk -v s="$1" '$1 == s || $2 == s {print NR; exit}')
    keys Home
    for ((i = 1; i < ${n:-1}; i++)); do keys j; done
}
filter() { # TEXT: type it at the / prompt, Enter keeps it
    keys /
    wait_until 3 line_starts 40 "Filter: "
    typ "$1"
    keys Enter
    wait_until 3 line_has 2 "filter: $1"
}

dead=$(lab_free_port "$PRIMARY_PORT" "$REPLICA_PORT" "$BOUNCER_PORT")
cat >"$tmp/fleet.yaml" <<YAML
refresh: 500ms
timeout: 2s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO", tags: [orders, eu-west] }
  - { name: replica, conninfo: "$REPLICA_CONNINFO", tags: [lab] }
  - { name: dead, conninfo: "host=127.0.0.1 port=$dead dbname=labdb user=postgres", tags: [graveyard] }
poolers:
  - { name: bouncer, conninfo: "$BOUNCER_CONNINFO", serves: [primary] }
YAML

q "DROP TABLE IF EXISTS $tab; CREATE TABLE $tab (id int PRIMARY KEY, v int); INSERT INTO $tab VALUES (1, 0)" >/dev/null
mkfifo "$tmp/H.in"
PGAPPNAME=$app-H "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb <"$tmp/H.in" >/dev/null 2>&1 &
h_psql=$!
exec 7>"$tmp/H.in"
echo "BEGIN; UPDATE $tab SET v = v + 1 WHERE id = 1;" >&7
require "H is idle in transaction" 10 state_is H "idle in transaction"
w_psql=$(PGAPPNAME=$app-W lab_bg_psql "$PRIMARY_PORT" "/*fscope-w*/ UPDATE $tab SET v = v + 10 WHERE id = 1")
require "W waits for H" 10 waiting W
h=$(backend_of H)

launch_tui tui 120 40 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$tmp/fleet.yaml"

# ---- (1) Fleet, tags, filter
require "Fleet: four rows, dead DOWN" 10 eval 'fleet_shown && nrows_is 4 && [ "$(status_of dead)" = DOWN ]'
expect "a TAGS column" 5 line_re 3 ' TAGS '
check "the primary's tags: orders,eu-west" eval 'fleet_row primary | grep -qF "orders,eu-west"'
check "dead's tag: graveyard" eval 'fleet_row dead | grep -qF graveyard'
filter eu-west
expect "/eu-west: only the primary (its tag) is listed" 3 eval 'nrows_is 1 && [ -n "$(fleet_row primary)" ]'
keys 2
expect "Activity under /eu-west: the primary's sessions (a tag of their server)" 5 eval 'list_shown && has "/*fscope-w*/"'
keys 3
expect "Locks under /eu-west: H's tree" 5 eval 'forest_shown && has_re "^$h +IDLE IN TRANSACTION"'
keys 4
expect "Replication: the tab bar says the filter is not used here" 3 line_has 2 "filter: eu-west (not in this pane)"
keys /
expect "/ there: 'this pane has no filter' and which panes have one" 3 line_has 40 "this pane has no filter: / filters Fleet, Activity, Locks, Statements, Jobs"
check "… and no prompt opened" line_lacks 40 "Filter: "
keys 5
expect "Connections says so too" 3 line_has 2 "(not in this pane)"
keys 1
expect "back in Fleet the filter applies again" 3 eval 'line_has 2 "filter: eu-west" && line_lacks 2 "not in this pane"'
keys Escape
expect "Esc clears the filter: four rows" 3 eval 'line_lacks 2 "filter:" && nrows_is 4'
filter zzz
expect "/zzz: 'no server matches the filter (Esc clears it)'" 3 eval 'has "no server matches the filter (Esc clears it)" && nrows_is 1'
keys Escape
wait_until 3 nrows_is 4

# ---- (2) Locks
keys 3
wait_until 5 forest_shown
filter zzz
expect "/zzz in Locks: the tree is hidden, and the pane says why" 3 eval 'has "no lock wait matches the filter (Esc clears it)" && lacks_re "^$h "'
keys Escape
expect "Esc: the tree is back" 3 has_re "^$h +IDLE IN TRANSACTION"
filter "fscope-w"
expect "/fscope-w (W's query): the whole tree, from H at its root" 3 eval 'has_re "^$h +IDLE IN TRANSACTION" && has "/*fscope-w*/"'
keys Escape
wait_until 3 line_lacks 2 "filter:"

# ---- (3) scope
keys 1
wait_until 3 fleet_shown
select_server primary
keys Enter
expect "Enter on primary: Activity, 'scope: primary (Esc: all)'" 3 eval 'list_shown && line_has 2 "scope: primary (Esc: all)"'
expect "… its sessions" 3 has "/*fscope-w*/"
keys 3
expect "Locks keeps the scope" 3 eval 'line_has 2 "scope: primary" && has_re "^primary: 1 session waiting"'
keys 1
expect "Fleet under the scope: the primary's row is marked" 3 eval 'rows | grep -qE "^> primary "'
check "… a line says what the scope does" has "scope: primary (>): the other panes show only it; S next server, Esc all servers"
check "… and the other servers are still listed" eval '[ -n "$(fleet_row replica)" ] && [ -n "$(fleet_row dead)" ]'
keys 9
expect "Jobs under the scope: 'no actions on this server yet (Esc: all servers)'" 3 has "no actions on this server yet (Esc: all servers)"
filter zzz
expect "… and under a filter: 'no job matches the filter (Esc clears it)'" 3 has "no job matches the filter (Esc clears it)"
keys Escape
expect "Esc clears the filter first: the scope stays" 3 eval 'line_lacks 2 "filter:" && line_has 2 "scope: primary"'
keys Escape
expect "Esc again clears the scope" 3 eval 'line_lacks 2 "scope:" && has "scope: all servers again"'
keys 1
expect "Fleet: no row marked, no scope line" 3 eval 'fleet_shown && ! rows | grep -q "^> " && lacks "the other panes show only it"'

# ---- (4) a DOWN server
select_server dead
keys Enter
expect "Enter on the DOWN server: 'server is DOWN: connection refused'" 3 eval 'line_has 2 "scope: dead" && has "server is DOWN: connection refused"'
check "… not 'no active sessions'" lacks "no active sessions"
keys Escape
quit_tui "$tmp/tui"
finish
