# cli_confirm.sh — `pgfleet cancel|terminate SERVER PID` asking at a terminal (a pty made by
# script(1), answers written to it) against the lab's primary: the session shown before the
# question (user, application, state, age, the query escaped); the answers the monitor's dialog
# takes (y for a cancel or for one ordinary session's terminate, typing yes for a superuser's);
# "not confirmed" (n, end of input, y where yes is asked) exits 1 with nothing sent; a session
# gone between the question and the answer is "already gone (nothing sent)" and no line says it
# was sent; a session idle in transaction is named so when there is nothing to cancel.
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
    exec 7>&- 8>&- 9>&- 2>/dev/null
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

tag=conf$$
# client NAME CONNINFO SQL: a psql session (application_name NAME) running SQL in the background,
# its errors (with the SQLSTATE) in $tmp/NAME.err.
client() {
    PGAPPNAME=$1 "$(lab_psql_bin)" -X -q -At "$2" -c '\set VERBOSITY verbose' -c "$3" \
        </dev/null >/dev/null 2>"$tmp/$1.err" &
    bg_pids="$bg_pids $!"
}
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }
state_of() { q "SELECT state FROM pg_stat_activity WHERE application_name = '$1'"; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
backend_exists() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $1")" = 1 ]; }
outcomes() { if [ -f "$audit" ]; then jq -c 'select(.record == "outcome")' "$audit" | wc -l; else echo 0; fi; }
no_sanitizer_report() { [ -e "$1" ] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; }

# ask NAME ANSWER ARGS...: pgfleet ARGS at a terminal (script's pty), ANSWER typed to it ("EOF":
# end of input, nothing typed); everything it printed in $tmp/NAME.out (CRs removed), its exit
# status in $rc.
runs=()
ask() {
    local n=$1 answer=$2 cmd
    shift 2
    cmd=$(printf '%q ' "$PGFLEET" "$@")
    if [ "$answer" = EOF ]; then
        script -qec "$cmd" /dev/null </dev/null >"$tmp/$n.raw" 2>&1
    else
        printf '%s\n' "$answer" | script -qec "$cmd" /dev/null >"$tmp/$n.raw" 2>&1
    fi
    rc=$?
    tr -d '\r' <"$tmp/$n.raw" >"$tmp/$n.out"
    runs+=("$tmp/$n.out")
}
out_has() { grep -qF -- "$2" "$tmp/$1.out"; }
show() { sed 's/^/    | /' "$tmp/$1.out" | head -30; }
# never_sent NAME: no line says "sent" other than as "nothing sent"
never_sent() { ! sed 's/nothing sent//g' "$tmp/$1.out" | grep -qw sent; }

# ---- cancel: shown, then asked [y/N]; n, end of input: not confirmed, exit 1, nothing sent
esc=$(printf '\033')
client "$tag-c" "$PRIMARY_CONNINFO" "SELECT pg_sleep(60) /* ${esc}[2J */"
check "a pg_sleep(60) session runs" wait_until 10 is_state "$tag-c" active
pid=$(backend_of "$tag-c")
ask c-no n cancel "$PRIMARY_CONNINFO" "$pid"
check "cancel, answered n: exit 1 (not 2: no usage error)" [ "$rc" = 1 ]
[ "$rc" = 1 ] || show c-no
check "… it showed the session first: pid, user@database, application, client, state and age" \
    grep -qE "^pid $pid  postgres@labdb  app $tag-c  client 127\.0\.0\.1  active [0-9.]+s  SUPERUSER\$" "$tmp/c-no.out"
check "… and its query, escaped (\\033, no raw escape byte)" eval 'out_has c-no "SELECT pg_sleep(60) /* \\033[2J */" && ! grep -q "$esc" "$tmp/c-no.out"'
check "… asked 'Proceed? [y/N]'" out_has c-no "Proceed? [y/N] "
check "… said 'pgfleet: not confirmed; nothing sent'" out_has c-no "pgfleet: not confirmed; nothing sent"
ask c-eof EOF cancel "$PRIMARY_CONNINFO" "$pid"
check "cancel, end of input at the question: exit 1, not confirmed" eval '[ "$rc" = 1 ] && out_has c-eof "not confirmed; nothing sent"'
check "… the message on a line of its own" grep -qx "pgfleet: not confirmed; nothing sent" "$tmp/c-eof.out"
# nothing to wait for: a cancel sent would reach the client at once; half a second of quiet is
# the check
check "nothing was sent: the query still runs, the client saw no error" holds 0.5 eval 'is_state "$tag-c" active && [ ! -s "$tmp/$tag-c.err" ]'
check "not confirmed is not an action: nothing in the audit log" [ "$(outcomes)" = 0 ]

# ---- cancel: y goes on
ask c-yes y cancel "$PRIMARY_CONNINFO" "$pid"
check "cancel, answered y: exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show c-yes
check "… 'pid N: sent'" out_has c-yes "pid $pid: sent"
check "… the client's query was cancelled (57014)" wait_until 5 grep -q 57014 "$tmp/$tag-c.err"
check "… on record" [ "$(outcomes)" = 1 ]

