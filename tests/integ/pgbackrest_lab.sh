# pgbackrest_lab.sh — the pgBackRest lab (tests/lab/pgbackrest-lab) that the restore tests of the
# `pgbackrest` method use, checked on its own: it starts in a temp dir and writes every variable
# of DIR/env; `pgbackrest info` shows stanza lab with exactly one full backup; archive_command
# works (after pg_switch_wal, pg_stat_archiver.archived_count grows and the segment is the
# repository's newest); a second start on the same DIR is refused and leaves the server alone;
# a manual `pgbackrest restore --pg1-path` into a fresh directory succeeds and leaves PG_VERSION
# (the server's major) and a restore_command; stop removes DIR and leaves no process of the
# server. Skipped with a note when pgBackRest is not installed (tests/lab/ensure-deps installs it).
# Needs no shared lab.
for v in TESTLIB LAB_TOOLS; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfleet-br.XXXXXX")
chmod 755 "$tmp" # the lab's OS user (postgres, when root) works below it
BR=$tmp/br
scratch=$tmp/restored
cleanup() {
    "$LAB_TOOLS/pgbackrest-lab" stop "$BR" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

t0=$(ms_now)
"$LAB_TOOLS/pgbackrest-lab" start "$BR" >"$tmp/start.log" 2>&1
rc=$?
if [ $rc -eq 3 ]; then
    echo "  note  $TEST_NAME: skipped: pgBackRest is not installed (tests/lab/ensure-deps installs it)"
    finish
    exit
fi
if [ $rc -ne 0 ]; then
    fail "the pgBackRest lab starts (tests/lab/pgbackrest-lab start, exit $rc)"
    sed 's/^/    | /' "$tmp/start.log" | tail -40
    finish
    exit 1
fi
ok "the pgBackRest lab starts with one full backup in $((($(ms_now) - t0) / 1000)) s"

. "$BR/env"
missing=
for v in BR_PORT BR_SOCK BR_DATA BR_CONF BR_STANZA BR_BINDIR BR_USER; do
    [ -n "${!v:-}" ] || missing+=" $v"
done
if [ -z "$missing" ] && [ "$BR_CONF" = "$BR/pgbackrest.conf" ] && [ "$BR_STANZA" = lab ]; then
    ok "DIR/env sets BR_PORT BR_SOCK BR_DATA BR_CONF BR_STANZA BR_BINDIR BR_USER"
else
    fail "DIR/env: missing$missing; BR_CONF=${BR_CONF:-} BR_STANZA=${BR_STANZA:-}"
fi

# br ARGS...: pgBackRest on the lab's stanza, as the lab's OS user, bounded.
br() { lab_run_as timeout -k 5 30 pgbackrest --config="$BR_CONF" --stanza="$BR_STANZA" "$@"; }
P() { lab_psql "$BR_PORT" "$@"; }

check "the server answers with the 1000 orders" [ "$(P -c 'SELECT count(*), max(id) FROM orders')" = "1000|1000" ]

br info --output=json >"$tmp/info.json" 2>"$tmp/info.err"
fulls=$(jq -r '[.[] | select(.name == "lab") | .backup[] | select(.type == "full")] | length' "$tmp/info.json" 2>/dev/null)
status=$(jq -r '.[] | select(.name == "lab") | .status.code' "$tmp/info.json" 2>/dev/null)
if [ "$fulls" = 1 ] && [ "$status" = 0 ]; then
    ok "pgbackrest info: stanza lab is ok with one full backup"
else
    fail "pgbackrest info: stanza lab: ${fulls:-no} full backups, status ${status:-none}"
    cat "$tmp/info.json" "$tmp/info.err" | head -20 | sed 's/^/    | /'
fi

# ---- archive_command: a switched segment reaches the repository
archived() { P -c 'SELECT archived_count FROM pg_stat_archiver'; }
# seg_archived: the count grew and the switched segment is the last one archived
seg_archived() {
    [ "$(P -c "SELECT archived_count > ${before:-0} AND last_archived_wal = '$seg' FROM pg_stat_archiver")" = t ]
}
before=$(archived)
seg=$(P -c 'INSERT INTO orders VALUES (1001)' -c 'SELECT pg_walfile_name(pg_switch_wal())')
if wait_until 30 seg_archived; then
    ok "archive_command: archived_count grows after pg_switch_wal ($before -> $(archived))"
else
    fail "archive_command: $seg not archived 30 s after pg_switch_wal (archived_count was $before)"
    P -c 'SELECT * FROM pg_stat_archiver' | sed 's/^/    | /'
fi
newest=$(br info --output=json 2>/dev/null | jq -r '.[] | select(.name == "lab") | .archive[0].max' 2>/dev/null)
check "the switched segment ${seg:-?} is the repository's newest (${newest:-none})" [ "${seg:-?}" = "${newest:-none}" ]

# ---- a DIR that holds a lab is refused, and its server is left alone
"$LAB_TOOLS/pgbackrest-lab" start "$BR" >"$tmp/again.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'already holds' "$tmp/again.log" && [ "$(P -c 'SELECT 1')" = 1 ]; then
    ok "a second start on the same DIR is refused (exit 1) and the server still runs"
else
    fail "a second start on the same DIR: exit $rc, server answers: $(P -c 'SELECT 1' 2>&1)"
    sed 's/^/    | /' "$tmp/again.log"
fi

# ---- a manual restore into a fresh directory
mkdir -m 700 "$scratch"
[ "$(id -u)" -ne 0 ] || chown "$BR_USER" "$scratch"
if br restore --pg1-path="$scratch" >"$tmp/restore.log" 2>&1; then
    ok "pgbackrest restore --pg1-path into a fresh directory succeeds"
else
    fail "pgbackrest restore --pg1-path into a fresh directory"
    sed 's/^/    | /' "$tmp/restore.log" | tail -20
fi
major=$("$BR_BINDIR/postgres" -V | sed -n 's/^postgres (PostgreSQL) \([0-9]*\).*/\1/p')
check "the restored directory has PG_VERSION $major" [ "$(cat "$scratch/PG_VERSION" 2>/dev/null)" = "$major" ]
check "the restored directory fetches WAL from the repository (restore_command)" \
    grep -q "^restore_command = .*archive-get" "$scratch/postgresql.auto.conf"

# ---- stop: nothing left
postmaster=$(lab_live_pid "$BR_DATA/postmaster.pid" postgres)
children=$(ps -o pid= --ppid "${postmaster:-0}" 2>/dev/null)
"$LAB_TOOLS/pgbackrest-lab" stop "$BR" >"$tmp/stop.log" 2>&1
rc=$?
gone=no
[ -e "$BR" ] || gone=yes
check "pgbackrest-lab stop: exit 0 ($rc), DIR removed ($gone)" [ "$rc/$gone" = 0/yes ]
left=
for p in $postmaster $children; do lab_alive "$p" && left+=" $p"; done
ps_left=$(ps -eo pid=,args= | grep -F -- "-D $BR_DATA" | grep -v grep)
if [ -n "$postmaster" ] && [ -z "$left" ] && [ -z "$ps_left" ]; then
    ok "no process of the server is left (postmaster $postmaster and $(echo "$children" | wc -w) children gone)"
else
    fail "processes of the server left:${left:- none by pid}; ps: ${ps_left:-nothing}; postmaster was ${postmaster:-not found}"
fi

finish
