# restore_test.sh — `pgfleet restore-test` against real servers and real tools (issue 11), with the
# record and the audit log in a private XDG_STATE_HOME:
# - basebackup of the lab primary (copied from its replica, the fleet having one), of the replica
#   itself, and of the primary with restore_test.source naming it: exit 0, a record with outcome
#   ok, every phase timed, an RTO, the canary (count of labdb's accounts) matched, nothing left
#   in the scratch directory and no process running from it, an intent and an outcome in the
#   audit log;
# - logical on the primary: ok, canary matched;
# - pgbackrest on a tests/lab/pgbackrest-lab server started here: ok, canary max(id) of orders
#   matched; a stanza that does not exist: exit 1, failed at copy with pgBackRest's error line;
# - a damaged backup (a hook: pg_basebackup, then 8 kB of the accounts table's file overwritten):
#   failed at verify, never ok;
# - preflight refusals before anything is copied: a scratch directory on a 1 MB tmpfs (root
#   only) for space, with the figures; --read-only (exit 2); a login without REPLICATION;
#   method pgbackrest without a stanza; root without run_as;
# - options: amcheck (pg_amcheck in the checks), keep_on_failure (a failed copy kept, stopped,
#   and not swept by the next test), a hook reading its placeholders from its environment;
# - --history (all, one server, --json) and --due (nothing due; one server's good test 100 days
#   old: that one only is run).
# No pgfleet run reports anything from the sanitizers.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfleet-rt.XXXXXX")
chmod 755 "$tmp" # the tools and the scratch servers run as the lab's OS user below it
export XDG_STATE_HOME="$tmp/state"
records=$XDG_STATE_HOME/pgfleet/restore_tests.jsonl
audit=$XDG_STATE_HOME/pgfleet/audit.jsonl
scratch=$tmp/scratch
tiny=$tmp/tiny
BR=$tmp/br
mounted=0
role=rt_norepl_$$
root=0
[ "$(id -u)" -ne 0 ] || root=1
q() { lab_psql "$PRIMARY_PORT" "$@"; }
cleanup() {
    [ "$mounted" = 0 ] || umount "$tiny" 2>/dev/null || umount -l "$tiny" 2>/dev/null
    "$LAB_TOOLS/pgbackrest-lab" stop "$BR" >/dev/null 2>&1
    q -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# mine DIR: a directory the scratch servers' OS user may write
mine() {
    mkdir -p "$1"
    [ "$root" = 0 ] || chown "$LAB_USER" "$1"
}
mine "$scratch"
run_as=
[ "$root" = 0 ] || run_as="run_as: $LAB_USER"

# ---- running pgfleet
# run NAME ARGS...: pgfleet with stdin from /dev/null; stdout and stderr in $tmp/NAME.out/.err,
# the exit status in $rc.
runs=()
run() {
    local n=$1
    shift
    runs+=("$tmp/$n.err")
    "$PGFLEET" "$@" </dev/null >"$tmp/$n.out" 2>"$tmp/$n.err"
    rc=$?
}
out_has() { grep -qF -- "$2" "$tmp/$1.out" "$tmp/$1.err"; }
show() { cat "$tmp/$1.out" "$tmp/$1.err" | tail -"${2:-15}" | sed 's/^/    | /'; }
no_sanitizer_report() {
    local f
    for f in "$@"; do [ -e "$f" ] || return 1; done
    ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"
}

# ---- the record and the audit log
nrec() { if [ -f "$records" ]; then wc -l <"$records"; else echo 0; fi; }
# rec SERVER JQ: JQ on the newest record of SERVER
rec() { jq -c --arg s "$1" 'select(.server == $s)' "$records" 2>/dev/null | tail -n 1 | jq -r "$2"; }
recs_of() { jq -c --arg s "$1" 'select(.server == $s)' "$records" 2>/dev/null | wc -l; }
# every phase of a restore by basebackup (or a hook's copy with a manifest) timed, > 0 s
all_phases_timed() {
    [ "$(rec "$1" '[.phases[] | select(.seconds > 0) | .name] | join(" ")')" = "preflight copy verify start check stop clean" ]
}
# the phases of a restore that needs no verify: all but verify timed
phases_timed_but_verify() {
    [ "$(rec "$1" '[.phases[] | select(.seconds > 0) | .name] | join(" ")')" = "preflight copy start check stop clean" ]
}
rto_positive() { rec "$1" '.rto_s > 0' | grep -qx true; }
# canary_matched SERVER QUERY: the record's checks say QUERY's value on the copy reached the source's
canary_matched() {
    rec "$1" '.checks[]' | grep -qE "^canary $(sed 's/[][().*^$]/\\&/g' <<<"$2"): [0-9]+ >= [0-9]+$"
}
# audited SERVER: the audit log has an intent and an outcome record with the run's audit id
audited() {
    local id
    id=$(rec "$1" .audit_id)
    [ -n "$id" ] && [ "$id" != null ] &&
        [ "$(jq -r --arg id "$id" 'select(.id == $id) | .record' "$audit" 2>/dev/null | sort | tr '\n' ' ')" = "intent outcome " ]
}
# ---- nothing left behind
scratch_empty() { [ -z "$(find "$1" -mindepth 1 -maxdepth 1 -name 'pgfleet-rt-*' 2>/dev/null)" ]; }
# no process (a scratch postgres, a pg_basebackup) has DIR on its command line
no_process_in() { ! ps -eo args= | grep -F -- "$1" | grep -vq -e '^grep' -e 'ps -eo'; }
left_behind() { scratch_empty "$1" && no_process_in "$1"; }
only_preflight() { [ "$(rec "$1" '[.phases[].name] | join(" ")')" = preflight ]; }

# good_run WHAT SERVER SOURCE CANARY: the checks of a good restore test just run (NAME = SERVER)
good_run() {
    local what=$1 s=$2 src=$3 canary=$4
    if [ "$rc" = 0 ]; then ok "$what: exit 0"; else fail "$what: exit 0 (exit $rc)"; show "$s"; fi
    check "$what: record outcome ok, method $(rec "$s" .method)" [ "$(rec "$s" .outcome)" = ok ]
    check "$what: the record says source $src ($(rec "$s" .source))" [ "$(rec "$s" .source)" = "$src" ]
    check "$what: the log says it copies from $src" out_has "$s" "restore test of $s by basebackup from $src"
    check "$what: every phase timed > 0 ($(rec "$s" '[.phases[] | "\(.name) \(.seconds)"] | join(", ")'))" all_phases_timed "$s"
    check "$what: rto_s > 0 ($(rec "$s" .rto_s))" rto_positive "$s"
    check "$what: the canary matched ($(rec "$s" '.checks | map(select(startswith("canary"))) | join("; ")'))" canary_matched "$s" "$canary"
    check "$what: pg_verifybackup in the checks" eval '[ "$(rec "$s" ".checks[0]")" = "pg_verifybackup: every file matches the manifest" ]'
    check "$what: no pgfleet-rt-* left in the scratch directory" scratch_empty "$scratch"
    check "$what: no process runs from the scratch directory" no_process_in "$scratch"
    check "$what: the audit log has its intent and its outcome" audited "$s"
}

accounts="SELECT count(*) FROM accounts"
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
  canaries:
    - { query: "$accounts" }
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
  - { name: direct, conninfo: "$PRIMARY_CONNINFO", restore_test: { source: primary } }
YAML

# ============ basebackup
run primary restore-test -c "$tmp/fleet.yaml" primary --yes
good_run "basebackup of the primary" primary replica "$accounts"
check "… the dialog text on stderr says it copies from a replica" out_has primary "copied from replica (a replica)"
check "the record file is private (0600)" [ "$(stat -c %a "$records" 2>/dev/null)" = 600 ]
run replica restore-test -c "$tmp/fleet.yaml" replica --yes
good_run "basebackup of the replica" replica replica "$accounts"
run direct restore-test -c "$tmp/fleet.yaml" direct --yes
good_run "basebackup with restore_test.source: primary" direct primary "$accounts"
bytes=$(rec primary .bytes)
check "the record has the bytes copied ($bytes)" eval '[ "${bytes:-0}" != null ] && [ "${bytes:-0}" -gt 1000000 ]'

# ============ logical
relfile=$(q -c "SELECT pg_relation_filepath('accounts')") # for the damaged backup below
cat >"$tmp/other.yaml" <<YAML
refresh: 1s
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
servers:
  - name: logical
    conninfo: "$PRIMARY_CONNINFO"
    restore_test: { method: logical, canaries: [ { query: "$accounts" } ] }
  - name: damaged
    conninfo: "$PRIMARY_CONNINFO"
    restore_test:
      method: hook
      hook: "{bindir}/pg_basebackup -D {datadir} -X stream -c fast -h 127.0.0.1 -p $PRIMARY_PORT -U postgres && dd if=/dev/urandom of={datadir}/$relfile bs=8192 count=1 conv=notrunc status=none"
  - { name: nospace, conninfo: "$PRIMARY_CONNINFO", restore_test: { scratch_dir: $tiny } }
  - { name: norepl, conninfo: "host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=$role" }
  - { name: nostanza, conninfo: "$PRIMARY_CONNINFO", restore_test: { method: pgbackrest } }
YAML
q -c "CREATE ROLE $role LOGIN" >/dev/null
run logical restore-test -c "$tmp/other.yaml" logical --yes
if [ "$rc" = 0 ]; then ok "logical of the primary: exit 0"; else fail "logical of the primary: exit 0 (exit $rc)"; show logical; fi
check "logical: record outcome ok, method logical" [ "$(rec logical .outcome) $(rec logical .method)" = "ok logical" ]
check "logical: phases timed ($(rec logical '[.phases[].name] | join(" ")'))" phases_timed_but_verify logical
check "logical: the canary matched" canary_matched logical "$accounts"
check "logical: every database of the source present" eval 'rec logical ".checks[]" | grep -qE "^all [0-9]+ databases of the source present$"'
check "logical: nothing left behind" left_behind "$scratch"
check "logical: audited (intent and outcome)" audited logical

# ============ a damaged backup: a hook that overwrites 8 kB of a table's file after copying
n=$(nrec)
run damaged restore-test -c "$tmp/other.yaml" damaged --yes
check "damaged backup ($relfile overwritten): exit 1 ($rc)" [ "$rc" = 1 ]
check "damaged: failed at verify ($(rec damaged .outcome) at $(rec damaged .failed_phase))" [ "$(rec damaged .outcome) $(rec damaged .failed_phase)" = "failed verify" ]
check "damaged: pg_verifybackup's reason in the error" eval 'rec damaged .error | grep -qF "checksum mismatch for file \"$relfile\""'
check "damaged: one record, never ok" [ "$(nrec)/$(jq -c 'select(.server == "damaged" and .outcome == "ok")' "$records" | wc -l)" = "$((n + 1))/0" ]
check "damaged: nothing left behind" left_behind "$scratch"
check "damaged: the job's outcome says FAILED at verify" out_has damaged "failed: FAILED at verify"

# ============ preflight refusals: nothing copied
# a scratch directory on a 1 MB tmpfs
if [ "$root" = 1 ] && mkdir -p "$tiny" && mount -t tmpfs -o size=1m,mode=0755 pgfleet-rt-tiny "$tiny" 2>"$tmp/mount.err"; then
    mounted=1
    mine "$tiny"
    run nospace restore-test -c "$tmp/other.yaml" nospace --yes
    err=$(rec nospace .error)
    check "scratch_dir on a 1 MB tmpfs: exit 1 ($rc)" [ "$rc" = 1 ]
    check "… failed at preflight" [ "$(rec nospace .failed_phase)" = preflight ]
    check "… 'not enough space' with the figures ($err)" \
        eval '[[ $err =~ ^"not enough space in $tiny: "[0-9.]+[kMG]?B" free, needs "[0-9.]+[kMG]?B" (1.2 x the source'"'"'s "[0-9.]+[kMG]?B")"$ ]]'
    check "… nothing was copied (only the preflight timed, the tmpfs empty)" eval 'only_preflight nospace && [ -z "$(ls -A "$tiny")" ]'
    umount "$tiny" && mounted=0
else
    echo "  note  $TEST_NAME: skipped the tmpfs check: $([ "$root" = 1 ] && head -1 "$tmp/mount.err" || echo "not root")"
fi

n=$(nrec)
run ro restore-test --read-only -c "$tmp/fleet.yaml" primary --yes
check "--read-only: exit 2 ($rc)" [ "$rc" = 2 ]
check "… says read-only" out_has ro "read-only"
check "… no record, nothing in the scratch directory" eval '[ "$(nrec)" = "$n" ] && scratch_empty "$scratch"'
sed '/^servers:/i read_only: true' "$tmp/fleet.yaml" >"$tmp/ro.yaml"
run ro-cfg restore-test -c "$tmp/ro.yaml" primary --yes
check "read_only: true in the config: exit 2 ($rc), no record" eval '[ "$rc" = 2 ] && [ "$(nrec)" = "$n" ]'

run norepl restore-test -c "$tmp/other.yaml" norepl --yes
check "a login without REPLICATION: exit 1 ($rc)" [ "$rc" = 1 ]
check "… failed at preflight: 'no replication privilege'" eval '[ "$(rec norepl .failed_phase)" = preflight ] && [[ $(rec norepl .error) == "no replication privilege"* ]]'
check "… nothing copied" eval 'only_preflight norepl && scratch_empty "$scratch"'

run nostanza restore-test -c "$tmp/other.yaml" nostanza --yes
check "method pgbackrest without a stanza: exit 1 ($rc), failed at preflight" eval '[ "$rc" = 1 ] && [ "$(rec nostanza .failed_phase)" = preflight ]'
check "… says it needs restore_test.stanza" eval '[ "$(rec nostanza .error)" = "method pgbackrest needs restore_test.stanza" ]'
check "… nothing copied" eval 'only_preflight nostanza && scratch_empty "$scratch"'

if [ "$root" = 1 ]; then
    cat >"$tmp/noroot.yaml" <<YAML
restore_test: { scratch_dir: $scratch }
servers:
  - { name: noroot, conninfo: "$PRIMARY_CONNINFO" }
YAML
    run noroot restore-test -c "$tmp/noroot.yaml" noroot --yes
    check "root without restore_test.run_as: exit 1 ($rc), failed at preflight" eval '[ "$rc" = 1 ] && [ "$(rec noroot .failed_phase)" = preflight ]'
    check "… says to set restore_test.run_as" eval 'rec noroot .error | grep -qF "set restore_test.run_as"'
    check "… nothing copied" eval 'only_preflight noroot && scratch_empty "$scratch"'
else
    echo "  note  $TEST_NAME: skipped root without run_as: not root"
fi

# ============ pgbackrest, against a server with a real repository
"$LAB_TOOLS/pgbackrest-lab" start "$BR" >"$tmp/br.log" 2>&1
brc=$?
if [ "$brc" = 3 ]; then
    echo "  note  $TEST_NAME: skipped the pgbackrest method: pgBackRest is not installed (tests/lab/ensure-deps)"
elif [ "$brc" != 0 ]; then
    fail "the pgBackRest lab starts (exit $brc)"
    tail -20 "$tmp/br.log" | sed 's/^/    | /'
else
    . "$BR/env"
    cat >"$tmp/br.yaml" <<YAML
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
  method: pgbackrest
  pgbackrest_config: $BR_CONF
servers:
  - name: br
    conninfo: "$BR_CONNINFO"
    restore_test: { stanza: $BR_STANZA, canaries: [ { query: "SELECT max(id) FROM orders" } ] }
  - { name: brbad, conninfo: "$BR_CONNINFO", restore_test: { stanza: no_such_stanza } }
YAML
    run br restore-test -c "$tmp/br.yaml" br --yes
    if [ "$rc" = 0 ]; then ok "pgbackrest restore of stanza $BR_STANZA: exit 0"; else fail "pgbackrest restore: exit 0 (exit $rc)"; show br; fi
    check "pgbackrest: record outcome ok, method pgbackrest" [ "$(rec br .outcome) $(rec br .method)" = "ok pgbackrest" ]
    check "pgbackrest: the canary max(id) of orders matched ($(rec br '.checks | map(select(startswith("canary"))) | join("")'))" \
        eval '[ "$(rec br ".checks[]" | grep "^canary ")" = "canary SELECT max(id) FROM orders: 1000 >= 1000" ]'
    check "pgbackrest: phases timed ($(rec br '[.phases[].name] | join(" ")'))" phases_timed_but_verify br
    check "pgbackrest: recovery waited for: out of recovery" eval 'rec br ".checks[]" | grep -qx "out of recovery, accepting connections"'
    check "pgbackrest: nothing left behind" left_behind "$scratch"
    check "pgbackrest: audited" audited br
    check "pgbackrest: its per-file lines feed the progress, not the log (under 200 lines: $(wc -l <"$tmp/br.out"))" [ "$(wc -l <"$tmp/br.out")" -lt 200 ]
    run brbad restore-test -c "$tmp/br.yaml" brbad --yes
    said=$(grep -E '^ *\+[0-9.]+s    ERROR:' "$tmp/brbad.out" | tail -1 | sed 's/^ *+[0-9.]*s    //')
    check "a stanza that does not exist: exit 1 ($rc)" [ "$rc" = 1 ]
    check "… failed at copy ($(rec brbad .outcome) at $(rec brbad .failed_phase))" [ "$(rec brbad .outcome) $(rec brbad .failed_phase)" = "failed copy" ]
    check "… pgBackRest said why (${said:-nothing})" [ -n "$said" ]
    check "… and the error holds it ($(rec brbad .error))" eval '[ -n "$said" ] && rec brbad .error | grep -qF -- "$said"'
    check "… nothing left behind" left_behind "$scratch"
    "$LAB_TOOLS/pgbackrest-lab" stop "$BR" >/dev/null 2>&1
fi

# ============ options: amcheck, keep_on_failure, a hook's placeholders also in its environment
cat >"$tmp/opts.yaml" <<YAML
refresh: 1s
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
servers:
  - { name: amcheck, conninfo: "$PRIMARY_CONNINFO", restore_test: { amcheck: true } }
  - name: kept
    conninfo: "$PRIMARY_CONNINFO"
    restore_test: { keep_on_failure: true, canaries: [ { query: "SELECT current_setting('cluster_name')" } ] }
  - name: hookenv
    conninfo: "$PRIMARY_CONNINFO"
    restore_test:
      method: hook
      hook: "test \\"\$PGFLEET_SERVER\\" = hookenv && test \\"\$PGFLEET_DATADIR\\" = {datadir} && test \\"\$PGFLEET_MAJOR\\" = {major} && {bindir}/pg_basebackup -D \\"\$PGFLEET_DATADIR\\" -X stream -c fast -h 127.0.0.1 -p $PRIMARY_PORT -U postgres"
YAML
run amcheck restore-test -c "$tmp/opts.yaml" amcheck --yes
check "amcheck: true: exit 0 ($rc), pg_amcheck in the checks, its phase timed" eval '[ "$rc" = 0 ] &&
    rec amcheck ".checks[]" | grep -qx "pg_amcheck: no corruption found" && [ "$(rec amcheck "[.phases[] | select(.name == \"amcheck\") | .seconds > 0] | .[0]")" = true ]'
[ "$rc" = 0 ] || show amcheck
check "amcheck: nothing left behind" left_behind "$scratch"
run kept restore-test -c "$tmp/opts.yaml" kept --yes
kept_dir=$(find "$scratch" -mindepth 1 -maxdepth 1 -name 'pgfleet-rt-*' | head -1)
check "keep_on_failure: a canary the copy answers differently fails at check ($(rec kept .outcome) at $(rec kept .failed_phase))" \
    [ "$rc/$(rec kept .failed_phase)" = 1/check ]
check "… the scratch directory is kept (${kept_dir:-none}), its copy stopped" eval '[ -n "$kept_dir" ] && [ -d "$kept_dir/data" ] && no_process_in "$kept_dir"'
check "… and the log says where" out_has kept "scratch directory kept for a look (keep_on_failure)"
run hookenv restore-test -c "$tmp/opts.yaml" hookenv --yes
check "a hook whose command reads PGFLEET_SERVER, PGFLEET_DATADIR, PGFLEET_MAJOR: exit 0 ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show hookenv
check "… the kept directory is not swept as a stale copy by the next test" eval '[ -n "$kept_dir" ] && [ -d "$kept_dir/data" ]'
[ -z "$kept_dir" ] || rm -rf "$kept_dir"
check "… nothing else left behind" left_behind "$scratch"

# ============ --history
run hist restore-test --history
total=$(nrec)
heads=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$tmp/hist.out")
check "--history: exit 0, one entry per run ($heads of $total)" eval '[ "$rc" = 0 ] && [ "$heads" = "$total" ]'
check "--history: the primary's run with its RTO and source" eval 'grep -E "^[0-9T:-]+Z  primary  basebackup  ok  RTO [0-9.]+s .* from replica$" "$tmp/hist.out" >/dev/null'
check "--history: the damaged backup's failure" out_has hist "damaged  hook  failed at verify"
run hist-one restore-test --history primary
check "--history primary: only the primary's runs ($(recs_of primary))" eval '[ "$rc" = 0 ] &&
    [ "$(grep -cE "^[0-9]{4}-" "$tmp/hist-one.out")" = "$(recs_of primary)" ] &&
    [ -z "$(grep -E "^[0-9]{4}-" "$tmp/hist-one.out" | awk "\$2 != \"primary\"")" ]'
run hist-json restore-test --history --json
check "--history --json: every line parses, one per run" eval '[ "$rc" = 0 ] && [ "$(jq -c . "$tmp/hist-json.out" | wc -l)" = "$total" ] && [ "$(wc -l <"$tmp/hist-json.out")" = "$total" ]'
run hist-json-one restore-test --history --json replica
check "--history --json replica: only the replica's" eval '[ "$rc" = 0 ] && [ "$(jq -r .server "$tmp/hist-json-one.out" | sort -u)" = replica ] &&
    [ "$(wc -l <"$tmp/hist-json-one.out")" = "$(recs_of replica)" ]'
run hist-none restore-test --history no-such-server
check "--history of a server without runs: exit 1" [ "$rc" = 1 ]

# ============ --due, with records of its own
cat >"$tmp/due.yaml" <<YAML
refresh: 1s
timeout: 5s
restore_test:
  $run_as
  scratch_dir: $scratch
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
YAML
due1=$tmp/due1/pgfleet due2=$tmp/due2/pgfleet
mkdir -p -m 700 "$due1" "$due2"
# fresh good records of both: the real ones of the runs above
{ rec primary .; rec replica .; } | jq -c . >"$due1/restore_tests.jsonl"
XDG_STATE_HOME=$tmp/due1 run due-none restore-test -c "$tmp/due.yaml" --due
check "--due with a fresh good test of every server: exit 0 ($rc)" [ "$rc" = 0 ]
check "… 'no restore test is due'" out_has due-none "no restore test is due"
check "… nothing run (no new record)" [ "$(wc -l <"$due1/restore_tests.jsonl")" = 2 ]
# the replica's good test made 100 days old, in the record's own format
old=$(($(date +%s) - 100 * 86400))
{ rec primary .; rec replica . | jq -c --argjson t "$old" --arg iso "$(date -u -d "@$old" +%Y-%m-%dT%H:%M:%SZ)" '.started_epoch = $t | .started = $iso'; } |
    jq -c . >"$due2/restore_tests.jsonl"
XDG_STATE_HOME=$tmp/due2 run due-old restore-test -c "$tmp/due.yaml" --due
check "--due with the replica's last good test 100 days old: exit 0 ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || show due-old
check "… it runs the replica's test, saying why" out_has due-old "== restore test of replica (due: too old)"
check "… and not the primary's" eval '! out_has due-old "== restore test of primary"'
newest_due2() { tail -n 1 "$due2/restore_tests.jsonl" | jq -r '.server + " " + .outcome'; }
check "… one new record, the replica's, ok" eval '[ "$(wc -l <"$due2/restore_tests.jsonl")" = 3 ] && [ "$(newest_due2)" = "replica ok" ]'
check "… nothing left behind" left_behind "$scratch"

check "no sanitizer report from any of the ${#runs[@]} runs" no_sanitizer_report "${runs[@]}"
finish
