# actions.sh — cancel and terminate from the monitor in a 120x40 tmux pane, driven by keys:
# (1) the y/n dialog for a cancel shows the session (pid, user, app, query); Esc backs out with
#     nothing sent; c y cancels the query (the client sees SQLSTATE 57014), pane 9 lists the job
#     done with its outcome, Enter opens its log, its intent and outcome records;
# (2) the guard: a frozen screen shows an old query of a session that has started another one
#     since; c y sends nothing and the job says "running a different query now (nothing sent)";
# (3) terminate of two tagged rows (Space, then K): the dialog wants "yes" typed; "no" does
#     nothing, "yes" ends both backends;
# (4) a login that may not signal superusers' sessions: c explains why, no dialog;
# (5) --read-only: c, K and Space say read-only and open nothing; the footer and header say
#     read-only and offer no action keys.
# Backing out of dialogs uses up no job number: the first job started is job 1, in the Jobs pane
# and in the audit id.
# The audit log lives in a private XDG_STATE_HOME.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
audit="$XDG_STATE_HOME/pgfleet/audit.jsonl"
sock=pgfleet-test-actions-$$
pane=tui:0.0
bg_pids=
cleanup() {
    T kill-server >/dev/null 2>&1
    exec 7>&- 8>&- 2>/dev/null
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ---- screen helpers of this test (the shared ones are in tuilib.sh)
# row_has PID TEXT: the Activity row of backend PID (tagged or not) holds TEXT.
row_has() { screen | awk -v p="$1" '$2 == p || $2 == "*" p' | grep -qF -- "$2"; }
tagged() { screen | awk -v p="*$1" '$2 == p {f = 1} END {exit !f}'; }
list_shown() { line_re 3 '^SERVER +PID'; }
dialog_shown() { line_re 3 '^ (Cancel query|Terminate session)'; }
no_dialog() { line_lacks_re 3 '^ (Cancel query|Terminate session)'; }
footer_has() { line_has 40 "$1"; }

# ---- sessions: psql clients whose errors (verbose, with the SQLSTATE) go to $tmp/NAME.err
tag=tuiact$$
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }
query_of() { q "SELECT query FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active'"; }
is_state() { [ "$(q "SELECT state FROM pg_stat_activity WHERE application_name = '$1'")" = "$2" ]; }
gone() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $1")" = 0 ]; }
# actions on record: one outcome record each (after the intent record written before sending)
audit_lines() { if [ -f "$audit" ]; then jq -c 'select(.record == "outcome")' "$audit" | wc -l; else echo 0; fi; }
last_outcome() { jq -c 'select(.record == "outcome")' "$audit" | tail -n 1 | jq -r "$1"; }
client() { # NAME SQL
    PGAPPNAME=$1 "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        -c '\set VERBOSITY verbose' -c "$2" </dev/null >/dev/null 2>"$tmp/$1.err" &
    bg_pids="$bg_pids $!"
}
cancelled() { grep -q 57014 "$tmp/$1.err"; }
# filter_to NAME: the Activity pane showing only the rows matching NAME, the first selected
filter_to() {
    keys 2
    wait_until 3 list_shown
    keys /
    wait_until 3 line_starts 40 "Filter: "
    typ "$1"
    keys Enter
    wait_until 3 line_has 2 "filter: $1"
}
clear_filter() {
    keys Escape # the filter (in the list)
    wait_until 3 line_lacks 2 "filter:"
}

# ---- a shell in tmux, pgfleet started from it
start_shell 120 40
# start_pgfleet N ARGS: pgfleet in the pane, its stderr in $tmp/errN, then "rcN=STATUS"
start_pgfleet() {
    local n=$1
    shift
    typ "clear; XDG_STATE_HOME='$XDG_STATE_HOME' '$PGFLEET' $* 2>'$tmp/err$n'; echo rc$n=\$?"
    keys Enter
}
quit_pgfleet() { # N
    keys Escape q
    expect "q: pgfleet exits with status 0 (run $1)" 5 has_line "rc$1=0"
    no_output "nothing on stderr (run $1)" "$tmp/err$1"
}

# ============ (1) cancel, with Esc first
c1=$tag-c1
client "$c1" "SELECT pg_sleep(120) /*tui-actions-cancel*/"
require "a pg_sleep(120) session runs" 10 is_state "$c1" active
c1_pid=$(backend_of "$c1")
start_pgfleet 1 -c "'$LAB/fleet.yaml'"
require "pgfleet shows the fleet" 10 line_starts 3 "SERVER"
filter_to "$c1"
expect "the filter leaves the one session" 5 eval 'nrows_is 1 && row_has "$c1_pid" "pg_sleep(120)"'

