# hostile.sh — what a malicious user or an odd server can put in front of pgfleet, against the
# lab: a session named "pgfleet" stays visible and can be cancelled; a role whose name holds ESC
# and U+202E, and a query full of escape codes, are shown escaped (text snapshot, screen) and can
# be cancelled; a pgBouncer server connection is named so before a cancel; text that is not
# UTF-8 (an SQL_ASCII database) keeps its JSON keys; probe settings do not stick to a
# transaction pooler's server connections; a password given on the command line is not left in
# ps; a name whose first address is dead or silent still connects
# through the next; a DNS server that never answers leaks no resolver state over 1000 retries.
for v in LAB TESTLIB TUILIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it)" >&2; exit 2; }
done
. "$TESTLIB"
. "$TUILIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=hostile$$
pane=tui:0.0
bg_pids=
cleanup() {
    T kill-server 2>/dev/null
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    lab_psql "$PRIMARY_PORT" -c "DROP DATABASE IF EXISTS hostile_ascii" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
esc=$'\033'
rlo=$'\u202e'
evil_role="ev${esc}[2J${rlo}il"
# bg PORT DB USER APP SQL: a psql session in the background.
bg() {
    PGAPPNAME=$4 "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$1" -U "$3" -d "$2" -c "$5" \
        </dev/null >/dev/null 2>>"$tmp/bg.err" &
    bg_pids="$bg_pids $!"
}
pid_of() { q "SELECT pid FROM pg_stat_activity WHERE query LIKE '%$1%' AND pid <> pg_backend_pid() LIMIT 1"; }
has_pid() { [ -n "$(pid_of "$1")" ]; }
gone() { ! has_pid "$1"; }
no_sanitizer_report() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }

cat >"$tmp/fleet.yaml" <<EOF
refresh: 500ms
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
EOF

# ---- a session that calls itself pgfleet, and a role named with escape codes
q "DROP ROLE IF EXISTS \"$evil_role\"" >/dev/null 2>&1
q "CREATE ROLE \"$evil_role\" LOGIN" >/dev/null
bg "$PRIMARY_PORT" labdb postgres pgfleet "SELECT pg_sleep(60) /* hostile_named */"
bg "$PRIMARY_PORT" labdb "$evil_role" psql "SELECT pg_sleep(60) /* hostile_esc ${esc}]0;pwned${esc}\\ ${rlo}gnp.exe */"
wait_until 10 has_pid hostile_named && wait_until 10 has_pid hostile_esc
named=$(pid_of hostile_named)
evil=$(pid_of hostile_esc)

"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>"$tmp/s.err"
check "snapshot --json exits 0" [ $? -eq 0 ]
check "a session named pgfleet is listed in Activity" \
    [ "$(jq --argjson p "$named" '[.servers[0].activity[] | select(.pid == $p)] | length' "$tmp/s.json")" = 1 ]
check "... with its name" \
    [ "$(jq -r --argjson p "$named" '.servers[0].activity[] | select(.pid == $p) | .application_name' "$tmp/s.json")" = pgfleet ]
check "... and counted among the active sessions (2 or more)" \
    [ "$(jq '.servers[0].active' "$tmp/s.json")" -ge 2 ]
check "the role named with ESC and U+202E is listed, raw in JSON" \
    [ "$(jq -r --argjson p "$evil" '.servers[0].activity[] | select(.pid == $p) | .user' "$tmp/s.json")" = "$evil_role" ]

"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/s.txt" 2>"$tmp/s.err"
check "text snapshot exits 0" [ $? -eq 0 ]
check "text snapshot: no ESC byte anywhere" bash -c "! grep -q $'\\033' '$tmp/s.txt'"
check "text snapshot: no raw U+202E anywhere" bash -c "! grep -q $'\\u202e' '$tmp/s.txt'"
check "text snapshot: valid UTF-8" iconv -f UTF-8 -t UTF-8 -o /dev/null "$tmp/s.txt"
check "text snapshot: the role shows escaped (\\033 and \\u202e)" grep -qF 'ev\033[2J\u202eil' "$tmp/s.txt"
check "text snapshot: the query shows escaped" grep -qF 'hostile_esc \033]0;pwned\033\\ \u202egnp.exe' "$tmp/s.txt"

# the screen: both sessions visible, escaped, nothing raw reaches the terminal
start_shell 160 30
keys "$PGFLEET -c $tmp/fleet.yaml 2>$tmp/tui.err" Enter
expect "the TUI starts" 10 has 'Fleet'
keys 2
expect "Activity shows the session named pgfleet" 10 has 'hostile_named'
expect "Activity shows the role name escaped" 10 has 'ev\033[2J'
check "the terminal title was not changed by the query" [ "$(T display -p -t "$pane" '#{pane_title}')" != pwned ]
keys q
expect "q quits" 10 bash -c "! running"
check "the TUI wrote nothing to stderr" [ ! -s "$tmp/tui.err" ]

