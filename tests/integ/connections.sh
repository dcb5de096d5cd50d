# connections.sh — the Connections pane against the lab: four idle sessions with their own
# application_names and one idle in a transaction on the primary show in `snapshot --json`'s
# connections breakdowns (by state, application, user, database, client) and in its
# idle-in-transaction list with an age that grows between snapshots; a role without pg_monitor
# still counts other roles' sessions (as hidden); a role name holding ESC is raw in the JSON and
# escaped in the text form; the pgBouncer pool of 5 (transaction mode)
# exhausted by 8 concurrent pg_sleep clients shows cl_waiting > 0 on the pooler's object; a
# pooler entry pointing at something that is not pgBouncer turns STALE with SHOW POOLS's error;
# and the screen in tmux (120x40, key 5) shows the bar and the pool line, then q quits with
# status 0. No run of pgfleet writes to stderr. Every session it opens is ended on exit.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
app=integ-conn-$$
evil=$'conn\033[2J'
sock=pgfleet-conn-$$
pane=conn:0.0
pids=()
fds=()
P() { lab_psql "$PRIMARY_PORT" "$@"; }
ours() { P -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    T kill-server >/dev/null 2>&1
    for fd in "${fds[@]}"; do exec {fd}>&-; done 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    # the lab checks for gone clients every second (pgBouncer's server side too)
    wait_until 15 eval '[ "$(ours)" = 0 ]'
    wait_until 15 eval '[ "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '"'$evil'"'")" = 0 ]'
    P -c "DROP ROLE IF EXISTS \"$evil\"" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# A psql session named $app-$1 fed from a FIFO the test holds open: it stays connected and idle
# (or idle in a transaction after the SQL in $2) until the FIFO is closed.
session() {
    local name=$1 sql=${2:-} fd
    mkfifo "$tmp/$name.in"
    PGAPPNAME=$app-$name "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
        -d labdb <"$tmp/$name.in" >/dev/null 2>&1 &
    pids+=($!)
    exec {fd}>"$tmp/$name.in"
    fds+=("$fd")
    [ -z "$sql" ] || echo "$sql" >&"$fd"
}
state_of() { P -c "SELECT state FROM pg_stat_activity WHERE application_name = '$app-$1'"; }

cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
poolers:
  - { name: bouncer, conninfo: "$BOUNCER_CONNINFO", serves: [primary] }
YAML

# every snapshot's stderr is added to $tmp/err, which must stay empty
: >"$tmp/err"
snap() { "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>>"$tmp/err"; }
j() { jq -r "$1" "$tmp/s.json"; }
PRIM='.servers[] | select(.name == "primary")'
BOUN='.servers[] | select(.name == "bouncer")'
C="$PRIM | .connections"
appcount() { j "[$C.by_application[] | select(.name == \"$app-$1\") | .count] | add // 0"; }

# ---- sessions on the primary
for i in 1 2 3 4; do session "idle$i"; done
session iit "BEGIN; SELECT txid_current();"
check "four idle sessions and one idle in transaction are up" wait_until 15 eval \
    '[ "$(P -c "SELECT count(*) FILTER (WHERE state = '"'idle'"'), count(*) FILTER (WHERE state = '"'idle in transaction'"') FROM pg_stat_activity WHERE application_name LIKE '"'$app-%'"'")" = "4|1" ]'

# the breakdowns (bounded retries: a session may still be connecting on a loaded machine)
apps_seen() { snap && [ "$(appcount idle1)$(appcount idle2)$(appcount idle3)$(appcount idle4)$(appcount iit)" = 11111 ]; }
check "snapshot: each application_name counted once" wait_until 30 apps_seen
check "snapshot is valid JSON" bash -c "jq -e . '$tmp/s.json' >/dev/null"
check "no connections probe error" [ "$(j "$PRIM | .probe_errors.connections // \"none\"")" = none ]
check "the Fleet's figures are kept (max_connections)" [ "$(j "$C.max_connections")" = 300 ]
check "the Fleet's figures are kept (used)" [ "$(j "$C.used")" -ge 6 ]
check "usable by users is max minus reserved (297)" [ "$(j "$C.usable_by_users")" = 297 ]
check "by_state: at least 4 idle" [ "$(j "[$C.by_state[] | select(.name == \"idle\") | .count] | add // 0")" -ge 4 ]
check "by_state: at least 1 idle in transaction" \
    [ "$(j "[$C.by_state[] | select(.name == \"idle in transaction\") | .count] | add // 0")" -ge 1 ]
check "by_user counts our five" [ "$(j "[$C.by_user[] | select(.name == \"postgres\") | .count] | add")" -ge 5 ]
check "by_database counts our five" [ "$(j "[$C.by_database[] | select(.name == \"labdb\") | .count] | add")" -ge 5 ]
check "by_client has 127.0.0.1" [ "$(j "[$C.by_client[] | select(.name == \"127.0.0.1\") | .count] | add // 0")" -ge 5 ]
check "our own probe sessions are not in the breakdowns" \
    [ "$(j "[$C.by_application[] | select(.name == \"pgfleet\")] | length")" = 0 ]
check "the breakdowns add up to the sessions" \
    [ "$(j "[$C.by_state[].count] | add")" = "$(j "$C.sessions")" ]
IIT="$C.idle_in_transaction_sessions[] | select(.application_name == \"$app-iit\")"
age1=$(j "$IIT | .idle_s")
check "the idle-in-transaction session is listed with its age ($age1 s)" [ -n "$age1" ]
check "it holds back the xmin horizon (xmin_age set)" [ "$(j "$IIT | .xmin_age | type")" = number ]
check "its pid is the backend's" [ "$(j "$IIT | .pid")" = "$(P -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-iit'")" ]
check "primary lists the bouncer among its poolers" [ "$(j "$C.poolers | join(\",\")")" = bouncer ]
grows() { snap && awk -v a="$age1" -v b="$(j "$IIT | .idle_s")" 'BEGIN { exit !(b > a) }'; }
check "its age grows between snapshots" wait_until 20 grows

# untrusted text: a role name holding ESC (PostgreSQL turns one in application_name into "?",
# not in names) must reach the JSON raw and the text form escaped
P -c "DROP ROLE IF EXISTS \"$evil\"" -c "CREATE ROLE \"$evil\" LOGIN" >/dev/null
"$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$evil" -d labdb -c "SELECT pg_sleep(60)" \
    </dev/null >/dev/null 2>&1 &
pids+=($!)
evil_seen() { snap && [ "$(j "[$C.by_user[] | select(.name == \"conn\\u001b[2J\")] | length")" = 1 ]; }
check "a role name with ESC is counted, raw in JSON" wait_until 15 evil_seen
"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/s.txt" 2>>"$tmp/err"
check "text snapshot exits 0" [ $? -eq 0 ]
check "text snapshot has the CONNECTIONS section with the bar" \
    bash -c "sed -n '/^CONNECTIONS/,/^[A-Z]/p' '$tmp/s.txt' | grep -qE 'used [0-9]+/297 \[#'"
check "text snapshot lists the idle-in-transaction session" grep -q -- "$app-iit" "$tmp/s.txt"
check "no raw ESC in the text snapshot" bash -c "! LC_ALL=C grep -q \$'\\033' '$tmp/s.txt'"
check "the ESC is shown escaped in the CONNECTIONS section" \
    bash -c "sed -n '/^CONNECTIONS/,/^[A-Z]/p' '$tmp/s.txt' | grep -qF 'conn\\033[2J'"

# ---- without pg_monitor: other roles' sessions count, hidden
cat >"$tmp/nomon.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: plain, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=lab_nosignal" }
YAML
"$PGFLEET" snapshot --json -c "$tmp/nomon.yaml" >"$tmp/n.json" 2>>"$tmp/err"
check "without pg_monitor: snapshot exits 0" [ $? -eq 0 ]
check "without pg_monitor: UP, no probe error" \
    [ "$(jq -r '.servers[0].status + " " + (.servers[0].probe_errors.connections // "none")' "$tmp/n.json")" = "UP none" ]
check "without pg_monitor: others' sessions counted under a hidden state" \
    [ "$(jq -r '[.servers[0].connections.by_state[] | select(.name == null and (.other | not)) | .count] | add // 0' "$tmp/n.json")" -ge 5 ]

# ---- pgBouncer: 8 clients for a pool of 5. Each sleeps 20 s (not 5): the 3 left waiting wait
# that long, which leaves room for the screen and the snapshots below on a loaded machine.
# They are not named $app-…: pgBouncer's server connections keep the last client's name.
for i in 1 2 3 4 5 6 7 8; do
    pids+=("$(PGAPPNAME=integ-connpool-$$ lab_bg_psql "$BOUNCER_PORT" "SELECT pg_sleep(20)")")
done
admin_waiting() {
    [ "$(lab_psql "$BOUNCER_PORT" -d pgbouncer -F' ' -c 'SHOW POOLS' | awk '$1 == "labdb" && $2 == "postgres" { print ($4 > 0) }')" = 1 ]
}
check "pgBouncer itself reports waiting clients" wait_until 15 admin_waiting

# ---- the screen: key 5 shows the bar and the pool line
launch_tui conn 120 40 "$tmp/tui" LANG=C.UTF-8 -- -c "$tmp/fleet.yaml"
require "the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 5
expect "screen: the connections bar" 15 has_re 'used [0-9]+/297 \[#+\.*\] [0-9]+%'
expect "screen: the pool line with waiting clients" 10 has_re 'labdb/postgres +[0-9]+ +[1-9][0-9]* +5 '
check "screen: the idle-in-transaction list" has_re "$app-iit"
check "screen: the pooler under the server it serves" \
    bash -c "tmux -L '$sock' capture-pane -p -t '$pane' | awk '/^primary /{p=NR} /^  bouncer +pgbouncer/{b=NR} END{exit !(p && b > p)}'"
quit_tui "$tmp/tui" "the TUI"

# ---- the pooler in the snapshot, while clients still wait
WPOOL="$BOUN | .pools[] | select(.database == \"labdb\" and .user == \"postgres\")"
pool_waits() { snap && [ "$(j "$WPOOL | .cl_waiting")" -gt 0 ] 2>/dev/null; }
check "snapshot: the pooler's labdb pool has cl_waiting > 0" wait_until 12 pool_waits
check "pooler is UP, serves primary" [ "$(j "$BOUN | .status + \" \" + (.serves | join(\",\"))")" = "UP primary" ]
check "pool: 5 server connections active (the pool size)" [ "$(j "$WPOOL | .sv_active")" = 5 ]
check "pool: transaction mode, maxwait reported" \
    [ "$(j "$WPOOL | .pool_mode + \" \" + (.maxwait_s | type)")" = "transaction number" ]
check "pool_totals adds the waiting clients up" [ "$(j "$BOUN | .pool_totals.cl_waiting")" -gt 0 ]
check "stats: labdb has counters and an interval" \
    [ "$(j "$BOUN | (.stats[] | select(.database == \"labdb\") | .total_xact_count | type) + \" \" + (.stats_interval_s | type)")" = "number number" ]
check "no pgBouncer probe error" [ "$(j "$BOUN | .probe_errors | length")" = 0 ]

# ---- a pooler entry that is no pgBouncer: SHOW POOLS fails, the pooler is STALE with why
cat >"$tmp/stale.yaml" <<YAML
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
poolers:
  - { name: fake, conninfo: "$PRIMARY_CONNINFO", serves: [primary] }
YAML
"$PGFLEET" snapshot --json -c "$tmp/stale.yaml" >"$tmp/f.json" 2>>"$tmp/err"
check "with a STALE pooler: snapshot exits 0" [ $? -eq 0 ]
check "a failing SHOW POOLS makes the pooler STALE with its error" \
    bash -c "jq -r '.servers[] | select(.name == \"fake\") | .status + \" \" + .reason' '$tmp/f.json' | grep -q '^STALE .*pools'"
check "the server next to it stays UP" \
    [ "$(jq -r '.servers[] | select(.name == "primary") | .status' "$tmp/f.json")" = UP ]
no_output "the snapshots said nothing on stderr (no sanitizer report, no stray message)" "$tmp/err"
finish
