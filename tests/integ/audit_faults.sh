# audit_faults.sh — no record, no action: `pgfleet cancel` against a real pg_sleep on the lab's
# primary with the audit log on /dev/full, in a read-only directory, behind a symbolic link, and
# on a disk that fills up after N bytes (a tiny tmpfs; root only). Each time: exit non-zero,
# nothing signalled (the query still runs), and no half-written line that would corrupt the
# next record. Then the same disk with room again: the action goes through, both records land.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it)" >&2; exit 2; }
done
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
mnt=
bg_pids=
cleanup() {
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    chmod -R u+w "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
victim() {
    PGAPPNAME=audit_victim "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        -c "SELECT pg_sleep(300)" </dev/null >/dev/null 2>&1 &
    bg_pids="$bg_pids $!"
}
victim_pid() { q "SELECT pid FROM pg_stat_activity WHERE application_name = 'audit_victim' AND state = 'active'"; }
running() { [ -n "$(victim_pid)" ]; }
victim
wait_until 10 running || fail "the victim query did not start"

# attempt NAME AUDIT_PATH: pgfleet cancel with that audit log; sets $rc
attempt() {
    cat >"$tmp/$1.yaml" <<EOF
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
actions: { audit_log: "$2" }
EOF
    "$PGFLEET" cancel --yes -c "$tmp/$1.yaml" primary "$(victim_pid)" </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err"
    rc=$?
}
# refused WHAT: exit non-zero, said so, the query untouched
refused() {
    check "$1: exit status 1 ($rc)" [ "$rc" -eq 1 ]
    check "$1: says nothing was sent" grep -q 'nothing sent' "$tmp/$2.out"
    sleep 0.3 # a cancel would have landed by now
    check "$1: the query still runs (nothing signalled)" running
    check "$1: no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$tmp/$2.err'"
}

attempt full /dev/full
refused "/dev/full" full

mkdir -p "$tmp/ro"
ro_ok=1
if [ "$(id -u)" -ne 0 ]; then
    chmod 0500 "$tmp/ro"
elif mount -t tmpfs -o ro,size=64k tmpfs "$tmp/ro" 2>/dev/null; then
    mnt="$tmp/ro" # root writes through permissions: a read-only mount it is
else
    ro_ok=0
    echo "  note  audit_faults: cannot mount here: the read-only directory case is skipped"
fi
if [ $ro_ok = 1 ]; then
    attempt ro "$tmp/ro/pgfleet/audit.jsonl"
    refused "read-only directory" ro
fi
[ -n "$mnt" ] && umount "$mnt" && mnt=

mkdir -p "$tmp/ln"
echo "precious" >"$tmp/ln/target"
ln -s "$tmp/ln/target" "$tmp/ln/audit.jsonl"
attempt link "$tmp/ln/audit.jsonl"
refused "symbolic link at the path" link
check "symbolic link: its target is untouched" [ "$(cat "$tmp/ln/target")" = precious ]

# A disk that fills up N bytes into the record: a 2-page tmpfs, the log's page holding an old
# record padded so that N bytes are left in it, the other page taken by a filler file.
mkdir -p "$tmp/fs"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=8k tmpfs "$tmp/fs" 2>/dev/null && umount "$tmp/fs"; then
    for n in 0 1 64 700; do
        mount -t tmpfs -o size=8k tmpfs "$tmp/fs" || { fail "cannot mount a tmpfs"; break; }
        mnt="$tmp/fs"
        pad=$((4096 - n - 39)) # the line is 39 bytes besides the padding
        printf '{"record":"outcome","id":"old","p":"%s"}\n' "$(head -c "$pad" /dev/zero | tr '\0' x)" >"$tmp/fs/audit.jsonl"
        head -c 4096 /dev/zero >"$tmp/fs/filler" 2>/dev/null
        before=$(stat -c %s "$tmp/fs/audit.jsonl")
        attempt "enospc$n" "$tmp/fs/audit.jsonl"
        refused "disk full $n bytes in" "enospc$n"
        after=$(stat -c %s "$tmp/fs/audit.jsonl")
        check "disk full $n bytes in: at most $n bytes written ($((after - before)))" [ $((after - before)) -le "$n" ]
        rm -f "$tmp/fs/filler"
        attempt "room$n" "$tmp/fs/audit.jsonl"
        check "disk with room again: the cancel goes through (exit $rc)" [ "$rc" -eq 0 ]
        check "... the intent and outcome records are whole lines of JSON" \
            bash -c "tail -n 2 '$tmp/fs/audit.jsonl' | jq -e -s 'length == 2 and .[0].record == \"intent\" and .[1].record == \"outcome\"' >/dev/null"
        "$PGFLEET" audit -c "$tmp/room$n.yaml" >"$tmp/audit$n.txt" 2>&1
        check "... pgfleet audit shows the cancel" grep -q 'cancel: pid' "$tmp/audit$n.txt"
        umount "$tmp/fs"
        mnt=
        victim
        wait_until 10 running || fail "the victim query did not start again"
    done
else
    echo "  note  audit_faults: no tmpfs mount here (not root, or not allowed): the full-disk cases are skipped"
fi

finish
