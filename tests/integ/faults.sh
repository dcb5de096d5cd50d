# faults.sh — a server (or anything in between) that breaks the wire protocol must never freeze
# pgfleet. The lab primary is watched twice: directly ("primary") and through tests/fault's
# faultproxy ("faulty"), which injects one protocol fault at an exact point (refresh 500ms,
# timeout 2s). For each mode (a bad DataRow length, the server's stream cut at a spread of byte
# offsets over startup, setup and the ticks, a stall mid-DataRow, FATAL 57P01 mid-pipeline,
# random bytes, a drop after a few answers) `pgfleet snapshot --json` must return (exit 0)
# within refresh + timeout + slack, never hang, with "faulty" DOWN and a reason and "primary"
# UP, and no sanitizer report. In tmux: the TUI shows the faulty row DOWN within its deadline
# while the primary keeps refreshing, uses little CPU while the faulty server is retried, and
# SIGTERM and SIGINT end it within 1 s with the terminal restored (prompt back, icanon and echo,
# the normal screen); a fault on the first connection only heals by itself. Last, a cancel whose
# answer never comes back (the proxy drops the client once the signal statement went by):
# exit 1, the intent record on disk before the statement, an outcome that says "unknown" and
# "may have been signalled", never "not sent".
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

proxy_bin="$(dirname "$PGFLEET")/tests/faultproxy"
tmp=$(mktemp -d)
sock=pgfleet-faults-$$
pane=tui:0.0
proxy_pid= proxy_n=0 bg_pids= tui_pids=
cleanup() {
    local p
    # a pgfleet that ignores signals (the defect this suite is about) must not outlive the test
    for p in $tui_pids; do kill -KILL "$p" 2>/dev/null; done
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath" # kill-server leaves the socket file
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

if [ ! -x "$proxy_bin" ]; then
    fail "the fault proxy is built ($proxy_bin: make helpers)"
    finish
    exit 1
fi

REFRESH_MS=500 TIMEOUT_MS=2000
SNAP_LIMIT_MS=$((REFRESH_MS + TIMEOUT_MS + 2000)) # two samples a refresh apart, the faulty one may time out; slack: connect, sanitizer start and exit
SNAP_KILL_S=10                                    # a snapshot still running then has hung: killed
audit="$tmp/audit.jsonl"

no_sanitizer_report() { ! grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"; }
show() { sed 's/^/    | /' "$@" | head -15; }

# ---- the proxy
# start_proxy MODE AFTER [PROXY ARGS...]: a faultproxy in front of the primary; writes the
# fleet config $tmp/fleet.yaml (primary direct, faulty through the proxy). Sets $proxy_pid,
# $proxy_port, $proxy_log.
start_proxy() {
    stop_proxy
    proxy_n=$((proxy_n + 1))
    proxy_log=$tmp/proxy$proxy_n.log
    proxy_port=$(lab_free_port "$PRIMARY_PORT" "$REPLICA_PORT" "$BOUNCER_PORT")
    "$proxy_bin" --listen "$proxy_port" --to "127.0.0.1:$PRIMARY_PORT" --mode "$1" --after "$2" "${@:3}" \
        --log "$proxy_log" --count "$tmp/count" >"$tmp/proxy.out" 2>&1 &
    proxy_pid=$!
    if ! wait_until 5 grep -q '^listening' "$tmp/proxy.out"; then
        fail "faultproxy $* starts"
        show "$tmp/proxy.out"
    fi
    cat >"$tmp/fleet.yaml" <<YAML
refresh: ${REFRESH_MS}ms
timeout: ${TIMEOUT_MS}ms
actions: { audit_log: "$audit" }
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: faulty, conninfo: "host=127.0.0.1 port=$proxy_port dbname=labdb user=postgres" }
YAML
}
# stop_proxy: SIGTERM; sets $proxy_rc (its exit status).
stop_proxy() {
    proxy_rc=
    [ -n "$proxy_pid" ] || return 0
    kill -TERM "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
    proxy_rc=$?
    proxy_pid=
}
accepted() { cat "$tmp/count" 2>/dev/null || echo 0; }
# injected: the proxy's log says a fault went in (a case whose fault never fired tests nothing).
injected() { grep -qE 'conn [0-9]+: (badlen|truncate|stall|fatal|garbage|dropact|dropafter|copy):' "$proxy_log"; }

# ---- the proxy itself, untouched: pgfleet sees the server UP through it
start_proxy pass 1 --verbose
timeout -k 2 "$SNAP_KILL_S" "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" </dev/null >"$tmp/snap.json" 2>"$tmp/snap.err"
rc=$?
stop_proxy
check "through the proxy in pass mode the server is UP (snapshot exit $rc)" \
    eval '[ $rc = 0 ] && [ "$(jq -r ".servers[] | select(.name == \"faulty\") | .status" "$tmp/snap.json")" = UP ]'
check "faultproxy exits 0 on SIGTERM (status $proxy_rc)" [ "$proxy_rc" = 0 ]
check "faultproxy counts its connections (count file: $(accepted))" [ "$(accepted)" -ge 1 ]
# Landmarks of an unbroken stream: where each ReadyForQuery ends (startup, setup, the ticks).
mapfile -t zs < <(sed -n 's/.*ReadyForQuery #[0-9]* ends at byte \([0-9]*\) .*/\1/p' "$proxy_log")
stream_end=$(sed -n 's/.*closed (.*; \([0-9]*\) bytes from the server.*/\1/p' "$proxy_log" | tail -1)
echo "  stream: ${#zs[@]} ReadyForQuery, the first ones ending at bytes ${zs[*]:0:4}; ${stream_end:-?} bytes in all"

# ---- snapshot cases
# snap_case LABEL MODE AFTER [PROXY ARGS...]: one `pgfleet snapshot --json` through the faulty
# proxy: exit 0 within SNAP_LIMIT_MS (killed after SNAP_KILL_S: a hang), faulty DOWN with a
# reason, primary UP, the fault really injected, nothing from the sanitizers. One line per case.
snap_case() {
    local label=$1 t0 ms rc st reason pst why=
    shift
    start_proxy "$@"
    t0=$(ms_now)
    timeout -k 2 "$SNAP_KILL_S" "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" </dev/null >"$tmp/snap.json" 2>"$tmp/snap.err"
    rc=$?
    ms=$(($(ms_now) - t0))
    stop_proxy
    st=$(jq -r '.servers[] | select(.name == "faulty") | .status' "$tmp/snap.json" 2>/dev/null)
    reason=$(jq -r '.servers[] | select(.name == "faulty") | .reason // ""' "$tmp/snap.json" 2>/dev/null)
    pst=$(jq -r '.servers[] | select(.name == "primary") | .status' "$tmp/snap.json" 2>/dev/null)
    case $rc in
        0) ;;
        124 | 137) why+=", HUNG: killed after ${SNAP_KILL_S}s (exit $rc)" ;;
        *) why+=", exit $rc (want 0: a DOWN server is no failure)" ;;
    esac
    [ "$ms" -le "$SNAP_LIMIT_MS" ] || why+=", took $ms ms (limit $SNAP_LIMIT_MS)"
    [ "$st" = DOWN ] || why+=", faulty is '${st:-missing}', not DOWN"
    [ -n "$reason" ] || why+=", no reason given"
    [ "$pst" = UP ] || why+=", primary is '${pst:-missing}', not UP"
    injected || why+=", the proxy injected no fault (the case tests nothing)"
    no_sanitizer_report "$tmp/snap.err" || why+=", sanitizer report on stderr"
    if [ -z "$why" ]; then
        ok "$label: faulty DOWN ($reason), primary UP, in $ms ms"
    else
        fail "$label: ${why#, }"
        [ -s "$tmp/snap.err" ] && show "$tmp/snap.err"
        grep -E 'conn 1: (badlen|truncate|stall|fatal|garbage|dropafter|copy)' "$proxy_log" | head -3 | sed 's/^/    proxy| /'
    fi
}

