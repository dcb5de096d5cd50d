# statements.sh — the Statements pane's data against the lab: a distinctive statement run over
# and over while `pgfleet snapshot` takes its two samples tops `statements[]` with calls/s over
# the interval; our own probe statements are not listed; a server whose database lacks
# pg_stat_statements says how to install it (JSON, text) and nothing else breaks; a role without
# pg_monitor sees other users' entries summed as "<insufficient privilege>"; on screen (tmux)
# key 7 lists the statement, / filters, Enter shows the whole statement, Esc closes it.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-stmt-$$
db=pgfleet_nopgss_$$
pane=tui:0.0
load_pid=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
    lab_psql "$PRIMARY_PORT" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    lab_psql "$PRIMARY_PORT" -c "DROP TABLE IF EXISTS pgfleet_stmt_$$" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# A database without the extension (pg_stat_statements is cluster-wide, its view per database).
lab_psql "$PRIMARY_PORT" -c "CREATE DATABASE $db" >/dev/null
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 5s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
  - { name: nopgss, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=$db user=postgres" }
  - { name: nopriv, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=lab_nosignal" }
YAML

# The load: one session running the statement back to back (a few ms each) until killed, so it
# keeps most of a core busy during any interval the snapshot measures. It reads a table of its
# own: pg_stat_statements keys entries by the statement's shape (comments do not count), so a
# new table makes a new entry whose text is this run's.
marker=pgfleet_stmt_$$
lab_psql "$PRIMARY_PORT" -c "CREATE TABLE $marker AS SELECT * FROM accounts; ANALYZE $marker" >/dev/null
{
    i=0
    while :; do
        i=$(((i % 900) + 100))
        echo "SELECT /* pgfleet-stmt-test */ count(*) FROM $marker a, $marker b WHERE a.id < $i AND b.id < 300;"
    done
} | "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb >/dev/null 2>&1 &
load_pid=$!
calls() { lab_psql "$PRIMARY_PORT" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%$marker%'"; }
busy() { [ "$(calls)" -gt 20 ]; }
check "the load runs (pg_stat_statements counts it)" wait_until 20 busy

j() { jq -r "$1" "$tmp/s.json"; }
# One snapshot while the load runs; retried (bounded) only if the load had a hiccup.
: >"$tmp/err" # every snapshot's stderr goes here; it must stay empty
snap_ok() {
    "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>>"$tmp/err" &&
        [ "$(j '.servers[]|select(.name=="primary")|.statements[0].query // ""' | grep -c "$marker")" = 1 ]
}
check "snapshot: the statement tops primary's statements[]" wait_until 30 snap_ok
P='.servers[]|select(.name=="primary")'
top="$P|.statements[0]"
check "snapshot is valid JSON" bash -c "jq -e . '$tmp/s.json' >/dev/null"
check "no statements_error on the primary" [ "$(j "$P|.statements_error")" = null ]
iv=$(j "$P|.statements_interval_s")
check "rates are over a measured interval (${iv}s)" awk -v v="$iv" 'BEGIN{exit !(v > 0.3 && v < 10)}'
cps=$(j "$top|.calls_per_s")
check "calls/s over the interval > 0 ($cps)" awk -v v="$cps" 'BEGIN{exit !(v > 0)}'
load=$(j "$top|.total_ms_per_s")
check "its load (ms/s) > 0 ($load)" awk -v v="$load" 'BEGIN{exit !(v > 0)}'
mean=$(j "$top|.mean_ms")
check "mean time over the interval > 0 ($mean ms)" awk -v v="$mean" 'BEGIN{exit !(v > 0)}'
check "max (lifetime) >= mean" awk -v m="$(j "$top|.max_ms")" -v a="$mean" 'BEGIN{exit !(m >= a * 0.999)}'
check "database and user are named" [ "$(j "$top|.database + \" \" + .user")" = "labdb postgres" ]
check "queryid is a string of digits" bash -c "[[ '$(j "$top|.queryid")' =~ ^-?[0-9]+$ ]]"
j "$top|.query" >"$tmp/q.txt"
check "the query text is normalized (constants are \$n)" grep -qF 'a.id < $1 AND b.id < $2' "$tmp/q.txt"
check "rows/s and hit% are reported" [ "$(j "$top|[.rows_per_s, .hit_pct, .temp_blks_per_s]|map(type)|join(\",\")")" = "number,number,number" ]
check "sorted busiest first" bash -c "jq -e '$P|.statements|[.[].total_ms_per_s]|. == (sort|reverse)' '$tmp/s.json' >/dev/null"
check "at most 50 statements per server" [ "$(j "$P|.statements|length")" -le 50 ]
check "our own probe statements are not listed (of any connection: they carry our mark)" [ "$(j "[.servers[].statements[]?|select((.query // \"\")|contains(\"/* pgfleet */\"))]|length")" = 0 ]
check "progress[] is an array on every PostgreSQL server" [ "$(j '[.servers[]|select(.status=="UP")|.progress|type]|unique|join(",")')" = array ]

# Not installed in that database: the reason says how to install it; the server is fine.
N='.servers[]|select(.name=="nopgss")'
check "nopgss: the server is UP" [ "$(j "$N|.status")" = UP ]
check "nopgss: statements_error says it is not installed" bash -c "[[ '$(j "$N|.statements_error")' == 'pg_stat_statements is not installed: add it to shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements' ]]"
check "nopgss: statements[] is empty" [ "$(j "$N|.statements|length")" = 0 ]
check "nopgss: the probe reports no error (it did not run)" [ "$(j "$N|.probe_errors.statements // \"none\"")" = none ]

# A role without pg_monitor: other users' entries have no queryid and no text, summed.
R='.servers[]|select(.name=="nopriv")'
check "nopriv: the server is UP with statements" [ "$(j "$R|.status + \" \" + (.statements_error // \"ok\")")" = "UP ok" ]
hid=$(j "[$R|.statements[]|select(.queryid == null)][0]")
check "nopriv: the load shows as <insufficient privilege> with an entry count" bash -c "jq -e '.query == \"<insufficient privilege>\" and .entries >= 1 and .calls_per_s > 0 and .user == \"postgres\"' <<<'$hid' >/dev/null"
check "nopriv: no text of another user leaks" [ "$(j "[$R|.statements[]|select((.query // \"\")|contains(\"$marker\"))]|length")" = 0 ]

# The text form: the statement, and the one-line reason.
"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/s.txt" 2>>"$tmp/err"
check "text snapshot has a STATEMENTS section" grep -q '^STATEMENTS (' "$tmp/s.txt"
check "text snapshot lists the statement" grep -q "$marker" "$tmp/s.txt"
check "text snapshot says why nopgss has none" grep -q "nopgss: pg_stat_statements is not installed" "$tmp/s.txt"
check "text snapshot has a PROGRESS section" grep -q '^PROGRESS (' "$tmp/s.txt"
no_output "the snapshots said nothing on stderr" "$tmp/err"

# ---- on screen
# the primary's first row is the load (nopriv watches the same cluster: its summed row of
# other users' entries holds that load too, and may come first)
first_row_is_marker() { screen | grep -m1 '^primary ' | grep -qF "pgfleet-stmt-test"; }
titles_shown() { line 3 | grep -qE '^SERVER +DB +USER +LOAD.* +CALLS/s +MEAN .*QUERY'; }
list_shown() { line 3 | grep -q '^SERVER'; }
# one table row (it starts with a server's name): the statement's
only_marker_rows() {
    local rows
    rows=$(screen | sed -n '4,36p' | grep -E '^(primary|replica|nopgss|nopriv) ')
    [ "$(grep -c . <<<"$rows")" = 1 ] && grep -q '^primary .*pgfleet-stmt-test' <<<"$rows"
}
launch_tui tui 120 40 "$tmp/tui" -- -c "$tmp/fleet.yaml"
expect "the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 7
expect "7: the Statements pane with its columns" 5 titles_shown
expect "7: the statement is listed first (busiest)" 15 first_row_is_marker
expect "7: nopgss's reason is shown under the table" 5 has "nopgss: pg_stat_statements is not installed"
expect "7: the nopriv role's summed entries are shown" 5 has "<insufficient privilege>"
keys /
typ "$marker"
keys Enter
expect "/: the filter keeps only the statement" 5 only_marker_rows
keys Enter
expect "Enter: the whole statement is shown" 5 eval 'has "Statement on primary" && has "SELECT /* pgfleet-stmt-test */ count(*) FROM $marker a," && has "WHERE a.id < \$1"'
expect "Enter: figures over the interval" 3 has "of one core"
keys Escape
expect "Esc: back to the list" 5 list_shown
keys Escape
quit_tui "$tmp/tui" "the TUI"
finish
