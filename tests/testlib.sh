# testlib.sh — assertions for the shell test suites (integration and TUI). Each test file
# sources it, calls `ok`/`fail`/`check` and ends with `finish`, which prints "RESULT pass N fail
# M" for tests/run-all to add up. Nothing here starts servers: tests/run-all shares one lab.

PASS=0
FAIL=0
TEST_NAME=$(basename "$0" .sh)

ok() { PASS=$((PASS + 1)); printf '  ok    %s: %s\n' "$TEST_NAME" "$*"; }
fail() { FAIL=$((FAIL + 1)); printf '  FAIL  %s: %s\n' "$TEST_NAME" "$*"; }

# check "what" CMD...: passes when CMD succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# wait_until SECS CMD...: retry CMD every 0.2 s until it succeeds or SECS pass.
wait_until() {
    local secs=$1 end
    shift
    end=$(($(date +%s%N) / 1000000 + secs * 1000))
    while :; do
        if "$@"; then return 0; fi
        [ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
        sleep 0.2
    done
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

finish() {
    echo "RESULT pass $PASS fail $FAIL"
    [ "$FAIL" -eq 0 ]
}
