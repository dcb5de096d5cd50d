# actions.sh — `pgfleet cancel|terminate SERVER PID` and `pgfleet audit` against the lab's
# primary: a real pg_sleep cancelled (the client sees SQLSTATE 57014) with its intent and outcome
# records; a pid that is no session; an idle session terminated with --yes (the backend is gone
# when pgfleet returns); no --yes without a terminal, --read-only and `read_only: true` refusing
# with exit 2 and nothing sent; a login that may not signal a superuser's session (permission
# denied, no crash), one that cannot even see it (nothing sent); a walsender and the autovacuum
# launcher never targets, a session merely named "pgfleet" an ordinary one; the audit log
# private and printed readably.
# The audit log lives in a private XDG_STATE_HOME.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
audit="$XDG_STATE_HOME/pgfleet/audit.jsonl"
bg_pids=
cleanup() {
    exec 8>&- 2>/dev/null
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

tag=act$$
# client NAME SQL: a psql session (application_name NAME) running SQL in the background, its
# errors in verbose form (with the SQLSTATE) in $tmp/NAME.err. Sets $client_pid.
client() {
    PGAPPNAME=$1 "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        -c '\set VERBOSITY verbose' -c "$2" </dev/null >/dev/null 2>"$tmp/$1.err" &
    client_pid=$!
    bg_pids="$bg_pids $client_pid"
}
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }
state_of() { q "SELECT state FROM pg_stat_activity WHERE application_name = '$1'"; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
backend_exists() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $1")" = 1 ]; }
audit_lines() { if [ -f "$audit" ]; then wc -l <"$audit"; else echo 0; fi; }
# actions recorded: one outcome record each (an intent record comes first when something was sent)
outcomes() { if [ -f "$audit" ]; then jq -c 'select(.record == "outcome")' "$audit" | wc -l; else echo 0; fi; }
intents() { if [ -f "$audit" ]; then jq -c 'select(.record == "intent")' "$audit" | wc -l; else echo 0; fi; }
last_audit() { tail -n 1 "$audit" | jq -r "$1"; }
# last_result_is GLOB: the first target's result in the last audit line matches GLOB.
last_result_is() { [[ $(last_audit '.targets[0].result') == $1 ]]; }
# last_sql_count REGEX: how many statements of the last audit line match REGEX (jq syntax).
last_sql_count() { tail -n 1 "$audit" | jq --arg re "$1" '[.sql[] | select(test($re))] | length'; }
# no_sanitizer_report FILE...: the files exist and hold no sanitizer report.
no_sanitizer_report() {
    local f
    for f in "$@"; do [ -e "$f" ] || return 1; done
    ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"
}
# run NAME ARGS...: pgfleet with stdin from /dev/null; stdout and stderr in $tmp/NAME.out/.err.
runs=()
run() {
    local n=$1
    shift
    runs+=("$tmp/$n.err")
    "$PGFLEET" "$@" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
}
out_has() { grep -qF -- "$2" "$tmp/$1.out" "$tmp/$1.err"; }
show() { sed 's/^/    | /' "$tmp/$1.out" "$tmp/$1.err" | head -20; }

# ---- cancel of a running pg_sleep, by conninfo
client "$tag-cancel" "SELECT pg_sleep(60)"
check "a pg_sleep(60) session runs" wait_until 10 is_state "$tag-cancel" active
pid=$(backend_of "$tag-cancel")
run cancel-ask cancel "$PRIMARY_CONNINFO" "$pid"
check "cancel without --yes, stdin not a terminal: exit 2, nothing sent" eval '[ "$rc" = 2 ] && out_has cancel-ask "--yes" && is_state "$tag-cancel" active'
run cancel cancel --yes "$PRIMARY_CONNINFO" "$pid"
check "cancel exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show cancel
check "cancel reports the statement sent" out_has cancel "pid $pid: sent"
check "cancel shows the session it found first (application and query)" eval 'out_has cancel "app $tag-cancel" && out_has cancel "SELECT pg_sleep(60)"' 
check "the client's query was cancelled: SQLSTATE 57014" wait_until 5 grep -q "57014" "$tmp/$tag-cancel.err"
check "the client saw 'canceling statement due to user request'" grep -q "canceling statement due to user request" "$tmp/$tag-cancel.err"
check "the audit log has an intent record, then the outcome record" eval '[ "$(audit_lines)" = 2 ] && [ "$(head -n1 "$audit" | jq -r .record)" = intent ] && [ "$(last_audit .record)" = outcome ]'
check "… tied by the same id" [ "$(head -n1 "$audit" | jq -r .id)" = "$(last_audit .id)" ]
check "the lines are valid JSON" eval 'jq -e . "$audit" >/dev/null'
check "audit: action cancel" [ "$(last_audit .action)" = cancel ]
check "audit: the target's pid" [ "$(last_audit '.targets[0].pid')" = "$pid" ]
check "audit: the target's result starts with 'sent'" last_result_is 'sent*'
check "audit: the application and the query" eval '[ "$(last_audit ".targets[0].application")" = "$tag-cancel" ] && [ "$(last_audit ".targets[0].query")" = "SELECT pg_sleep(60)" ]'
check "audit: the SQL sent holds the guarded pg_cancel_backend" [ "$(last_sql_count 'pg_cancel_backend.*backend_start\) \* 1000000\)::int8 = \$2::int8')" = 1 ]
check "audit: time in UTC ISO 8601, os_user, host, server, outcome" bash -c "tail -n1 '$audit' | jq -e '(.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\$\")) and (.os_user|length>0) and (.host|length>0) and (.server|length>0) and (.outcome|test(\"sent\"))' >/dev/null"
check "audit log is mode 0600" [ "$(stat -c %a "$audit")" = 600 ]
check "audit directory is private (0700)" [ "$(stat -c %a "$XDG_STATE_HOME/pgfleet")" = 700 ]
check "nothing from the sanitizers" no_sanitizer_report "$tmp/cancel.err"

