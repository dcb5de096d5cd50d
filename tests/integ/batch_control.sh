# batch_control.sh — `pgfleet batch pause|resume|cancel [--now]` against the lab primary's control
# table pgfleet.batch_job, with a psql session named pgfleet-batch:j1 running pg_sleep standing in
# for the runner's batch: pause writes desired=pause (and changed_by), its intent and outcome
# land in the audit log, a LISTEN on pgfleet_batch hears the job's name; resume; cancel without
# --yes and without a terminal is refused; cancel --now --yes writes desired=cancel and cancels
# the runner's statement (and only a session named as the job's runner: a backend under another
# name is left alone); an unknown job, a job already done, --read-only and an audit log that
# cannot be written change nothing in the table. No pgfleet writes to stderr when it succeeds.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
audit=$XDG_STATE_HOME/pgfleet/audit.jsonl
bg_pids=
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
cleanup() {
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    q "DROP SCHEMA IF EXISTS pgfleet CASCADE" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

cat >"$tmp/fleet.yaml" <<EOF
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
EOF
cat >"$tmp/full.yaml" <<EOF
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
actions: { audit_log: /dev/full }
EOF

q "DROP SCHEMA IF EXISTS pgfleet CASCADE" >/dev/null 2>&1
"$PGFLEET" batch init --print | lab_psql "$PRIMARY_PORT" >/dev/null
check "the control table is created from batch init --print" [ "$(q "SELECT to_regclass('pgfleet.batch_job') IS NOT NULL")" = t ]

# sleeper APP FILE: a session named APP sleeping 60 s, its psql's output in FILE
sleeper() {
    PGAPPNAME=$1 "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        -c "SELECT pg_sleep(60)" </dev/null >"$2" 2>&1 &
    bg_pids="$bg_pids $!"
}
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active'"; }
started() { [ -n "$(backend_of "$1")" ]; }
sleeper pgfleet-batch:j1 "$tmp/runner.out"
runner_psql=$!
sleeper not-the-runner "$tmp/other.out"
wait_until 10 started pgfleet-batch:j1 || fail "the runner's session did not start"
wait_until 10 started not-the-runner || fail "the other session did not start"
runner=$(backend_of pgfleet-batch:j1)
other=$(backend_of not-the-runner)
q "INSERT INTO pgfleet.batch_job (job, state, runner_backend, heartbeat, started) VALUES
   ('j1', 'running', $runner, now(), now()), ('j2', 'running', $runner, now(), now()),
   ('j3', 'done', NULL, now(), now()), ('j4', 'running', $other, now(), now())" >/dev/null
field() { q "SELECT $2 FROM pgfleet.batch_job WHERE job = '$1'"; }

# a listener on the channel the trigger notifies (psql prints notifications after a command)
"$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb -c "LISTEN pgfleet_batch" \
    -c "SELECT pg_sleep(3)" </dev/null >"$tmp/listen.out" 2>&1 &
listener=$!
bg_pids="$bg_pids $listener"
listening() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)' AND state = 'active'")" = 1 ]; }
wait_until 5 listening || fail "the listener did not start"

# --- pause
"$PGFLEET" batch pause -c "$tmp/fleet.yaml" primary j1 </dev/null >"$tmp/pause.out" 2>"$tmp/pause.err"
check "pause: exit 0" [ $? -eq 0 ]
no_output "pause: nothing on stderr" "$tmp/pause.err"
check "pause: desired = pause in the table" [ "$(field j1 desired)" = pause ]
check "pause: changed_by names pgfleet and the audit id" bash -c "[[ '$(field j1 changed_by)' == 'pgfleet '*@*' '* ]]"
check "pause: says paused, the runner acknowledges" grep -q 'j1: paused (the runner acknowledges within one batch)' "$tmp/pause.out"
check "pause: the other job untouched" [ "$(field j2 desired)" = run ]
check "pause: intent then outcome in the audit log" \
    bash -c "grep -o '\"record\":\"[a-z]*\",\"id\":\"[^\"]*\"' '$audit' | tr '\n' ' ' | grep -Eq '\"record\":\"intent\",\"id\":\"([^\"]*)\" \"record\":\"outcome\",\"id\":\"\\1\"'"
check "pause: the intent names the action, the job and its statement" \
    bash -c "head -1 '$audit' | grep '\"action\":\"batch-pause\"' | grep 'pgfleet-batch:j1' | grep -q 'UPDATE pgfleet.batch_job'"
check "pause: the outcome record says paused" bash -c "sed -n 2p '$audit' | grep -q 'j1: paused'"
aid=$(q "SELECT split_part(changed_by, ' ', 3) FROM pgfleet.batch_job WHERE job = 'j1'")
check "pause: changed_by carries the audit record's id" grep -qF "\"id\":\"$aid\"" "$audit"
wait "$listener"
check "a LISTEN on pgfleet_batch hears j1" grep -q 'notification "pgfleet_batch" with payload "j1"' "$tmp/listen.out"

# --- resume
"$PGFLEET" batch resume -c "$tmp/fleet.yaml" primary j1 </dev/null >"$tmp/resume.out" 2>"$tmp/resume.err"
check "resume: exit 0" [ $? -eq 0 ]
no_output "resume: nothing on stderr" "$tmp/resume.err"
check "resume: desired = run" [ "$(field j1 desired)" = run ]
check "resume: says resumed" grep -q 'j1: resumed' "$tmp/resume.out"