keys c
expect "c: the cancel dialog opens" 3 line_starts 3 " Cancel query"
check "the dialog names the server" has "1 session on primary"
check "the dialog shows pid, user@database and app" has "pid $c1_pid  postgres@labdb  app $c1"
check "the dialog shows the query" has "SELECT pg_sleep(120) /*tui-actions-cancel*/"
check "the dialog marks the superuser's session" has "SUPERUSER"
check "one cancel asks y/n" has "Proceed? [y] yes   [n] no"
keys Escape
expect "Esc: 'backed out: nothing was sent'" 3 has "backed out: nothing was sent"
check "Esc closed the dialog" list_shown
# nothing to wait for: a cancel would reach the client at once; a second of quiet is the check
check "after Esc the query still runs and its client saw no error" holds 1 eval 'is_state "$c1" active && [ ! -s "$tmp/$c1.err" ]'
check "after Esc: no audit line" [ "$(audit_lines)" = 0 ]
keys c
expect "c again: the dialog" 3 line_starts 3 " Cancel query"
keys n
expect "n backs out too" 3 has "backed out: nothing was sent"
check "after n the query still runs" is_state "$c1" active

keys c
wait_until 3 line_starts 3 " Cancel query"
keys y
expect "y: the footer points to pane 9" 3 has "1 job started: see pane 9 (Jobs)"
expect "the client's query was cancelled (SQLSTATE 57014)" 5 cancelled "$c1"
check "… 'canceling statement due to user request'" grep -q "canceling statement due to user request" "$tmp/$c1.err"
keys 9
expect "9: the Jobs pane" 3 line_re 3 '^JOB +ACTION +SERVER +STATE'
expect "the job is done with outcome 'pid N: sent…'" 5 eval 'screen | grep -E "^ *[0-9]+ +cancel +primary +done " | grep -qF "pid $c1_pid: sent"'
check "after backing out twice, the first job started is job 1 (no number used up)" eval 'screen | grep -qE "^ +1 +cancel +primary +done "'
keys Home Enter
expect "Enter opens the job's log" 3 line_re 3 '^ Job [0-9]+: Cancel query on primary: done'
check "the log shows the guarded signal going out" has "cancel: signalling 1 session, only if still the one shown"
check "the log ends with the result" has "pid $c1_pid: sent; the query ended"
keys Escape
expect "Esc closes the log" 3 line_re 3 '^JOB +ACTION'
check "one action on record, cancel, result sent…" eval '[ "$(audit_lines)" = 1 ] && [ "$(last_outcome .action)" = cancel ] &&
    [[ $(last_outcome ".targets[0].result") == sent* ]] && [ "$(last_outcome ".targets[0].pid")" = "$c1_pid" ]'
check "… its intent record came first" [ "$(head -n1 "$audit" | jq -r .record)" = intent ]
check "… its audit id ends with job number 1" eval '[[ $(last_outcome .id) == *-1 ]]'
keys 2
wait_until 3 list_shown
clear_filter

# ============ (2) the guard: the session runs another query than the (frozen) screen shows
g=$tag-guard
mkfifo "$tmp/guard.in"
PGAPPNAME=$g "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    -c '\set VERBOSITY verbose' -f "$tmp/guard.in" >/dev/null 2>"$tmp/$g.err" &
bg_pids="$bg_pids $!"
exec 7<>"$tmp/guard.in"
echo "SELECT pg_sleep(5) /*first*/;" >&7
echo "SELECT pg_sleep(60) /*second*/;" >&7
wait_until 3 eval '[[ $(query_of "$g") == *"/*first*/"* ]]'
g_pid=$(backend_of "$g")
filter_to "$g"
expect "the session shows with its first query" 4 row_has "$g_pid" "pg_sleep(5)"
keys z
expect "z: FROZEN" 3 line_has 1 "FROZEN"
check "the frozen row shows the first query" row_has "$g_pid" "pg_sleep(5)"
expect "meanwhile the session runs its second query (server side)" 8 eval '[[ $(query_of "$g") == *"/*second*/"* ]]'
check "the frozen row still shows the first query" row_has "$g_pid" "pg_sleep(5)"
keys c
expect "c: the dialog shows the old query" 3 eval 'line_starts 3 " Cancel query" && has "/*first*/"'
keys y
keys 9
expect "the job ends: 'running a different query now (nothing sent)'" 5 eval 'screen | grep -E "^ *[0-9]+ +cancel +primary +failed " | grep -qF "running a different query now (nothing sent)"'
# nothing to wait for (the job is over): a second of quiet is the check
check "the new query still runs; its client saw no error" holds 1 eval '[[ $(query_of "$g") == *"/*second*/"* ]] && ! grep -q ERROR "$tmp/$g.err"'
check "audit: the guard's line says nothing was sent" eval '[ "$(audit_lines)" = 2 ] && [ "$(last_outcome ".targets[0].result")" = "running a different query now (nothing sent)" ]'
keys 2
keys z
expect "z again: unfrozen" 3 line_lacks 1 "FROZEN"
expect "unfrozen: the row shows the second query" 4 row_has "$g_pid" "pg_sleep(60)"
exec 7>&-
clear_filter