run audit audit
check "pgfleet audit exits 0" [ "$rc" = 0 ]
check "pgfleet audit prints the cancel with its pid and result" eval 'out_has audit "cancel: pid $pid: sent" && out_has audit "pid $pid " && out_has audit "$tag-cancel"'
run audit-since audit --since 1h
check "pgfleet audit --since 1h shows it" out_has audit-since "cancel: pid $pid: sent"
run audit-bad audit --since 1x
check "pgfleet audit --since 1x is a usage error (2)" [ "$rc" = 2 ]

# ---- a pid that is no session; a password in the conninfo never shows
run nosuch cancel --yes "$PRIMARY_CONNINFO password=s3cr3t-pw" 4194000
check "cancel of a pid that does not exist exits 1" [ "$rc" = 1 ]
check "… and says 'no such session'" out_has nosuch "no such session"
check "… is audited too (2 outcomes now; no intent: nothing was to be sent)" eval '[ "$(outcomes)" = 2 ] && [ "$(intents)" = 1 ]' 
check "… with nothing sent" last_result_is '*nothing sent*'
check "the password is neither printed nor audited" bash -c "! grep -q s3cr3t-pw '$tmp/nosuch.out' '$tmp/nosuch.err' '$audit'"

# ---- terminate an idle session, by the config's server name, with --yes
mkfifo "$tmp/idle.in"
PGAPPNAME=$tag-idle "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/idle.in" >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
exec 8>"$tmp/idle.in" # held open: psql waits for more, its session idle
echo "SELECT 1;" >&8
check "an idle session exists" wait_until 10 is_state "$tag-idle" idle
idle=$(backend_of "$tag-idle")

# refused first: no --yes and no terminal; --read-only; read_only: true in the config
run noyes terminate -c "$LAB/fleet.yaml" primary "$idle"
check "terminate without --yes, stdin not a terminal: exit 2" [ "$rc" = 2 ]
check "… says to give --yes" out_has noyes "--yes"
run ro-term terminate --read-only --yes -c "$LAB/fleet.yaml" primary "$idle"
check "terminate --read-only: exit 2" [ "$rc" = 2 ]
check "… says read-only" out_has ro-term "read-only"
sed '/^servers:/i read_only: true' "$LAB/fleet.yaml" >"$tmp/ro.yaml"
run ro-cfg terminate --yes -c "$tmp/ro.yaml" primary "$idle"
check "terminate with read_only: true in the config: exit 2" [ "$rc" = 2 ]
check "… says read-only" out_has ro-cfg "read-only"
check "none of the refused ones touched the session" backend_exists "$idle"
check "refusals before any SQL are not actions: no audit line" [ "$(outcomes)" = 2 ]

run term terminate --yes -c "$LAB/fleet.yaml" primary "$idle"
check "terminate --yes of an idle session exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show term
check "the backend is gone from pg_stat_activity when pgfleet returns" eval '! backend_exists "$idle"'
check "terminate reports 'terminated'" out_has term "terminated"
check "audit: one more action, terminate, server primary, result terminated" eval '[ "$(outcomes)" = 3 ] &&
    [ "$(last_audit .action)" = terminate ] && [ "$(last_audit .server)" = primary ] &&
    [ "$(last_audit ".targets[0].result")" = terminated ]'
check "audit: the SQL waits for the exit (pg_terminate_backend with a timeout) and is guarded" [ "$(last_sql_count 'pg_terminate_backend\(\$1::int, [0-9]+\).*backend_start\) \* 1000000\)::int8 = \$2::int8')" = 1 ]
run term2 terminate --yes -c "$LAB/fleet.yaml" primary "$idle"
check "terminating it again: exit 1, no such session" eval '[ "$rc" = 1 ] && out_has term2 "no such session"'
exec 8>&-

