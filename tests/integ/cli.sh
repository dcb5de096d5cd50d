# cli.sh — the command line against the lab: options before or after the command (snapshot,
# cancel); unknown commands and options in one line with a "did you mean"; options refused by a
# command that has no use for them, a second -c; -V a version number; an empty config an error
# with its name; with no server named, the socket tried and how to name servers; --server
# choosing a pooler, --tag choosing by tag with the poolers in front; a config from the
# environment ignored for servers on the command line, and said so; a bare host name as a
# server; cancel by name without a config; --timeout overriding the config's deadline.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
# No config from this machine's environment: each check says which one it reads.
export XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/state"
unset PGFLEET_CONFIG PGHOST PGPORT PGUSER PGDATABASE PGSERVICE
bg_pids=
cleanup() {
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# run NAME ARGS...: pgfleet with stdin from /dev/null; stdout and stderr in $tmp/NAME.out/.err,
# its exit status in $rc.
run() {
    local n=$1
    shift
    "$PGFLEET" "$@" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
}
# err_is NAME TEXT: stderr of run NAME is exactly TEXT (one line), stdout empty.
err_is() { [ "$(cat "$tmp/$1.err")" = "$2" ] && [ ! -s "$tmp/$1.out" ]; }
show() { sed 's/^/    | /' "$tmp/$1.out" "$tmp/$1.err" | head -20; }
# refused NAME MESSAGE ARGS...: exit 2 with exactly MESSAGE on stderr.
refused() {
    local n=$1 msg=$2
    shift 2
    run "$n" "$@"
    if [ "$rc" = 2 ] && err_is "$n" "$msg"; then
        ok "pgfleet $*: exit 2, \"$msg\""
    else
        fail "pgfleet $*: exit 2 (got $rc), \"$msg\""
        show "$n"
    fi
}
names() { jq -r '[.servers[].name] | sort | join(" ")' "$tmp/$1.out"; }
fleet=$LAB/fleet.yaml

# ---- 1. options before or after the command
run pre -c "$fleet" snapshot --json -d 300ms
check "pgfleet -c FILE snapshot --json: exit 0" [ "$rc" = 0 ]
check "… the config's fleet, as JSON" [ "$(names pre)" = "bouncer primary replica" ]
check "… -d after the command is read (refresh_s 0.3)" [ "$(jq -r .refresh_s "$tmp/pre.out")" = 0.3 ]
run pre-d -d 1s snapshot -c "$fleet"
check "pgfleet -d 1s snapshot: exit 0, the text snapshot" eval '[ "$rc" = 0 ] && grep -q "^FLEET" "$tmp/pre-d.out"'

PGAPPNAME=cli-sleeper lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(60)" >"$tmp/sleeper.pid"
bg_pids="$bg_pids $(cat "$tmp/sleeper.pid")"
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
sleeper_active() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cli-sleeper' AND state = 'active'")" = 1 ]; }
check "a pg_sleep session runs" wait_until 10 sleeper_active
spid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'cli-sleeper'")
run cancel -c "$fleet" cancel primary "$spid" --yes
check "pgfleet -c FILE cancel primary PID --yes: exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show cancel
sleeper_gone() { ! sleeper_active; }
check "… the query was cancelled" wait_until 5 sleeper_gone

# ---- 2. unknown words and options, options that do not apply
refused typo 'pgfleet: unknown command "snapshto" (did you mean "snapshot"?)' snapshto
refused typo2 'pgfleet: unknown command "snapshto" (did you mean "snapshot"?)' -c "$fleet" snapshto --json
refused hlep 'pgfleet: unknown option "--hlep" (did you mean "--help"?); see pgfleet --help' --hlep
refused yes 'pgfleet: --yes does not apply to snapshot: it goes with cancel, terminate, restore-test and batch (see pgfleet --help)' \
    snapshot --yes -c "$fleet"
refused idle 'pgfleet: --idle does not apply to audit: it goes with the monitor and snapshot (see pgfleet --help)' \
    audit --idle
refused twice 'pgfleet: -c/--config is given twice; give one FILE' -c "$fleet" snapshot --config "$fleet"
refused late 'pgfleet: "snapshot" is a command: put it before the servers (pgfleet snapshot [OPTIONS] [SERVER...])' \
    "$PRIMARY_CONNINFO" snapshot
run help --help
check "--help: exit 0, the usage on stdout, nothing on stderr" eval '[ "$rc" = 0 ] && grep -q "^Usage: pgfleet" "$tmp/help.out" && [ ! -s "$tmp/help.err" ]'
check "--help names the bare host form and --tag, --timeout" eval 'grep -q "SERVER\.\.\." "$tmp/help.out" && grep -q -- "--tag TAG" "$tmp/help.out" && grep -q -- "--timeout TIME" "$tmp/help.out"'

# ---- 3. -V: a version number
run version -V
check "-V prints \"pgfleet X.Y.Z…\" ($(cat "$tmp/version.out"))" grep -qE '^pgfleet [0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$' "$tmp/version.out"

# ---- 4. an empty fleet
printf 'servers: []\n' >"$tmp/none.yaml"
: >"$tmp/empty.yaml"
refused none "pgfleet: no servers to watch: the config $tmp/none.yaml lists none" snapshot -c "$tmp/none.yaml"
refused empty "pgfleet: no servers to watch: the config $tmp/empty.yaml lists none" snapshot -c "$tmp/empty.yaml"
mkdir -p "$tmp/xdg/pgfleet"
cp "$tmp/none.yaml" "$tmp/xdg/pgfleet/fleet.yaml"
refused none-xdg "pgfleet: no servers to watch: the config $tmp/xdg/pgfleet/fleet.yaml lists none" snapshot
rm "$tmp/xdg/pgfleet/fleet.yaml"
# no config, no server named: libpq's defaults, here a socket directory where no server listens
mkdir "$tmp/nosock"
PGHOST=$tmp/nosock run default snapshot --json -d 200ms
check "no server named, none there: exit 0 (a DOWN server is no error)" [ "$rc" = 0 ]
check "… the DOWN reason names the socket tried" \
    [ "$(jq -r '.servers[0].status + " " + .servers[0].reason' "$tmp/default.out")" = "DOWN no server socket: $tmp/nosock/.s.PGSQL.5432" ]
check "… and stderr says what was tried and how to name servers" eval 'diff - "$tmp/default.err" <<EOF
pgfleet: no servers were named, so pgfleet watched libpq'"'"'s default server local:5432: DOWN, no server socket: $tmp/nosock/.s.PGSQL.5432
pgfleet: name the servers to watch: pgfleet HOST..., pgfleet -c FILE (or \$PGFLEET_CONFIG), or set PGHOST
EOF'
PGHOST=127.0.0.1 PGPORT=$PRIMARY_PORT PGUSER=postgres PGDATABASE=labdb run default-up snapshot --json -d 200ms
check "libpq's defaults pointing at a live server: UP, nothing on stderr" \
    eval '[ "$rc" = 0 ] && [ "$(jq -r ".servers[0].status" "$tmp/default-up.out")" = UP ] && [ ! -s "$tmp/default-up.err" ]'

# ---- 5. --server and --tag; a config ignored for servers on the command line; cancel without one
run pooler snapshot --json -c "$fleet" --server bouncer -d 300ms
check "--server bouncer: the pooler alone" [ "$(names pooler)" = bouncer ]
run rep snapshot --json -c "$fleet" --server replica -d 300ms
check "--server replica: the replica alone (no pooler serves it)" [ "$(names rep)" = replica ]
run tag snapshot --json -c "$fleet" --tag lab -d 300ms
check "--tag lab: the servers tagged lab and the pooler serving one" [ "$(names tag)" = "bouncer primary replica" ]
refused nosrv "pgfleet: --server primay: no such server or pooler in $fleet (did you mean \"primary\"?)" \
    snapshot -c "$fleet" --server primay
refused notag "pgfleet: --tag labs: no server has this tag in $fleet (did you mean \"lab\"?)" \
    snapshot -c "$fleet" --tag labs
refused noconf 'pgfleet: --server primary: no config was found (give -c FILE or set PGFLEET_CONFIG)' \
    snapshot --server primary
PGFLEET_CONFIG=$fleet run envcfg snapshot --json -d 300ms "$REPLICA_CONNINFO"
check "a config from \$PGFLEET_CONFIG and a server named: the server alone" \
    eval '[ "$rc" = 0 ] && [ "$(jq -r ".servers | length" "$tmp/envcfg.out")" = 1 ]'
check "… and one line says the config was not read" [ "$(cat "$tmp/envcfg.err")" = "pgfleet: not reading the config $fleet (\$PGFLEET_CONFIG): servers are named on the command line (give -c to read it too)" ]
PGFLEET_CONFIG=$fleet refused envsel 'pgfleet: --server primary: --server and --tag choose from a config, which is not read when servers are named on the command line (give -c FILE)' \
    snapshot --server primary "$REPLICA_CONNINFO"
run both snapshot --json -d 300ms -c "$fleet" "$REPLICA_CONNINFO"
check "-c FILE and a server named: both, nothing said" \
    eval '[ "$rc" = 0 ] && [ "$(jq -r ".servers | length" "$tmp/both.out")" = 4 ] && [ ! -s "$tmp/both.err" ]'
refused cancel-noconf 'pgfleet: cancel: no config was found to look server "orders-1" up in (give -c FILE or set PGFLEET_CONFIG, or name the server by conninfo: "host=orders-1 dbname=…")' \
    cancel orders-1 4242 --yes

# a bare host name is a server (its port, user and database from libpq's defaults)
PGPORT=$PRIMARY_PORT PGUSER=postgres PGDATABASE=labdb run host snapshot --json -d 300ms 127.0.0.1
check "pgfleet snapshot 127.0.0.1: a server named 127.0.0.1:PORT/labdb, UP" \
    [ "$(jq -r '.servers[0].name + " " + .servers[0].status' "$tmp/host.out")" = "127.0.0.1:$PRIMARY_PORT/labdb UP" ]
PGPORT=$PRIMARY_PORT PGUSER=postgres PGDATABASE=labdb run host2 snapshot --json -d 300ms localhost -- snapshot
check "a host that looks like a command, after --: a server of that name" \
    eval '[ "$rc" = 0 ] && [ "$(names host2)" = "localhost:'"$PRIMARY_PORT"'/labdb snapshot:'"$PRIMARY_PORT"'/labdb" ]'
refused badword 'pgfleet: "db 1" is not a command, a conninfo ("host=db1 dbname=app", postgresql://db1/app) or a host name; see pgfleet --help' \
    snapshot "db 1"

# ---- 8. --timeout: beside -d, over the config's timeout
silent=$(lab_free_port)
nc -lk 127.0.0.1 "$silent" >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
check "a silent listener accepts" wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$silent" 2>/dev/null
cat >"$tmp/slow.yaml" <<YAML
timeout: 20s
servers:
  - { name: silent, conninfo: "host=127.0.0.1 port=$silent dbname=labdb user=postgres" }
YAML
t0=$(ms_now)
run timeout snapshot --json -c "$tmp/slow.yaml" -d 200ms --timeout 1s
elapsed=$(($(ms_now) - t0))
check "--timeout 1s over the config's 20s: the silent server DOWN by timeout" \
    bash -c "[[ \"\$(jq -r '.servers[0].status + \" \" + .servers[0].reason' '$tmp/timeout.out')\" == 'DOWN timeout'* ]]"
check "… and the snapshot is done within interval + timeout + 1s (took ${elapsed} ms)" [ "$elapsed" -le 2500 ]
refused badtimeout 'pgfleet: bad timeout "0" (use e.g. 2s, 500ms; from 100ms to 1h)' snapshot -c "$fleet" --timeout 0
refused baddelay 'pgfleet: bad delay "2h" (use e.g. 2s, 500ms; from 100ms to 1h)' snapshot -c "$fleet" -d 2h
refused timeout-audit 'pgfleet: --timeout does not apply to audit: it goes with the monitor and snapshot (see pgfleet --help)' \
    audit --timeout 1s

check "no sanitizer report in any run" bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' $tmp/*.err"
finish