# ---- terminate: y for one ordinary session (as the dialog takes it), yes typed for a superuser's
mon=${PRIMARY_CONNINFO/user=postgres/user=lab_monitor}
client "$tag-m" "$mon" "SELECT pg_sleep(60)"
check "a lab_monitor session runs" wait_until 10 is_state "$tag-m" active
mpid=$(backend_of "$tag-m")
ask t-y y terminate "$PRIMARY_CONNINFO" "$mpid"
check "terminate of one non-superuser session asks [y/N] and takes y: exit 0" eval '[ "$rc" = 0 ] && out_has t-y "Proceed? [y/N] "'
[ "$rc" = 0 ] || show t-y
check "… shows lab_monitor@labdb without SUPERUSER" grep -qE "^pid $mpid  lab_monitor@labdb  app $tag-m  client 127\.0\.0\.1  active [0-9.]+s\$" "$tmp/t-y.out"
check "… terminated: the backend is gone" eval 'out_has t-y "pid $mpid: terminated" && ! backend_exists "$mpid"'

client "$tag-s" "$PRIMARY_CONNINFO" "SELECT pg_sleep(60)"
check "a superuser's session runs" wait_until 10 is_state "$tag-s" active
spid=$(backend_of "$tag-s")
n=$(outcomes)
ask t-s-y y terminate "$PRIMARY_CONNINFO" "$spid"
check "terminate of a superuser's session asks to type yes" out_has t-s-y "Type yes and Enter to proceed: "
check "… y is not enough there (as in the dialog): exit 1, not confirmed" eval '[ "$rc" = 1 ] && out_has t-s-y "not confirmed; nothing sent"'
check "… the session is still there, nothing on record" eval 'backend_exists "$spid" && [ "$(outcomes)" = "$n" ]'
ask t-s-yes yes terminate "$PRIMARY_CONNINFO" "$spid"
check "… yes typed: exit 0, terminated" eval '[ "$rc" = 0 ] && out_has t-s-yes "pid $spid: terminated" && ! backend_exists "$spid"'
[ "$rc" = 0 ] || show t-s-yes

# ---- gone between the question and the answer: nothing sent, and no line says "sent"
client "$tag-g" "$PRIMARY_CONNINFO" "SELECT pg_sleep(60)"
check "another pg_sleep session runs" wait_until 10 is_state "$tag-g" active
gpid=$(backend_of "$tag-g")
mkfifo "$tmp/answer"
script -qec "$(printf '%q ' "$PGFLEET" cancel "$PRIMARY_CONNINFO" "$gpid")" /dev/null <"$tmp/answer" >"$tmp/g.raw" 2>&1 &
spid_script=$!
bg_pids="$bg_pids $spid_script"
exec 9>"$tmp/answer"
check "cancel asks about it" wait_until 10 grep -qF "Proceed? [y/N]" "$tmp/g.raw"
q "SELECT pg_terminate_backend($gpid)" >/dev/null
check "meanwhile the session ended" wait_until 5 eval '! backend_exists "$gpid"'
echo y >&9
exec 9>&-
wait "$spid_script"
rc=$?
tr -d '\r' <"$tmp/g.raw" >"$tmp/g.out"
runs+=("$tmp/g.out")
check "answered y after it ended: exit 1" [ "$rc" = 1 ]
check "… 'pid N: already gone (nothing sent)'" out_has g "pid $gpid: already gone (nothing sent)"
check "… and no line says it was sent" never_sent g
[ "$rc" = 1 ] && never_sent g || show g

# ---- idle in transaction: named so, nothing to cancel
mkfifo "$tmp/iit.in"
PGAPPNAME=$tag-i "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/iit.in" >/dev/null 2>&1 &
bg_pids="$bg_pids $!"
exec 8>"$tmp/iit.in"
echo "BEGIN; SELECT 1;" >&8
check "a session idle in transaction" wait_until 10 is_state "$tag-i" "idle in transaction"
ipid=$(backend_of "$tag-i")
ask i-yes y cancel "$PRIMARY_CONNINFO" "$ipid"
check "cancel of it: exit 1" [ "$rc" = 1 ]
check "… shown as 'idle in transaction'" grep -qE "^pid $ipid  postgres@labdb  app $tag-i  client 127\.0\.0\.1  idle in transaction [0-9.]+s  SUPERUSER\$" "$tmp/i-yes.out"
check "… result names it: 'no query running (idle in transaction): nothing to cancel, nothing sent; terminate would end its transaction'" \
    out_has i-yes "pid $ipid: no query running (idle in transaction): nothing to cancel, nothing sent; terminate would end its transaction"
check "… no line says it was sent" never_sent i-yes
[ "$rc" = 1 ] && never_sent i-yes || show i-yes
check "… the session is untouched, still idle in transaction" is_state "$tag-i" "idle in transaction"
exec 8>&-

for r in "${runs[@]}"; do
    check "no sanitizer report in $(basename "$r")" no_sanitizer_report "$r"
done
finish