# ---- cancel refused by --read-only and read_only: true; nothing sent
client "$tag-ro" "SELECT pg_sleep(60)"
check "another pg_sleep session runs" wait_until 10 is_state "$tag-ro" active
ro=$(backend_of "$tag-ro")
n=$(audit_lines)
run ro-cancel cancel --read-only "$PRIMARY_CONNINFO" "$ro"
check "cancel --read-only: exit 2" [ "$rc" = 2 ]
check "… says read-only" out_has ro-cancel "read-only"
run ro-cancel2 cancel -c "$tmp/ro.yaml" primary "$ro"
check "cancel with read_only: true in the config: exit 2" [ "$rc" = 2 ]
# nothing to wait for: a cancel sent would reach the client at once; half a second of quiet is
# the check
check "nothing was sent: the query still runs, the client saw no error" holds 0.5 eval 'is_state "$tag-ro" active && [ ! -s "$tmp/$tag-ro.err" ]'
check "no audit line for refusals" [ "$(audit_lines)" = "$n" ]

# ---- logins without the right to signal a superuser's session
mon=${PRIMARY_CONNINFO/user=postgres/user=lab_monitor}
run mon cancel --yes "$mon" "$ro"
check "lab_monitor (pg_monitor, no pg_signal_backend) cancelling postgres's query: exit 1" [ "$rc" = 1 ]
[ "$rc" = 1 ] || show mon
check "… reports permission denied" out_has mon "permission denied"
check "… no crash, no sanitizer report" no_sanitizer_report "$tmp/mon.err"
check "… audited with the server's reason" last_result_is 'permission denied: *'
nosig=${PRIMARY_CONNINFO/user=postgres/user=lab_nosignal}
run nosig cancel --yes "$nosig" "$ro"
check "lab_nosignal (cannot see the session's details): exit 1" [ "$rc" = 1 ]
check "… reports permission denied: cannot see" eval 'out_has nosig "permission denied" && out_has nosig "cannot see"'
check "… audit: no signalling statement was sent" [ "$(last_sql_count pg_cancel_backend)" = 0 ]
check "… no sanitizer report" no_sanitizer_report "$tmp/nosig.err"
# half a second of quiet is the check (as above)
check "after both: the query still runs, the client saw no error" holds 0.5 eval 'is_state "$tag-ro" active && [ ! -s "$tmp/$tag-ro.err" ]'
run ro-end cancel --yes "$PRIMARY_CONNINFO" "$ro"
check "postgres may cancel it (exit 0)" [ "$rc" = 0 ]

# ---- never targets: background processes, pgfleet's own sessions
ws=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' LIMIT 1")
if [ -n "$ws" ]; then
    run ws cancel --yes "$PRIMARY_CONNINFO" "$ws"
    check "cancel of a walsender: exit 1" [ "$rc" = 1 ]
    check "… refused: not a client session" out_has ws "not a client session"
    check "… audit has no pg_cancel_backend" [ "$(last_sql_count pg_cancel_backend)" = 0 ]
    check "… the walsender still runs" backend_exists "$ws"
else
    fail "the lab's primary has a walsender (replica streaming)"
fi
av=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher'")
if [ -n "$av" ]; then
    run av terminate --yes "$PRIMARY_CONNINFO" "$av"
    check "terminate of the autovacuum launcher: exit 1" [ "$rc" = 1 ]
    check "… refused: not a client session (autovacuum launcher)" out_has av "not a client session (autovacuum launcher)"
    check "… the launcher still runs" backend_exists "$av"
else
    fail "the lab's primary has an autovacuum launcher"
fi
# a name is not an identity: a session that calls itself pgfleet is an ordinary target
client pgfleet "SELECT pg_sleep(61)"
own_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgfleet' AND state = 'active' AND query = 'SELECT pg_sleep(61)'"; }
check "a session named 'pgfleet' runs" wait_until 10 eval '[ -n "$(own_of)" ]'
own=$(own_of)
run own cancel --yes "$PRIMARY_CONNINFO" "$own"
check "cancel of a session named like pgfleet's own: exit 0, sent" eval '[ "$rc" = 0 ] && out_has own "pid $own: sent"'
check "… its query is cancelled" wait_until 5 eval '[ -z "$(own_of)" ]'
kill "$client_pid" 2>/dev/null

# ---- usage errors
run badpid cancel "$PRIMARY_CONNINFO" 12ab
check "a pid that is not a number: exit 2" [ "$rc" = 2 ]
run badsrv cancel -c "$LAB/fleet.yaml" no-such-server 123
check "a server not in the config: exit 2" [ "$rc" = 2 ]
run noargs terminate --yes
check "terminate without SERVER PID: exit 2" [ "$rc" = 2 ]

check "every audit line is valid JSON" bash -c "jq -c . '$audit' | wc -l | grep -qx '$(audit_lines)'"
check "every intent has its outcome" [ "$(jq -r 'select(.record == "intent") | .id' "$audit" | sort)" = "$(jq -r 'select(.record == "outcome" and .sql != []) | .id' "$audit" | sort)" ]
check "no sanitizer report from any of the ${#runs[@]} runs" no_sanitizer_report "${runs[@]}"
finish