snap_case "badlen: 1st DataRow length 3" badlen 1 --len 3
snap_case "badlen: 7th DataRow length 3 (a tick)" badlen 7 --len 3
snap_case "badlen: 1st DataRow length 0x7ffffff0" badlen 1 --len 0x7ffffff0
snap_case "badlen: 12th DataRow length 0x7ffffff0" badlen 12 --len 0x7ffffff0
snap_case "stall: half of the 1st DataRow, then silence" stall 1
snap_case "stall: half of the 20th DataRow (a tick), then silence" stall 20
snap_case "fatal: FATAL 57P01 after the startup's ReadyForQuery" fatal 1
snap_case "fatal: FATAL 57P01 after the 3rd ReadyForQuery (setup)" fatal 3
snap_case "fatal: FATAL 57P01 mid-pipeline (after the 8th sync)" fatal 8
# a COPY nobody asked for: libpq hands back a COPY result on every call; it must end the batch
# at once as a protocol error, not spin until the deadline
snap_case "copy: a CopyOutResponse mid-pipeline (after the 8th sync)" copy 8
check "copy: the reason says protocol error" grep -q 'protocol error' <(jq -r '.servers[] | select(.name == "faulty") | .reason // ""' "$tmp/snap.json")
snap_case "garbage: random bytes from byte 0 (the SSL answer)" garbage 0 --seed 1
snap_case "garbage: random bytes from byte 100 (startup)" garbage 100 --seed 2
snap_case "garbage: random bytes from byte 2000 (a tick)" garbage 2000 --seed 3
snap_case "dropafter: closed after the 1st ReadyForQuery" dropafter 1
snap_case "dropafter: closed after the 5th ReadyForQuery" dropafter 5

