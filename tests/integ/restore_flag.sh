# restore_flag.sh — the restore tests' flag against the lab, with the record in a private
# XDG_STATE_HOME: no record file, the fleet is not judged (restore_test.level null, no RESTORE
# column in the text snapshot); a good test 100 days old for the primary makes it warn with its
# age in `snapshot --json` and "100d" in the Fleet pane in tmux, the replica "never" (crit) and
# the pgBouncer unjudged; a good test appended while the TUI runs shows within a refresh, and a
# failed one after it says FAILED (crit, with its error); a garbage line and a line cut short in
# the file are skipped; the file removed, nothing is judged again. The JSON documents validate
# against doc/snapshot.schema.json. No pgfleet writes to stderr.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

schema=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/doc/snapshot.schema.json
tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
records=$XDG_STATE_HOME/pgfleet/restore_tests.jsonl
sock=pgfleet-test-restore-$$
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

cp "$LAB/fleet.yaml" "$tmp/fleet.yaml" # primary, replica, bouncer; refresh 1s

# rec SERVER OUTCOME SECONDS_AGO [ERROR]: append a record as the restore-test action writes it
rec() {
    local t=$(($(date +%s) - $3)) err=null
    [ -n "${4:-}" ] && err="\"$4\""
    mkdir -p -m 700 "$(dirname "$records")"
    printf '{"record":"restore_test","server":"%s","source":"%s","method":"basebackup","outcome":"%s","started":"%s","started_epoch":%d,"rto_s":42.5,"bytes":1048576,"failed_phase":%s,"error":%s,"audit_id":null,"phases":[{"name":"copy","seconds":30}],"checks":["databases: 1 of 1"]}\n' \
        "$1" "$1" "$2" "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)" "$t" "$([ "$2" = failed ] && echo '"checks"' || echo null)" "$err" >>"$records"
}
n=0
# snap: a JSON snapshot into $tmp/sN.json (and $snap); stderr must stay empty
snap() {
    n=$((n + 1))
    snap=$tmp/s$n.json
    "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$snap" 2>>"$tmp/err"
}
j() { jq -r "$1" "$snap"; }
rt() { j ".servers[]|select(.name==\"$1\")|.restore_test.$2"; }
validate() {
    python3 - "$schema" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.validators.validator_for(schema)(schema)
errs = list(v.iter_errors(doc))
for e in errs[:20]:
    print("/".join(str(p) for p in e.absolute_path) or "(root)", ":", e.message[:300], file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}

# ---- no record file: not judged
snap
check "no records: snapshot exits 0" [ -s "$snap" ]
check "no records: the primary's restore_test level is null" [ "$(rt primary level)" = null ]
check "no records: the reason says not judged" bash -c "[[ '$(rt primary reason)' == 'not judged'* ]]"
check "no records: last_ok null" [ "$(rt primary last_ok)" = null ]
check "the pgBouncer has no restore_test" [ "$(j '.servers[]|select(.name=="bouncer")|has("restore_test")')" = false ]
check "no records: the document validates against the schema" validate "$snap"
"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/t0.txt" 2>>"$tmp/err"
check "no records: the text snapshot has no RESTORE column" bash -c "grep -A1 '^FLEET' '$tmp/t0.txt' | tail -1 | grep -q '^SERVER' && ! grep -q RESTORE '$tmp/t0.txt'"

# ---- a good test 100 days old for the primary
rec primary ok $((100 * 86400 + 3600))
snap
check "100 days: the primary warns" [ "$(rt primary level)" = warn ]
check "100 days: age_days is 100 ($(rt primary age_days))" awk -v a="$(rt primary age_days)" 'BEGIN{exit !(a >= 100 && a < 101)}'
check "100 days: the reason gives the age and the limit" [ "$(rt primary reason)" = "last good restore test 100d ago (limit 90d)" ]
check "100 days: last_ok is ISO 8601" bash -c "[[ '$(rt primary last_ok)' =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]"
check "100 days: method and outcome" [ "$(rt primary method) $(rt primary last_outcome) $(rt primary rto_s)" = "basebackup ok 42.5" ]
check "100 days: the replica was never tested: crit" [ "$(rt replica level) $(rt replica reason)" = "crit never restore-tested" ]
check "100 days: the document validates against the schema" validate "$snap"
"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/t1.txt" 2>>"$tmp/err"
check "100 days: the text snapshot's Fleet shows RESTORE 100d for the primary" \
    bash -c "awk '/^FLEET/{f=1; next} f && /^SERVER/{p=index(\$0, \"RESTORE\"); next} f && p && \$1 == \"primary\" {print; exit}' '$tmp/t1.txt' | grep -q ' 100d '"

# ---- the Fleet pane in tmux
# restore_of NAME: the first word under the RESTORE title in NAME's row ("100d", "never", "FAILED")
restore_of() {
    screen | awk -v s="$1" 'NR == 3 {p = index($0, "RESTORE")} NR > 3 && p && $1 == s {split(substr($0, p, 12), w, " "); print w[1]; exit}'
}
launch_tui tui 160 30 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$tmp/fleet.yaml"
require "the Fleet pane shows the primary UP" 10 is_status primary UP
expect "the Fleet pane has a RESTORE column" 3 line_has 3 RESTORE
expect "RESTORE of the primary: 100d" 3 eval '[ "$(restore_of primary)" = 100d ]'
expect "RESTORE of the replica: never" 3 eval '[ "$(restore_of replica)" = never ]'
expect "RESTORE of the pgBouncer: empty" 3 eval '[ -z "$(restore_of bouncer)" ] && is_status bouncer UP'
# a run recorded elsewhere (cron) while the TUI runs: shown within a refresh (1 s) or two
rec primary ok 30
expect "a fresh good test shows within a refresh" 3 eval '[[ $(restore_of primary) =~ ^[0-9]+s$ ]]'
rec primary failed 10 "canary orders: 1100 < 1200"
expect "a failed test after it: FAILED" 3 eval '[ "$(restore_of primary)" = FAILED ]'
quit_tui "$tmp/tui"

# ---- the same in the snapshot: fresh good, then failed
snap
check "failed last: the primary is crit" [ "$(rt primary level)" = crit ]
check "failed last: the reason" bash -c "[[ '$(rt primary reason)' == 'last restore test failed '*'s ago' ]]"
check "failed last: the outcome and the error" [ "$(rt primary last_outcome)|$(rt primary error)" = "failed|canary orders: 1100 < 1200" ]
check "failed last: last_ok is the good test of 30 s ago ($(rt primary age_days) days)" awk -v a="$(rt primary age_days)" 'BEGIN{exit !(a < 0.01)}'
rec primary ok 5
snap
check "a good test after the failure: ok" [ "$(rt primary level) $(rt primary error)" = "ok null" ]
check "… a restore verdict never outranks a live figure: the replica (never tested) scores under 50 ($(j '.servers[]|select(.name=="replica")|.severity'))" \
    [ "$(j '.servers[]|select(.name=="replica")|.severity')" -lt 50 ]

# ---- garbage in the file is skipped
printf 'this is not JSON\n{"server":"primary","outcome":"failed"}\n\x1b[2J\xff\xfe\n' >>"$records"
printf '{"record":"restore_test","server":"primary","outcome":"failed","started_epoch":' >>"$records" # cut short
snap
check "garbage lines: the snapshot still says ok for the primary" [ "$(rt primary level)" = ok ]
check "garbage lines: the replica still never tested" [ "$(rt replica level)" = crit ]
check "garbage lines: the document validates" validate "$snap"

# ---- the file removed: not judged again
rm -f "$records"
snap
check "no file again: not judged" [ "$(rt primary level) $(rt replica level)" = "null null" ]

no_output "no pgfleet wrote to stderr" "$tmp/err"
finish