# both can be cancelled, from the shell
"$PGFLEET" cancel --yes -c "$tmp/fleet.yaml" primary "$named" >"$tmp/c1.out" 2>"$tmp/c1.err"
check "pgfleet cancel of the session named pgfleet: exit 0" [ $? -eq 0 ]
expect "... and its query is gone" 10 gone hostile_named
"$PGFLEET" cancel --yes -c "$tmp/fleet.yaml" primary "$evil" >"$tmp/c2.out" 2>"$tmp/c2.err"
check "pgfleet cancel of the escape-coded role's query: exit 0" [ $? -eq 0 ]
check "... its confirmation text shows the role escaped" grep -qF 'ev\033[2J\u202eil' "$tmp/c2.err"
check "... and nothing raw on the terminal" bash -c "! grep -q $'\\033' '$tmp/c2.err' '$tmp/c2.out'"
q "DROP ROLE IF EXISTS \"$evil_role\"" >/dev/null 2>&1 || true

# ---- a login whose DateStyle and time zone make timestamps ambiguous as text ("IST" reads
# back as Israel's): the guard compares epoch microseconds, so the cancel still lands
q "DROP ROLE IF EXISTS hostile_dmy" >/dev/null 2>&1
q "CREATE ROLE hostile_dmy LOGIN SUPERUSER" >/dev/null
q "ALTER ROLE hostile_dmy SET DateStyle = 'SQL, DMY'" >/dev/null
q "ALTER ROLE hostile_dmy SET TimeZone = 'Asia/Kolkata'" >/dev/null
bg "$PRIMARY_PORT" labdb postgres psql "SELECT pg_sleep(60) /* hostile_dmy */"
wait_until 10 has_pid hostile_dmy
"$PGFLEET" cancel --yes "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=hostile_dmy" "$(pid_of hostile_dmy)" \
    >"$tmp/dmy.out" 2>"$tmp/dmy.err"
check "cancel by a login with DateStyle SQL, DMY and an IST time zone: exit 0 ($(tail -n1 "$tmp/dmy.out"))" [ $? -eq 0 ]
expect "... and the query is cancelled" 10 gone hostile_dmy
q "DROP ROLE IF EXISTS hostile_dmy" >/dev/null 2>&1 || true

# ---- text that is not UTF-8: an SQL_ASCII database and a query with a 0xff byte
q "DROP DATABASE IF EXISTS hostile_ascii" >/dev/null 2>&1
q "CREATE DATABASE hostile_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
# Kept out of pg_stat_statements: one such text makes pg_stat_statements() fail for everyone
# (it converts every text to the reader's database encoding), and the lab is shared.
printf "SET pg_stat_statements.track = none; SELECT pg_sleep(60) /* hostile_bytes \377\376 */;" |
    "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d hostile_ascii >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
wait_until 10 has_pid hostile_bytes
"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/b.json" 2>"$tmp/b.err"
check "snapshot --json with invalid UTF-8 in a query: exit 0" [ $? -eq 0 ]
check "the query key is present, its bad bytes escaped" \
    [ "$(jq -r '.servers[0].activity[] | select(.database == "hostile_ascii") | .query' "$tmp/b.json")" = 'SELECT pg_sleep(60) /* hostile_bytes \xff\xfe */;' ]
check "every session object has its query key" \
    [ "$(jq '[.servers[0].activity[] | has("query")] | all' "$tmp/b.json")" = true ]
