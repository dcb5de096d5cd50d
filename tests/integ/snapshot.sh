# snapshot.sh — `pgfleet snapshot` against the lab: roles of a real primary and replica, a
# closed port DOWN with "connection refused", a port that accepts but never answers DOWN by its
# deadline without delaying the rest, a real pg_sleep in the activity list with its
# application_name and a growing query age, and control bytes in a query escaped in text form.
# No snapshot (but the one of a bad config) writes to stderr.
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
cleanup() {
    [ -n "${nc_pid:-}" ] && kill "$nc_pid" 2>/dev/null
    [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
    [ -n "${esc_sleeper:-}" ] && kill "$esc_sleeper" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

closed=$(lab_free_port)
silent=$(lab_free_port "$closed")
# A listener that accepts TCP and never says a word: the black-holed server.
nc -lk 127.0.0.1 "$silent" >/dev/null 2>&1 &
nc_pid=$!
check "the silent listener accepts" wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$silent" 2>/dev/null

cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 2s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
  - { name: closed, conninfo: "host=127.0.0.1 port=$closed dbname=labdb user=postgres" }
  - { name: silent, conninfo: "host=127.0.0.1 port=$silent dbname=labdb user=postgres" }
YAML

PGAPPNAME=integ-sleeper lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(60)" >"$tmp/sleeper.pid"
sleeper=$(cat "$tmp/sleeper.pid")
check "the sleeper runs" wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres labdb -c \"select count(*) from pg_stat_activity where application_name='integ-sleeper' and state='active'\")\" = 1 ]"

t0=$(ms_now)
"$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s1.json" 2>>"$tmp/err"
rc=$?
t1=$(ms_now)
check "snapshot exits 0 with servers down" [ $rc -eq 0 ]
check "snapshot is valid JSON" bash -c "jq -e . \"$tmp/s1.json\" >/dev/null"
elapsed=$((t1 - t0))
check "snapshot finishes within interval + deadline + 1s (took ${elapsed} ms)" [ $elapsed -le 4000 ]
j() { jq -r "$1" "$tmp/s1.json"; }
check "primary is UP as primary" [ "$(j '.servers[]|select(.name=="primary")|.status+" "+.role')" = "UP primary" ]
check "replica is UP as replica" [ "$(j '.servers[]|select(.name=="replica")|.status+" "+.role')" = "UP replica" ]
check "closed port is DOWN: connection refused" bash -c "[[ '$(j '.servers[]|select(.name=="closed")|.status+" "+.reason')' == 'DOWN connection refused'* ]]"
check "silent port is DOWN by timeout" bash -c "[[ '$(j '.servers[]|select(.name=="silent")|.status+" "+.reason')' == 'DOWN timeout'* ]]"
check "version_num is reported" [ "$(j '.servers[]|select(.name=="primary")|.version_num')" -ge 120000 ]
check "connections used/max are reported" [ "$(j '.servers[]|select(.name=="primary")|.connections.max_connections')" = 300 ]
check "rates exist after two samples" [ "$(j '.servers[]|select(.name=="primary")|.tps|type')" = number ]
# nobody but us works on the replica: our own probe transactions are not the users' TPS
check "the idle replica shows no TPS of ours ($(j '.servers[]|select(.name=="replica")|.tps'))" \
    awk -v t="$(j '.servers[]|select(.name=="replica")|.tps')" 'BEGIN{exit !(t < 0.5)}'
check "the fleet is sorted worst first (DOWN before UP)" [ "$(j '.servers[0].status')" = DOWN ]
age1=$(j '.servers[]|select(.name=="primary")|.activity[]|select(.application_name=="integ-sleeper")|.query_age_s')
check "pg_sleep shows in activity with its application_name" [ -n "$age1" ]
check "our own probe sessions are not shown" [ "$(j '[.servers[].activity[]?|select(.application_name=="pgfleet")]|length')" = 0 ]

"$PGFLEET" snapshot --json "$PRIMARY_CONNINFO" >"$tmp/s2.json" 2>>"$tmp/err"
age2=$(jq -r '.servers[0].activity[]|select(.application_name=="integ-sleeper")|.query_age_s' "$tmp/s2.json")
check "query age grows between snapshots ($age1 -> $age2)" awk -v a="$age1" -v b="$age2" 'BEGIN{exit !(b > a)}'

# Untrusted text: a query holding ESC, BEL and CR must reach the text form escaped.
PGAPPNAME=$'evil\033[2Japp' lab_bg_psql "$PRIMARY_PORT" $'SELECT /* \033[31m\a\r */ pg_sleep(30)' >"$tmp/esc.pid"
esc_sleeper=$(cat "$tmp/esc.pid")
check "the query with control bytes runs" wait_until 10 bash -c "psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres labdb -c \"select 1 from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()\" | grep -q 1"
"$PGFLEET" snapshot "$PRIMARY_CONNINFO" >"$tmp/s.txt" 2>>"$tmp/err"
check "text snapshot lists the query" grep -q 'pg_sleep(30)' "$tmp/s.txt"
check "no raw ESC/BEL/CR byte in the text snapshot" bash -c "! LC_ALL=C grep -q \$'[\\033\\007\\r]' '$tmp/s.txt'"
check "the ESC is shown escaped" grep -qF '\033[31m' "$tmp/s.txt"

# Host names are looked up without blocking before each connect: a name that resolves is UP,
# one that does not is DOWN with "unknown host", and neither holds up the snapshot.
t0=$(ms_now)
"$PGFLEET" snapshot --json -d 500ms "host=localhost port=$PRIMARY_PORT dbname=labdb user=postgres" \
    "host=no-such-host.invalid dbname=labdb" >"$tmp/dns.json" 2>>"$tmp/err"
t1=$(ms_now)
check "a host name is looked up and the server is UP" \
    [ "$(jq -r '.servers[]|select(.name|startswith("localhost"))|.status' "$tmp/dns.json")" = UP ]
check "an unknown host name is DOWN: unknown host" \
    bash -c "jq -r '.servers[]|select(.name|startswith(\"no-such-host\"))|.reason' '$tmp/dns.json' | grep -q '^unknown host'"
check "the lookups do not hold the snapshot up ($((t1 - t0)) ms)" [ $((t1 - t0)) -le 6500 ]

# Exit status and errors: a bad config is a usage error (2), nothing started.
printf 'refresh: 2x\nservers: []\n' >"$tmp/bad.yaml"
"$PGFLEET" snapshot -c "$tmp/bad.yaml" >/dev/null 2>"$tmp/bad.err"
check "bad config exits 2" [ $? -eq 2 ]
check "bad config error is FILE:LINE:COL" grep -q "bad.yaml:1:10: " "$tmp/bad.err"
check "bad config: no sanitizer report" eval '! grep -qE "Sanitizer|runtime error" "$tmp/bad.err"'
no_output "the other snapshots said nothing on stderr (no sanitizer report, no stray message)" "$tmp/err"
finish
