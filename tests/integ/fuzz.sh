# fuzz.sh — a short pass of every libFuzzer target (tests/fuzz/, built into build/fuzz by `make
# fuzz-build`, which `make check` runs): each target runs FUZZ_CHECK_SECONDS (12) seconds on its
# committed seeds in a fresh work dir (build/fuzz/integ/NAME/), two at a time (about 45 s for all
# on a 2-core machine). A target passes when libFuzzer found nothing: no crash, no sanitizer
# report, no leak, no timeout, no broken property. On a failure the first lines of the report and
# the reproducer's path (rerun: build/fuzz/fuzz_NAME FILE) are printed, and whether it is a
# committed reproducer (tests/fuzz/corpus/NAME/crash-*: a defect reported and not fixed yet).
# Needs no lab. `make fuzz` runs the targets for longer.
. "$TESTLIB"

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top" || exit 1
secs=${FUZZ_CHECK_SECONDS:-12}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

bins=()
for b in build/fuzz/fuzz_*; do
    [ -x "$b" ] && bins+=("$b")
done
if [ ${#bins[@]} -eq 0 ]; then
    fail "no fuzz targets in build/fuzz (make fuzz-build)"
    finish
    exit
fi
for src in tests/fuzz/fuzz_*.c; do
    n=$(basename "$src" .c)
    [ -x "build/fuzz/$n" ] || fail "$n is not built (make fuzz-build)"
done

# run_one NAME: one target on a copy of its seeds; leaves DIR/rc and DIR/log.
run_one() {
    local n=$1 dir=build/fuzz/integ/$1 dict=() d=tests/fuzz/$1.dict
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    [ -d "tests/fuzz/corpus/$n" ] && cp "tests/fuzz/corpus/$n"/* "$dir/corpus/" 2>/dev/null
    case $n in snapshot_*) d=tests/fuzz/probes.dict ;; esac
    [ -f "$d" ] && dict=(-dict="$d")
    "build/fuzz/fuzz_$n" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1
    echo $? >"$dir/rc"
}

# report LOG: the first lines of the failure, without libFuzzer's and libc's own stack frames.
report() {
    awk '/^  [^ ].* \([0-9]+ bytes|FUZZ CHECK FAILED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|==ERROR/ { p = 1 }
        p { print } p && /^SUMMARY:/ { exit }' "$1" |
        grep -vE ' in fuzzer::| in __sanitizer_print_stack_trace| in (__pthread_kill|raise|abort|_start)|libc\.so|libc_start|^NOTE: libFuzzer|Combine libFuzzer|^$' |
        head -16
}
# known NAME FILE: says so when FILE is a committed reproducer (a defect already reported).
known() {
    local f
    for f in "tests/fuzz/corpus/$1"/*; do
        if cmp -s "$f" "$2"; then
            echo "    (the same input as $f: a defect already reported, not fixed yet)"
            return
        fi
    done
    echo "    (new: keep it with cp $2 tests/fuzz/corpus/$1/crash-WHAT, and report it)"
}

t0=$(ms_now)
names=()
for b in "${bins[@]}"; do names+=("${b#build/fuzz/fuzz_}"); done
for ((i = 0; i < ${#names[@]}; i += 2)); do
    run_one "${names[i]}" &
    p1=$!
    p2=
    if [ $((i + 1)) -lt ${#names[@]} ]; then
        run_one "${names[i + 1]}" &
        p2=$!
    fi
    wait $p1
    [ -n "$p2" ] && wait "$p2"
done
t1=$(ms_now)

for n in "${names[@]}"; do
    dir=build/fuzz/integ/$n
    rc=$(cat "$dir/rc" 2>/dev/null || echo '?')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    if [ "$rc" = 0 ]; then
        ok "fuzz_$n: ${secs}s on its seeds, ${execs:-?} runs (${rate:-?}/s), nothing found"
    else
        fail "fuzz_$n: found a failure (exit $rc) after ${execs:-?} runs"
        report "$dir/log" | sed 's/^/    /'
        sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | while read -r a; do
            echo "    reproducer: $a   (rerun: build/fuzz/fuzz_$n $a)"
            known "$n" "$a"
        done
    fi
done
echo "fuzz: ${#names[@]} targets in $(((t1 - t0) / 1000)) s"
finish