# Truncation at any byte: every offset of the startup's first bytes, each side of the
# ReadyForQuery landmarks, and a spread over the ticks of the unbroken stream.
offsets=(0 1 2 5 9 10 30 100 250)
for z in "${zs[@]:0:3}"; do offsets+=($((z - 1)) "$z" $((z + 1))); done
if [ ${#zs[@]} -ge 4 ]; then
    from=${zs[2]} to=${zs[$((${#zs[@]} - 2))]}
    for k in 1 2 3 4 5 6 7; do offsets+=($((from + (to - from) * k / 8))); done
fi
mapfile -t offsets < <(printf '%s\n' "${offsets[@]}" | sort -nu)
for n in "${offsets[@]}"; do
    snap_case "truncate: the server's stream cut after $n bytes" truncate "$n"
done

# ---- the TUI
clock() { line 1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$' | tr -d ' '; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
clk_tck=$(getconf CLK_TCK)
gone() { ! kill -0 "$1" 2>/dev/null || ! lab_alive "$1"; }
prompt_back() { screen | grep -q "rc$1=[0-9]" && screen | grep -v '^ *$' | tail -n 1 | grep -q 'tui\$ *$'; }

# A long query on the primary: its QUERY AGE on the Activity pane shows the primary refreshing.
PGAPPNAME=faults_sleeper lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(300)" >"$tmp/sleeper.pid"
bg_pids="$bg_pids $(cat "$tmp/sleeper.pid")"
sleeper_active() {
    [ "$(lab_psql "$PRIMARY_PORT" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'faults_sleeper' AND state = 'active'")" = 1 ]
}
check "a pg_sleep runs on the primary (faults_sleeper)" wait_until 10 sleeper_active

start_shell 160 30 || { fail "a shell in tmux"; finish; exit 1; }

# tui_case N SIGNAL MODE AFTER [PROXY ARGS...]: pgfleet in the pane's shell on a fleet whose
# faulty server has that fault; DOWN within its deadline, the primary refreshing, the CPU low
# while the faulty one is retried; SIGNAL ends it within 1 s and the shell gets a sane terminal.
tui_case() {
    local n=$1 sig=$2 mode=$3 t0 down_ms= pid c1 c2 used limit a1 a2 c_1 c_2 modes
    shift 2
    start_proxy "$@"
    keys C-l
    typ "'$PGFLEET' -c '$tmp/fleet.yaml' 2>'$tmp/tui$n.err'; echo rc$n=\$?"
    keys Enter
    t0=$(ms_now)
    while [ $(($(ms_now) - t0)) -le 15000 ]; do
        if is_status faulty DOWN; then down_ms=$(($(ms_now) - t0)); break; fi
        sleep 0.1
    done
    pid=$(pgfleet_pid)
    [ -n "$pid" ] && tui_pids="$tui_pids $pid"
    limit=$((TIMEOUT_MS + REFRESH_MS + 1500))
    if [ -n "$down_ms" ] && [ "$down_ms" -le "$limit" ]; then
        ok "tui $mode: faulty DOWN on the Fleet pane ${down_ms} ms after start (limit $limit ms: timeout + refresh + start-up)"
    else
        fail "tui $mode: faulty DOWN on the Fleet pane within $limit ms (${down_ms:-not within 15000} ms)"
        dump
    fi
    check "tui $mode: the DOWN row gives a reason ('$(note_of faulty)')" eval '[ -n "$(note_of faulty)" ]'
    expect "tui $mode: primary UP" 5 is_status primary UP
    # the primary keeps refreshing: the clock moves and the sleeper's query age grows
    c_1=$(clock)
    keys 2
    wait_until 3 eval '[ -n "$(qage_secs "pg_sleep(300)")" ]'
    a1=$(qage_secs "pg_sleep(300)")
    # CPU while the faulty server is DOWN and retried: a spinning loop burns all of it
    c1=$(cpu_ticks "$pid")
    sleep 3
    c2=$(cpu_ticks "$pid")
    a2=$(qage_secs "pg_sleep(300)")
    c_2=$(clock)
    check "tui $mode: the primary keeps refreshing: its sleeper's QUERY AGE grows (${a1:-?} s -> ${a2:-?} s) and the clock moves ($c_1 -> $c_2)" \
        awk -v a="$a1" -v b="$a2" -v x="$c_1" -v y="$c_2" 'BEGIN {exit !(a != "" && b != "" && b >= a + 2 && x != y)}'
    keys 1
    used=
    [ -n "$c1" ] && [ -n "$c2" ] && used=$(awk -v a="$c1" -v b="$c2" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b - a) / t}')
    echo "  measured: pgfleet used ${used:-?} s of CPU over 3 s with the faulty server ($mode) DOWN and retried ($(accepted) connections so far)"
    check "tui $mode: low CPU while the faulty server is DOWN: ${used:-?} s over 3 s (limit 0.5 s)" \
        awk -v u="$used" 'BEGIN {exit !(u != "" && u < 0.5)}'
    is_status faulty DOWN || is_status faulty CONNECTING || echo "  note: faulty shows '$(status_of faulty)' at the end of the CPU window"

    # the signal: pgfleet exits within 1 s and gives a sane terminal back
    if [ -z "$pid" ]; then
        fail "tui $mode: pgfleet runs in the pane"
        return
    fi
    t0=$(ms_now)
    kill "-$sig" "$pid"
    local gone_ms=
    while [ $(($(ms_now) - t0)) -le 5000 ]; do
        if gone "$pid"; then gone_ms=$(($(ms_now) - t0)); break; fi
        sleep 0.05
    done
    if [ -n "$gone_ms" ] && [ "$gone_ms" -le 1000 ]; then
        ok "tui $mode: SIG$sig ends pgfleet within 1 s (${gone_ms} ms)"
    else
        fail "tui $mode: SIG$sig ends pgfleet within 1 s (${gone_ms:-still running after 5000} ms)"
        kill -KILL "$pid" 2>/dev/null
    fi
    expect "tui $mode: after SIG$sig the shell's prompt is back" 5 prompt_back "$n"
    echo "  pgfleet's exit status after SIG$sig: $(screen | grep -o "rc$n=[0-9]*" | tail -1 | cut -d= -f2)"
    check "tui $mode: after SIG$sig the pane has left the alternate screen" \
        eval '[ "$(T display -p -t "$pane" "#{alternate_on}")" = 0 ]'
    keys C-l
    # (the marker is put together by printf: the command line itself never matches it)
    typ "printf '%s%s: %s\n' mo des$n \"\$(stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' ')\""
    keys Enter
    # not anchored: a terminal left raw (no output processing) does not return to column 0
    wait_until 3 eval 'screen | grep -q "modes$n: "'
    modes=$(screen | grep -o "modes$n: .*" | tail -1)
    check "tui $mode: after SIG$sig the terminal is cooked again: stty says icanon, echo, isig ('$modes')" \
        eval '[[ " $modes " == *" icanon "* && " $modes " == *" echo "* && " $modes " == *" isig "* ]]'
    check "tui $mode: no sanitizer report on stderr" no_sanitizer_report "$tmp/tui$n.err"
    stop_proxy
}

tui_case 1 TERM stall 1
tui_case 2 INT badlen 1 --len 3
tui_case 3 TERM garbage 300 --seed 4

# A fault on the first connection only: the faulty row comes back UP by itself.
start_proxy fatal 8 --conn 1
keys C-l
typ "'$PGFLEET' -c '$tmp/fleet.yaml' 2>'$tmp/tui4.err'; echo rc4=\$?"
keys Enter
expect "tui heal: the 1st connection gets FATAL 57P01 mid-pipeline" 10 grep -q 'conn 1: fatal' "$proxy_log"
expect "tui heal: faulty UP again on a new connection, with the same pgfleet" 15 eval 'is_status faulty UP && [ "$(accepted)" -ge 2 ]'
echo "  proxy: $(accepted) connections accepted"
pid=$(pgfleet_pid)
[ -n "$pid" ] && tui_pids="$tui_pids $pid"
keys q
expect "tui heal: q exits with status 0" 10 eval 'screen | grep -q "^rc4=0"'
check "tui heal: no sanitizer report on stderr" no_sanitizer_report "$tmp/tui4.err"
stop_proxy

# ---- a cancel whose answer never comes back
PGAPPNAME=faults_victim "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    -c '\set VERBOSITY verbose' -c "SELECT pg_sleep(60)" </dev/null >/dev/null 2>"$tmp/victim.err" &
bg_pids="$bg_pids $!"
victim_backend() {
    lab_psql "$PRIMARY_PORT" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'faults_victim' AND state = 'active'"
}
check "the victim's pg_sleep(60) runs" wait_until 10 eval '[ -n "$(victim_backend)" ]'
vpid=$(victim_backend)
rm -f "$audit"
start_proxy dropact 1 --watch "$audit"
t0=$(ms_now)
timeout -k 2 30 "$PGFLEET" cancel --yes -c "$tmp/fleet.yaml" faulty "$vpid" </dev/null >"$tmp/cancel.out" 2>"$tmp/cancel.err"
rc=$?
ms=$(($(ms_now) - t0))
echo "  pgfleet cancel through the dropping proxy: exit $rc after $ms ms"
check "dropact: the proxy forwarded the signal statement and dropped the client" \
    grep -q 'dropact: signal statement forwarded' "$proxy_log"
check "dropact: pgfleet cancel exits 1 (runtime failure: the outcome is unknown), not 0, 2 or a hang ($rc)" [ "$rc" = 1 ]
[ "$rc" = 1 ] || show "$tmp/cancel.out" "$tmp/cancel.err"
check "dropact: it says the outcome is unknown" grep -qi unknown "$tmp/cancel.out" "$tmp/cancel.err"
# the proxy logs the audit log's size when the signal statement went by: the intent line, whole
at_trigger=$(sed -n 's/.*dropact: a .* holding a signal function.*(.*: \([0-9]*\) bytes)$/\1/p' "$proxy_log" | head -1)
seen=$(grep -o 'dropact: a .* holding a signal function.*' "$proxy_log" | head -1 | sed 's/.*(\(.*\))$/\1/; s|.*/||')
intent_len=$(($(head -n 1 "$audit" 2>/dev/null | wc -c)))
check "dropact: the intent record was on disk before the statement reached the proxy (then: ${seen:-?}; the intent line is $intent_len bytes)" \
    eval '[ -n "$at_trigger" ] && [ "$at_trigger" -gt 0 ] && [ "$at_trigger" = "$intent_len" ]'
check "dropact: the audit's first record is the intent, with the guarded pg_cancel_backend" \
    eval 'head -n 1 "$audit" | jq -e "(.record == \"intent\") and ([.sql[] | select(test(\"pg_cancel_backend\"))] | length > 0)" >/dev/null'
check "dropact: an outcome record follows, with the intent's id" \
    eval '[ "$(jq -rs "[.[] | select(.record == \"outcome\")] | length" "$audit")" = 1 ] &&
          [ "$(jq -rs "(.[0].id == .[1].id) and .[1].record == \"outcome\"" "$audit")" = true ]'
outcome=$(jq -c 'select(.record == "outcome") | {outcome, state, result: [.targets[].result]}' "$audit" 2>/dev/null)
echo "  audit outcome: $outcome"
check "dropact: the outcome says 'unknown'" eval 'grep -i unknown <<<"$outcome" >/dev/null'
check "dropact: the outcome says 'may have been signalled'" eval 'grep -i "may have been signalled" <<<"$outcome" >/dev/null'
check "dropact: the audit never says 'not sent'" eval '! grep -qi "not sent" "$audit"'
check "dropact: … and the signal did go through: the victim's query was cancelled (57014)" \
    wait_until 5 grep -q 57014 "$tmp/victim.err"
check "dropact: no sanitizer report on stderr" no_sanitizer_report "$tmp/cancel.err"
stop_proxy

finish