# --- cancel without --yes and no terminal: refused, nothing changed, nothing recorded
lines=$(wc -l <"$audit")
"$PGFLEET" batch cancel -c "$tmp/fleet.yaml" primary j1 </dev/null >"$tmp/c0.out" 2>"$tmp/c0.err"
rc=$?
check "cancel without --yes, no terminal: refused, exit 2 ($rc)" [ $rc -eq 2 ]
check "cancel without --yes: says --yes is needed" grep -q -- '--yes' "$tmp/c0.err"
check "cancel without --yes: desired still run" [ "$(field j1 desired)" = run ]
check "cancel without --yes: nothing recorded" [ "$(wc -l <"$audit")" = "$lines" ]

# --- cancel --now --yes: desired = cancel, the runner's batch statement cancelled
"$PGFLEET" batch cancel --now --yes -c "$tmp/fleet.yaml" primary j1 </dev/null >"$tmp/cn.out" 2>"$tmp/cn.err"
check "cancel --now: exit 0" [ $? -eq 0 ]
check "cancel --now: desired = cancel" [ "$(field j1 desired)" = cancel ]
check "cancel --now: says the batch in flight was cancelled" grep -q 'the batch in flight was cancelled' "$tmp/cn.out"
check "cancel --now: shows the job before acting" grep -q 'Cancel now the batched migration j1 on primary' "$tmp/cn.err"
check "cancel --now: no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$tmp/cn.err'"
runner_gone() { ! lab_alive "$runner_psql"; }
wait_until 5 runner_gone || fail "the runner's psql did not exit"
check "cancel --now: the runner's statement was cancelled" grep -q 'canceling statement due to user request' "$tmp/runner.out"
check "cancel --now: the audit log has its intent and outcome" \
    [ "$(grep -c '"action":"batch-cancel-now"' "$audit")" = 2 ]

# --- resume of a cancelled job: cancel is final
"$PGFLEET" batch resume -c "$tmp/fleet.yaml" primary j1 </dev/null >"$tmp/r2.out" 2>"$tmp/r2.err"
check "resume after cancel: exit 1" [ $? -eq 1 ]
check "resume after cancel: desired stays cancel" [ "$(field j1 desired)" = cancel ]
check "resume after cancel: says it is being cancelled" grep -q 'being cancelled' "$tmp/r2.out"

# --- the guard: a backend that is not named as the job's runner is never cancelled
"$PGFLEET" batch cancel --now --yes -c "$tmp/fleet.yaml" primary j4 </dev/null >"$tmp/g.out" 2>"$tmp/g.err"
check "cancel --now, runner_backend not the runner's session: exit 0 (desired written)" [ $? -eq 0 ]
check "cancel --now guard: desired = cancel" [ "$(field j4 desired)" = cancel ]
check "cancel --now guard: no batch in flight reported" grep -q 'no runner connected' "$tmp/g.out"
check "cancel --now guard: the other session still runs" holds 0.5 started not-the-runner

# --- unknown job, job done
"$PGFLEET" batch pause -c "$tmp/fleet.yaml" primary nosuch </dev/null >"$tmp/u.out" 2>"$tmp/u.err"
check "unknown job: exit 1" [ $? -eq 1 ]
check "unknown job: says no such job" grep -q 'no such job' "$tmp/u.err"
"$PGFLEET" batch pause -c "$tmp/fleet.yaml" primary j3 </dev/null >"$tmp/d.out" 2>"$tmp/d.err"
check "job done: exit 1" [ $? -eq 1 ]
check "job done: says already done" grep -q 'job already done' "$tmp/d.err"
check "job done: desired unchanged" [ "$(field j3 desired)" = run ]
"$PGFLEET" batch cancel --yes -c "$tmp/fleet.yaml" primary j3 </dev/null >"$tmp/d2.out" 2>"$tmp/d2.err"
check "cancel of a job done: exit 1, nothing sent" bash -c "[ $? -eq 1 ] && grep -q 'already done: nothing sent' '$tmp/d2.err'"

# --- read-only, audit log not writable: nothing changes
"$PGFLEET" batch pause --read-only -c "$tmp/fleet.yaml" primary j2 </dev/null >"$tmp/ro.out" 2>"$tmp/ro.err"
check "--read-only: exit 2" [ $? -eq 2 ]
check "--read-only: says so" grep -q 'read-only' "$tmp/ro.err"
check "--read-only: desired unchanged" [ "$(field j2 desired)" = run ]
"$PGFLEET" batch pause -c "$tmp/full.yaml" primary j2 </dev/null >"$tmp/full.out" 2>"$tmp/full.err"
check "audit log on /dev/full: exit 1" [ $? -eq 1 ]
check "audit log on /dev/full: says the audit log cannot be written" grep -q 'audit log' "$tmp/full.err"
check "audit log on /dev/full: desired unchanged" [ "$(field j2 desired)" = run ]
check "audit log on /dev/full: changed_by unchanged" [ -z "$(field j2 changed_by)" ]

# --- usage
"$PGFLEET" batch pause -c "$tmp/fleet.yaml" primary </dev/null >/dev/null 2>"$tmp/us.err"
check "a missing JOB: exit 2" [ $? -eq 2 ]
"$PGFLEET" batch pause -c "$tmp/fleet.yaml" nosrv j2 </dev/null >/dev/null 2>"$tmp/us2.err"
check "an unknown server: exit 2" [ $? -eq 2 ]

finish
