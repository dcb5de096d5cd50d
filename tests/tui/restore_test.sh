# restore_test.sh — restore tests from the monitor in a 160x30 tmux pane, driven by keys, against
# the lab's primary and replica (the replica's copies slowed to 100 kB/s by restore_test.max_rate),
# the record and the audit log in a private XDG_STATE_HOME:
# (1) B on the primary's Fleet row opens the y/n dialog (copied from the replica); y starts it;
#     the Jobs pane (9) shows it done, "restored and checked"; the Fleet's RESTORE column then
#     shows a fresh age for the primary ("never" for the replica);
# (2) B y on the (slow) replica: the job shows its copy's progress; x aborts it: "aborted", no
#     scratch directory, no pg_basebackup or scratch server left, the abort in the audit log and
#     in the record;
# (3) another slow test, then q: the "Quit pgfleet?" dialog names it; n keeps it running; q y
#     quits (status 0, nothing on stderr), leaves nothing behind, and the record says aborted;
# (4) --read-only: B says restore tests are disabled and opens nothing.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfleet-tuirt.XXXXXX")
chmod 755 "$tmp" # the tools and the scratch servers run as the lab's OS user below it
export XDG_STATE_HOME="$tmp/state"
records=$XDG_STATE_HOME/pgfleet/restore_tests.jsonl
audit=$XDG_STATE_HOME/pgfleet/audit.jsonl
scratch=$tmp/scratch
sock=pgfleet-test-restore-tui-$$
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    # a scratch server left by a failure of pgfleet must not outlive the test
    local d
    for d in "$scratch"/pgfleet-rt-*/data; do
        [ -f "$d/postmaster.pid" ] && lab_run_as "$LAB_BINDIR/pg_ctl" stop -D "$d" -m immediate >/dev/null 2>&1
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

mkdir -p "$scratch"
[ "$(id -u)" -ne 0 ] || chown "$LAB_USER" "$scratch"
run_as=
[ "$(id -u)" -ne 0 ] || run_as="run_as: $LAB_USER"
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - name: replica
    conninfo: "$REPLICA_CONNINFO"
    restore_test: { max_rate: 100k }
YAML

# ---- the screen
# restore_of NAME: the first word under RESTORE in NAME's Fleet row ("12s", "never", "FAILED")
restore_of() {
    screen | awk -v s="$1" 'NR == 3 {p = index($0, "RESTORE")} NR > 3 && p && $1 == s {split(substr($0, p, 12), w, " "); print w[1]; exit}'
}
fresh_age() { [[ $(restore_of "$1") =~ ^[0-9]+s$ ]]; }
fleet_shown() { line_re 3 '^SERVER +ROLE'; }
jobs_shown() { line_re 3 '^JOB +ACTION +SERVER +STATE'; }
dialog_shown() { line_starts 3 " Restore test"; }
quit_shown() { line_starts 3 " Quit pgfleet?"; }
no_dialog() { line_lacks_re 3 '^ (Restore test|Quit pgfleet)'; }
# the Jobs pane's row of job N: its STATE, and the row holds TEXT
job_state() { screen | awk -v n="$1" 'NR > 3 && $1 == n && $2 == "restore-test" {print $4; exit}'; }
job_is() { [ "$(job_state "$1")" = "$2" ]; }
job_has() { screen | awk -v n="$1" 'NR > 3 && $1 == n && $2 == "restore-test"' | grep -qE -- "$2"; }
# pick NAME: select NAME's Fleet row and press B; the dialog must name it (the rows are sorted by
# severity and may move between refreshes: read right before acting, retried when it moved)
pick() {
    local i idx
    for i in 1 2 3 4 5; do
        idx=$(rows | awk -v s="$1" '$1 == s {print NR - 1; exit}')
        [ -n "$idx" ] || { sleep 0.2; continue; }
        keys Home
        while [ "$idx" -gt 0 ]; do keys Down; idx=$((idx - 1)); done
        keys B
        wait_until 3 dialog_shown || return 1
        if has "Restore test of $1 by"; then return 0; fi
        keys Escape
        wait_until 3 no_dialog
    done
    return 1
}
# select_job N: move the Jobs pane's selection onto job N
select_job() {
    local idx
    idx=$(rows | awk -v n="$1" '$1 == n {print NR - 1; exit}')
    [ -n "$idx" ] || return 1
    keys Home
    while [ "$idx" -gt 0 ]; do keys Down; idx=$((idx - 1)); done
}

# ---- the machine
scratch_dirs() { find "$scratch" -mindepth 1 -maxdepth 1 -name 'pgfleet-rt-*' 2>/dev/null; }
# processes with the scratch directory on their command line (pg_basebackup, a scratch postgres)
procs_in_scratch() { ps -eo args= | grep -F -- "$scratch" | grep -v -e '^grep' -e 'ps -eo'; }
nothing_left() { [ -z "$(scratch_dirs)" ] && [ -z "$(procs_in_scratch)" ]; }
copying() { [ -n "$(scratch_dirs)" ] && procs_in_scratch | grep -q pg_basebackup; }
rec() { jq -c --arg s "$1" 'select(.server == $s)' "$records" 2>/dev/null | tail -n 1 | jq -r "$2"; }
# audit_state ID: the state of the outcome record of audit id ID ("" when none)
audit_state() { jq -r --arg id "$1" 'select(.id == $id and .record == "outcome") | .state' "$audit" 2>/dev/null; }
audit_intent() { [ "$(jq -r --arg id "$1" 'select(.id == $id and .record == "intent") | .id' "$audit" 2>/dev/null)" = "$1" ]; }

