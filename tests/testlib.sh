# testlib.sh — assertions for the shell test suites (integration and TUI). Each test file
# sources it, calls `ok`/`fail`/`check` and ends with `finish`, which prints "RESULT pass N fail
# M" for tests/run-all to add up. Nothing here starts servers: tests/run-all shares one lab.
# Tests that read pgfleet's screen in tmux also source tuilib.sh (after this file).

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

# known_bug "what" CMD...: a check of a pgfleet bug already reported and not fixed yet; it is
# not counted (so the suite stays green) unless PGFLEET_STRICT=1, and says when it starts passing.
known_bug() {
    local what=$1
    shift
    if [ "${PGFLEET_STRICT:-0}" = 1 ]; then check "$what" "$@"; return; fi
    if "$@"; then
        printf '  note  %s: known bug looks fixed, make it a check: %s\n' "$TEST_NAME" "$what"
    else
        printf '  known-bug %s: %s\n' "$TEST_NAME" "$what"
    fi
}

finish() {
    echo "RESULT pass $PASS fail $FAIL"
    [ "$FAIL" -eq 0 ]
}
