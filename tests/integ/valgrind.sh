# valgrind.sh — `pgfleet snapshot` (the plain build) under valgrind against the lab, with a
# server down: no leaks and no memory errors on the whole path (config, engine, writers).
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

if ! command -v valgrind >/dev/null; then
    fail "valgrind is not installed (tests/lab/ensure-deps installs it)"
    finish
    exit
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
closed=$(lab_free_port)
for fmt in --json ""; do
    valgrind --quiet --run-libc-freeres=no --suppressions="$(dirname "$TESTLIB")/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
        "$PGFLEET_RELEASE" snapshot $fmt -d 500ms "$PRIMARY_CONNINFO" "$REPLICA_CONNINFO" \
        "host=127.0.0.1 port=$closed" "host=localhost port=$PRIMARY_PORT dbname=labdb user=postgres" >"$tmp/out" 2>"$tmp/vg"
    rc=$?
    check "valgrind: snapshot ${fmt:-text} is clean (exit $rc)" [ $rc -eq 0 ]
    [ $rc -ne 0 ] && head -40 "$tmp/vg"
done
finish