check "no sanitizer report from the snapshots" no_sanitizer_report "$tmp"/*.err

# ---- a transaction pooler: probe settings never stick to its server connections
cat >"$tmp/pool.yaml" <<EOF
refresh: 500ms
timeout: 3s
servers:
  - { name: viapool, conninfo: "host=127.0.0.1 port=$BOUNCER_PORT dbname=labdb user=postgres" }
EOF
"$PGFLEET" snapshot --json -c "$tmp/pool.yaml" >"$tmp/p.json" 2>"$tmp/p.err"
check "a server behind the transaction pooler is UP" [ "$(jq -r '.servers[0].status' "$tmp/p.json")" = UP ]
leaked=0
for i in $(seq 10); do
    v=$("$(lab_psql_bin)" -X -At -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d labdb \
        -c "SELECT current_setting('statement_timeout') || '/' || current_setting('lock_timeout')")
    [ "$v" = "0/0" ] || leaked=$((leaked + 1))
done
check "application transactions through the pooler see no probe settings (10 tries, $leaked leaked)" [ $leaked -eq 0 ]

# ---- a session that is one of pgBouncer's server connections is named so before it is hit
bg "$BOUNCER_PORT" labdb postgres viapool "SELECT pg_sleep(60) /* hostile_pooled */"
wait_until 10 has_pid hostile_pooled
"$PGFLEET" cancel --yes -c "$LAB/fleet.yaml" primary "$(pid_of hostile_pooled)" >"$tmp/pool.out" 2>"$tmp/pool.err"
check "cancel of a pooler's server connection: exit 0" [ $? -eq 0 ]
check "... the confirmation names it a SERVER CONNECTION of pgBouncer bouncer" \
    grep -q 'SERVER CONNECTION of pgBouncer bouncer (pool labdb/postgres)' "$tmp/pool.err"
check "... and the audit records it" grep -q '"pooler_connection":"bouncer (pool labdb/postgres)"' "$XDG_STATE_HOME/pgfleet/audit.jsonl"

# ---- a password on the command line is not left in ps
"$PGFLEET" snapshot -d 3s "$PRIMARY_CONNINFO password=hunter2secret" >/dev/null 2>&1 &
snap=$!
bg_pids="$bg_pids $snap"
wait_until 5 bash -c "ps -o args= -p $snap | grep -q pgfleet"
sleep 0.5 # the scrub happens right after the arguments are read; give it a moment to run
check "ps shows the password x'ed out" bash -c "ps -o args= -p $snap | grep -q 'password=xxxxxxxxxxxxx'"
check "ps never shows the password" bash -c "! ps -o args= -p $snap | grep -q hunter2secret"
wait "$snap" 2>/dev/null

# ---- names with several addresses, and a DNS server that never answers (root only: needs
# mount and network namespaces)
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    printf '127.0.0.1 localhost\n::1 multi.pgfleet.test\n127.0.0.1 multi.pgfleet.test\n' >"$tmp/hosts"
    ns_run() { unshare -m sh -c "mount --bind '$tmp/hosts' /etc/hosts && exec \"\$@\"" sh "$@"; }
    ns_run "$PGFLEET" snapshot --json -d 500ms "host=multi.pgfleet.test port=$PRIMARY_PORT dbname=labdb user=postgres" \
        >"$tmp/m.json" 2>"$tmp/m.err"
    check "a name whose first address refuses connects through the next (UP)" \
        [ "$(jq -r '.servers[0].status' "$tmp/m.json")" = UP ]
    # a first address that accepts and then says nothing: the second gets its share of the time
    if command -v nc >/dev/null && nc -h 2>&1 | grep -q -- '-6'; then
        nc -6 -lk ::1 "$PRIMARY_PORT" >/dev/null 2>&1 &
        bg_pids="$bg_pids $!"
        wait_until 5 bash -c "ss -Hltn | grep -q '\\[::1\\]:$PRIMARY_PORT'"
        cat >"$tmp/silent.yaml" <<EOF
refresh: 500ms
timeout: 4s
servers:
  - { name: multi, conninfo: "host=multi.pgfleet.test port=$PRIMARY_PORT dbname=labdb user=postgres" }
EOF
        ns_run "$PGFLEET" snapshot --json -c "$tmp/silent.yaml" >"$tmp/m2.json" 2>"$tmp/m2.err"
        check "a silent first address does not eat the whole deadline (UP through the next)" \
            [ "$(jq -r '.servers[0].status' "$tmp/m2.json")" = UP ]
    fi
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$tmp/resolv.conf"
    leak=$(dirname "$PGFLEET")/tests/resolvleak
    if [ -x "$leak" ] && unshare -mn true 2>/dev/null; then
        out=$(unshare -mn sh -c "ip link set lo up && mount --bind '$tmp/resolv.conf' /etc/resolv.conf && exec '$leak' db.pgfleet.invalid 1000" 2>"$tmp/leak.err")
        rc=$?
        check "1000 lookups given up on a silent DNS server: all freed ($out), exit $rc" [ $rc -eq 0 ]
        check "... and no leak report" no_sanitizer_report "$tmp/leak.err"
    elif [ ! -x "$leak" ]; then
        fail "tests/resolvleak is not built (make helpers builds it)"
    else
        echo "  note  hostile: no network namespace here: the silent-DNS check is skipped"
    fi
else
    echo "  note  hostile: not root: the address and DNS checks need mount and network namespaces"
fi

finish
