# console.sh — pgBouncer's admin console (dbname=pgbouncer) given as a server, on the command line
# or under servers:, against the lab's pgBouncer: recognised when it connects and watched as the
# pooler it is (kind pgbouncer, UP, its pools), never DOWN with the console's refusal of the
# capability query; a database pooled through the same pgBouncer stays a PostgreSQL server;
# `pgfleet cancel` aimed at the console says what it is, with nothing sent.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM HUP INT

pooled="host=127.0.0.1 port=$BOUNCER_PORT dbname=labdb user=postgres"
no_sanitizer_report() { [ -e "$1" ] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; }
# run NAME ARGS...: pgfleet ARGS; stdout and stderr in $tmp/NAME.out/.err, exit status in $rc.
run() {
    local n=$1
    shift
    "$PGFLEET" "$@" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
}
# js NAME JQ: a jq expression over the JSON snapshot NAME
js() { jq -r "$2" "$tmp/$1.out"; }
console_ok() {
    [ "$(js "$1" ".servers[] | select(.name == \"$2\") | .kind + \" \" + .status")" = "pgbouncer UP" ]
}

# ---- on the command line, beside a database pooled through it
run cli snapshot --json "$BOUNCER_CONNINFO" "$pooled"
check "snapshot of the console and a pooled database: exit 0" [ "$rc" = 0 ]
cname="127.0.0.1:$BOUNCER_PORT/pgbouncer"
check "the console is watched as a pooler: kind pgbouncer, UP" console_ok cli "$cname"
[ "$rc" = 0 ] && console_ok cli "$cname" || js cli '.servers[] | [.name, .kind, .status, .reason] | @tsv' | sed 's/^/    | /'
check "… with its pools (SHOW POOLS: labdb/postgres)" [ "$(js cli ".servers[] | select(.name == \"$cname\") | .pools[] | select(.database == \"labdb\") | .user")" = postgres ]
check "the database pooled through the same pgBouncer stays PostgreSQL, UP, with a version" \
    [ "$(js cli ".servers[] | select(.name == \"127.0.0.1:$BOUNCER_PORT/labdb\") | .kind + \" \" + .status + \" \" + (.version_num > 0 | tostring)")" = "postgres UP true" ]
check "no 'extended query protocol' refusal anywhere" eval '! grep -q "extended query protocol" "$tmp/cli.out" "$tmp/cli.err"'
no_output "nothing on stderr" "$tmp/cli.err"

run text snapshot "$BOUNCER_CONNINFO"
check "text snapshot: the Fleet row says pgbouncer, UP" grep -qE "^127\.0\.0\.1:$BOUNCER_PORT/pgbouncer +pgbouncer +UP " "$tmp/text.out"
check "… and the Connections section shows its pool" grep -qE "^    labdb/postgres +[0-9]" "$tmp/text.out"
check "… 'servers: 1, up: 1'" grep -q "servers: 1, up: 1, down/stale: 0" "$tmp/text.out"

# ---- under servers: in a config
cat >"$tmp/fleet.yaml" <<EOF
refresh: 1s
timeout: 3s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: console, conninfo: "$BOUNCER_CONNINFO" }
EOF
run cfg snapshot --json -c "$tmp/fleet.yaml"
check "listed under servers: watched as a pooler, UP" console_ok cfg console
check "… the primary beside it is untouched" [ "$(js cfg '.servers[] | select(.name == "primary") | .kind + " " + .status')" = "postgres UP" ]
no_output "… nothing on stderr" "$tmp/cfg.err"

# ---- an action aimed at the console: said what it is, nothing sent
run act cancel --yes "$BOUNCER_CONNINFO" 4242
check "cancel on the console: exit 1" [ "$rc" = 1 ]
check "… 'this is a pgBouncer console, not a PostgreSQL server: give the server's name or conninfo'" \
    grep -qF "failed: this is a pgBouncer console, not a PostgreSQL server: give the server's name or conninfo" "$tmp/act.out"
check "… not the console's 'extended query protocol' refusal" eval '! grep -q "extended query protocol" "$tmp/act.out" "$tmp/act.err"'
check "… audited with nothing sent" [ "$(jq -r 'select(.record == "outcome") | .targets[0].result' "$XDG_STATE_HOME/pgfleet/audit.jsonl")" = "nothing sent: this is a pgBouncer console" ]

for n in cli text cfg act; do
    check "no sanitizer report ($n)" no_sanitizer_report "$tmp/$n.err"
done
finish