# ============ (3) terminate two tagged sessions: typed "yes"
t1=$tag-t1 t2=$tag-t2
client "$t1" "SELECT pg_sleep(120) /*t1*/"
client "$t2" "SELECT pg_sleep(120) /*t2*/"
require "two sessions to terminate run" 10 eval 'is_state "$t1" active && is_state "$t2" active'
t1_pid=$(backend_of "$t1") t2_pid=$(backend_of "$t2")
filter_to "$tag-t"
expect "the filter leaves the two" 5 nrows_is 2
keys Home Space
expect "Space tags the first row: '1 session tagged'" 3 has "1 session tagged"
keys Space
expect "Space on the next row: '2 sessions tagged'" 3 has "2 sessions tagged"
expect "both rows carry the tag mark" 3 eval 'tagged "$t1_pid" && tagged "$t2_pid"'
keys K
expect "K: the terminate dialog for the two" 3 eval 'line_starts 3 " Terminate session" && has "TERMINATE 2 sessions on primary"'
check "the dialog lists both pids" eval 'has "pid $t1_pid " && has "pid $t2_pid "'
check "it asks for yes to be typed" has "Type yes and Enter to proceed"
keys y
# half a second of nothing happening is the check
check "a lone y does not act" holds 0.5 eval 'dialog_shown && ! gone "$t1_pid"'
keys BSpace
typ "no"
expect "the typed answer shows" 3 has "to proceed (Esc backs out): no_"
keys Enter
expect "no + Enter: the dialog stays, the answer cleared" 3 eval 'dialog_shown && has "to proceed (Esc backs out): _"'
# half a second of nothing happening is the check
check "no + Enter: both sessions still run" holds 0.5 eval '! gone "$t1_pid" && ! gone "$t2_pid"'
typ "yes"
keys Enter
expect "yes + Enter: the dialog closes" 3 no_dialog
expect "both backends are gone" 10 eval 'gone "$t1_pid" && gone "$t2_pid"'
keys 9
expect "Jobs: terminate done, 'terminated 2 of 2'" 8 eval 'screen | grep -E "^ *[0-9]+ +terminate +primary +done " | grep -qF "terminated 2 of 2"'
check "audit: one line for the two, both terminated" eval '[ "$(audit_lines)" = 3 ] && [ "$(last_outcome "[.targets[].result] | join(\",\")")" = "terminated,terminated" ]'
keys 2
wait_until 3 list_shown
clear_filter
quit_pgfleet 1

# ============ (4) a login that may not signal a superuser's session: explained, no dialog
cat >"$tmp/monitor.yaml" <<YAML
refresh: 1s
servers:
  - { name: primary, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=lab_monitor" }
YAML
m=$tag-mon
client "$m" "SELECT pg_sleep(120) /*mon*/"
require "a postgres session runs" 10 is_state "$m" active
m_pid=$(backend_of "$m")
start_pgfleet 2 -c "'$tmp/monitor.yaml'"
require "pgfleet (as lab_monitor) shows the fleet" 10 line_starts 3 "SERVER"
filter_to "$m"
expect "lab_monitor sees the session" 5 row_has "$m_pid" "pg_sleep(120)"
keys c
expect "c: says why it cannot (a superuser's session)" 3 has "only a superuser may signal it"
check "… and opens no dialog" no_dialog
keys K
expect "K: the same" 3 has "only a superuser may signal it"
check "… no dialog" no_dialog
check "the session still runs" is_state "$m" active
quit_pgfleet 2

# ============ (5) --read-only
start_pgfleet 3 --read-only -c "'$LAB/fleet.yaml'"
require "pgfleet --read-only shows the fleet" 10 line_starts 3 "SERVER"
check "the header says read-only" line_has 1 "read-only"
check "the footer says read-only" footer_has "read-only: actions off"
filter_to "$m"
expect "the session is listed" 5 row_has "$m_pid" "pg_sleep(120)"
keys c
expect "c: 'read-only: cancel is disabled'" 3 has "read-only: cancel is disabled"
check "… and opens no dialog" no_dialog
keys K
expect "K: 'read-only: terminate is disabled'" 3 has "read-only: terminate is disabled"
check "… no dialog" no_dialog
keys Space
expect "Space: 'read-only: actions are disabled' (tags are for actions)" 3 has "read-only: actions are disabled"
check "… and tags nothing" eval '! tagged "$m_pid"'
expect "the footer (once the message is gone) offers the pane's other keys" 5 line_has 40 "Enter details"
check "… and no action keys" eval 'line_lacks 40 "c cancel" && line_lacks 40 "K terminate" && line_lacks 40 "Space tag"'
keys 9
expect "pane 9 says actions are disabled" 3 has "read-only: actions are disabled"
check "the session still runs, untouched" eval 'is_state "$m" active && [ ! -s "$tmp/$m.err" ]'
check "no audit line from the read-only run" [ "$(audit_lines)" = 3 ]
quit_pgfleet 3

finish