launch_tui tui 160 30 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$tmp/fleet.yaml"
require "the Fleet pane shows the primary and the replica UP" 10 eval 'is_status primary UP && is_status replica UP'
check "no record yet: no RESTORE column" line_lacks 3 RESTORE

# ============ (1) B on the primary, y: done, restored and checked
if pick primary; then ok "B on the primary's row: the restore test dialog names it"; else fail "B on the primary's row opens its dialog"; dump; fi
check "the dialog says it copies from the replica" has "Restore test of primary by basebackup, copied from replica (a replica),"
check "… into the scratch directory" has "into a scratch directory under $scratch"
check "… and asks y/n" has "Proceed? [y] yes   [n] no"
keys y
expect "y: the footer points to pane 9" 3 has "1 job started: see pane 9 (Jobs)"
keys 9
expect "9: the Jobs pane" 3 jobs_shown
expect "job 1 ends done: 'restored and checked'" 60 eval 'job_is 1 done && job_has 1 "restored and checked in [0-9.]+s"'
check "… the record says ok, copied from the replica" [ "$(rec primary '.outcome + " " + .source')" = "ok replica" ]
check "… nothing left behind" nothing_left
keys Home Enter
expect "Enter opens the job's log" 3 line_starts 3 " Job 1: Restore test on primary: done"
check "… the log has the checks and the record" eval 'has "checks passed: the restored server is usable" && has "recorded in $records"'
keys Escape
expect "Esc closes the log" 3 jobs_shown
keys 1
expect "Fleet: a RESTORE column, a fresh age for the primary" 5 fresh_age primary
check "… and 'never' for the replica" [ "$(restore_of replica)" = never ]

# ============ (2) a slow test of the replica, aborted with x mid-copy
if pick replica; then ok "B on the replica's row: its dialog"; else fail "B on the replica's row opens its dialog"; dump; fi
keys y
keys 9
expect "job 2 runs and shows the copy's progress" 20 eval 'job_is 2 running && job_has 2 "copy [0-9]+% [0-9.]+[kMG]?B / [0-9.]+[kMG]?B"'
check "… pg_basebackup copies into a scratch directory" copying
expect "the Jobs pane offers x abort" 5 line_has 30 "x abort"
select_job 2
keys x
expect "x: job 2 aborted, 'nothing left behind'" 10 eval 'job_is 2 aborted && job_has 2 "aborted at copy: nothing left behind"'
expect "no scratch directory, no pg_basebackup or scratch server left" 10 nothing_left
[ -z "$(procs_in_scratch)" ] || procs_in_scratch | sed 's/^/    | /'
id2=$(rec replica .audit_id)
check "the record: aborted at copy, by the user" [ "$(rec replica '.outcome + " " + .failed_phase + " " + .error')" = "aborted copy aborted by the user" ]
check "the audit log has the intent and the abort ($(audit_state "$id2"))" eval 'audit_intent "$id2" && [ "$(audit_state "$id2")" = aborted ]'
check "job 1 is still done" job_is 1 done

# ============ (3) q while a test runs: asked first; n stays; y quits and leaves nothing
keys 1
expect "back on the Fleet" 3 fleet_shown
if pick replica; then ok "B on the replica again: its dialog"; else fail "B on the replica again opens its dialog"; dump; fi
keys y
keys 9
expect "job 3 runs and shows the copy's progress" 20 eval 'job_is 3 running && job_has 3 "copy [0-9]+%"'
keys q
expect "q: 'Quit pgfleet?'" 3 quit_shown
check "… it names the running test" has "A restore test of replica is running (job 3: copy"
check "… says quitting aborts it" has "Quitting aborts it"
check "… and offers y / n" has "y quit and abort     n / Esc stay"
keys n
expect "n: the dialog closes" 3 no_dialog
check "… pgfleet still runs" eval '! tui_exited "$tmp/tui"'
# half a second of the test going on is the check
check "… and so does the test (job 3 running, pg_basebackup copying)" holds 0.5 eval 'job_is 3 running && copying'
keys q
expect "q again: the dialog" 3 quit_shown
keys y
if wait_until 20 tui_exited "$tmp/tui"; then
    check "y: pgfleet quits with status 0 ($(cat "$tmp/tui.rc"))" [ "$(cat "$tmp/tui.rc")" = 0 ]
else
    fail "y: pgfleet quits within 20 s"
    dump
fi
no_output "nothing on stderr (no sanitizer report, no stray message)" "$tmp/tui.err"
check "nothing left behind: no scratch directory, no process" nothing_left
id3=$(rec replica .audit_id)
check "the record of job 3: aborted (a new one: $id3)" eval '[ "$id3" != "$id2" ] && [ "$(rec replica .outcome)" = aborted ]'
check "the audit log has job 3's intent and abort" eval 'audit_intent "$id3" && [ "$(audit_state "$id3")" = aborted ]'
check "three runs on record: ok, aborted, aborted" [ "$(jq -r .outcome "$records" | tr '\n' ' ')" = "ok aborted aborted " ]

# ============ (4) --read-only
launch_tui ro 160 30 "$tmp/ro" XDG_STATE_HOME="$XDG_STATE_HOME" -- --read-only -c "$tmp/fleet.yaml"
require "pgfleet --read-only shows the fleet" 10 eval 'is_status primary UP && is_status replica UP'
keys Home B
expect "B: 'read-only: restore tests are disabled'" 3 has "read-only: restore tests are disabled"
check "… and opens no dialog" no_dialog
check "… nothing started: no new record, no scratch directory" eval '[ "$(wc -l <"$records")" = 3 ] && nothing_left'
quit_tui "$tmp/ro" "pgfleet --read-only"

finish
