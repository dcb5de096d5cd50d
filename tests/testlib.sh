# testlib.sh — assertions for the shell test suites (integration and TUI). Each test file
# sources it, calls `ok`/`fail`/`check` and ends with `finish`, which prints "RESULT pass N fail
# M" for tests/run-all to add up. Nothing here starts servers: tests/run-all shares one lab.
# Tests that read pgfleet's screen in tmux also source tuilib.sh (after this file). Waits poll
# a condition (wait_until; holds for "nothing happens" checks), never a fixed sleep.

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

ms_now() { echo $(($(date +%s%N) / 1000000)); }
# to_ms SECS: seconds (whole or with a fraction: 1, 0.5, 2.25) as milliseconds.
to_ms() {
    local s=$1 i f=
    i=${s%%.*}
    [[ $s == *.* ]] && f=${s#*.}
    f="${f}000"
    echo $((${i:-0} * 1000 + 10#${f:0:3}))
}

# wait_until SECS CMD...: retry CMD every 0.2 s until it succeeds or SECS (may have a fraction)
# pass. The way to wait for something: never a fixed sleep.
wait_until() {
    local end
    end=$(($(ms_now) + $(to_ms "$1")))
    shift
    while :; do
        if "$@"; then return 0; fi
        [ "$(ms_now)" -ge $end ] && return 1
        sleep 0.2
    done
}

# holds SECS CMD...: CMD stays true for SECS (checked every 0.1 s, first at once, last at the
# end); fails the first time it is false. For "nothing happens" checks (a refused action sends
# nothing, a frozen screen does not change): there the waiting itself is what is tested.
holds() {
    local end
    end=$(($(ms_now) + $(to_ms "$1")))
    shift
    while :; do
        "$@" || return 1
        [ "$(ms_now)" -ge $end ] && return 0
        sleep 0.1
    done
}

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

# no_output "what" FILE: FILE (where a command's stderr went) exists and is empty: no sanitizer
# report, no stray message. On failure its first lines are shown.
no_output() {
    if [ -e "$2" ] && [ ! -s "$2" ]; then
        ok "$1"
    else
        fail "$1"
        if [ -e "$2" ]; then head -20 "$2" | sed 's/^/    | /'; else echo "    | ($2 was never written)"; fi
    fi
}

finish() {
    echo "RESULT pass $PASS fail $FAIL"
    [ "$FAIL" -eq 0 ]
}
