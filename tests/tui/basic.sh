# basic.sh — the monitor in a 120x40 tmux pane, driven by keys from a shell: both lab servers
# UP on the Fleet pane with role and version; two real pg_sleep sessions (one per server) on the
# Activity pane; the filter prompt; the detail view with the whole query; help; sort keys; scope
# (S and Enter on a Fleet row); idle sessions (i); freeze (z); refresh interval (+/-); a resize
# redrawing the layout; q giving the shell back with the terminal modes restored; and the
# monochrome screen of --no-color and NO_COLOR (status words, no colour escapes).
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-test-$$
pane=tui:0.0
alpha_pid= beta_pid= idle_pid=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath" # kill-server leaves the socket file
    exec 8>&-
    for p in $alpha_pid $beta_pid $idle_pid; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ---- screen helpers of this test (the shared ones are in tuilib.sh)
# row_has MARK WORD: the row holding MARK also holds the word WORD.
row_has() { screen | grep -F -- "$1" | grep -qw -- "$2"; }
row_starts() { screen | grep -F -- "$1" | grep -q -- "^$2 "; }
# above A B: the first line holding A is above the first one holding B.
above() { screen | awk -v a="$1" -v b="$2" 'index($0, a) && !ia {ia = NR} index($0, b) && !ib {ib = NR} END {exit !(ia && ib && ia < ib)}'; }
# Fleet row of server $1: ROLE VERSION STATUS as the columns show them.
fleet_up() { screen | awk -v s="$1" '$1 == s && $2 == s && $3 ~ /^[0-9]+(\.[0-9]+)*$/ && $4 == "UP" {f = 1} END {exit !f}'; }
detail_field() { screen | grep -qE -- "^ $1 +$2\$"; }
# The screen with its escape sequences in $seen_e; fails when it could not be read (or is blank).
read_screen_e() {
    seen_e=$(T capture-pane -e -p -t "$pane") || return 1
    [ -n "${seen_e//[[:space:]]/}" ]
}
# Colour SGR parameters (30-38, 40-48, 90-97, 100-107) in $seen_e; 39/49 (default) are fine.
colours() {
    grep -oE $'\033\\[[0-9;:]*m' <<<"$seen_e" | tr -d '\033[m' | tr ';:' '\n\n' |
        grep -xE '3[0-8]|4[0-8]|9[0-7]|10[0-7]'
}
# no_colours: the screen was read and holds no colour (a screen not read is no evidence).
no_colours() { read_screen_e && [ -z "$(colours)" ]; }
some_colours() { read_screen_e && [ -n "$(colours)" ]; }
reverse_video() { T capture-pane -e -p -t "$pane" | grep -qE $'\033\\[([0-9]+;)*7[;m]'; }
# The QUERY AGE cell of the row holding $1 (right-aligned under the title "QUERY AGE", which
# may carry a sort marker: the first word from there on).
qage_of() {
    screen | one_col_markers | awk -v m="$1" 'NR == 3 {p = index($0, "QUERY AGE")} NR > 3 && p && index($0, m) {split(substr($0, p, 12), v, " "); print v[1]; exit}'
}
qage_is_not() { [ "$(qage_of "$1")" != "$2" ]; }
list_shown() { line_starts 3 "SERVER"; }

# ---- sessions to look at: one per server, and an idle one on the primary
alpha_app=tui-alpha-$$
beta_app=tui-beta-$$
idle_app=tui-idle-$$
alpha_sql="/*tui-alpha*/ SELECT pg_sleep(300), 'the detail view shows the whole query, not just its cell' AS tail"
beta_sql="/*tui-beta*/ SELECT pg_sleep(300)"
# session_is PORT APP STATE: exactly one session of application APP in STATE on that server.
session_is() {
    [ "$(lab_psql "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$2' AND state = '$3'")" = 1 ]
}
# older_than PORT APP SECS: the query of APP has run for more than SECS seconds.
older_than() {
    [ "$(lab_psql "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$2' AND state = 'active' AND now() - query_start > interval '$3 s'")" = 1 ]
}
alpha_pid=$(PGAPPNAME=$alpha_app lab_bg_psql "$PRIMARY_PORT" "$alpha_sql")
# alpha is clearly older than beta (started after this): the age order of the list stays put
check "alpha's query runs for over a second" wait_until 10 older_than "$PRIMARY_PORT" "$alpha_app" 1
beta_pid=$(PGAPPNAME=$beta_app lab_bg_psql "$REPLICA_PORT" "$beta_sql")
mkfifo "$tmp/idle.in"
PGAPPNAME=$idle_app "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    <"$tmp/idle.in" >/dev/null 2>&1 &
idle_pid=$!
exec 8>"$tmp/idle.in" # held open: psql waits for more input, its session idle
echo "/*tui-idle*/ SELECT 1;" >&8
check "test sessions are running: alpha, beta, idle" eval 'wait_until 10 session_is "$REPLICA_PORT" "$beta_app" active &&
    wait_until 10 session_is "$PRIMARY_PORT" "$idle_app" idle && session_is "$PRIMARY_PORT" "$alpha_app" active'
alpha_backend=$(lab_psql "$PRIMARY_PORT" -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$alpha_app'")

# ---- a shell in tmux, pgfleet started from it
start_shell 120 40
typ "$PGFLEET -c '$LAB/fleet.yaml' 2>'$tmp/err1'; echo rc1=\$?"
keys Enter

# ---- Fleet pane
require "Fleet: primary UP as primary with a version" 10 fleet_up primary
expect "Fleet: replica UP as replica with a version" 5 fleet_up replica
# The lab's config has primary, replica and a pgBouncer: the header tells servers from poolers
# and counts as up everything the Fleet lists.
nfleet=$(rows | wc -l)
expect "header counts servers and the pooler: '2 servers + 1 pooler: $nfleet up' ($nfleet Fleet rows)" 5 line_has 1 "2 servers + 1 pooler: $nfleet up"
expect "tab bar on line 2: '1 Fleet  2 Activity…'" 2 line_re 2 "$TABS"
expect "Fleet column titles on line 3" 2 line_re 3 '^SERVER +ROLE +VERSION +STATUS +CONNS +ACTIVE +BLOCKED .*NOTE$'
expect "footer on the last line lists keys" 2 line_re 40 '^F1 ?Help .*q ?Quit'
expect "colour mode emits colour escapes (so the mono checks can see them)" 2 some_colours

# ---- Activity pane
keys 2
expect "2: Activity lists the primary's session" 5 has "/*tui-alpha*/"
expect "2: Activity lists the replica's session" 5 has "/*tui-beta*/"
expect "Activity column titles" 2 line_re 3 '^SERVER +PID .*STATE .*QUERY AGE[^ ]* +QUERY'
expect "the alpha row names its server (primary)" 2 row_starts "/*tui-alpha*/" primary
expect "the beta row names its server (replica)" 2 row_starts "/*tui-beta*/" replica
expect "the alpha row shows its backend pid and state" 2 eval 'row_has "/*tui-alpha*/" "$alpha_backend" && row_has "/*tui-alpha*/" active'
check "idle sessions are hidden by default" lacks "/*tui-idle*/"

# i: idle sessions
keys i
expect "i: the footer says idle sessions are shown" 3 has "showing idle sessions"
expect "i: the idle session appears, state idle" 5 row_has "/*tui-idle*/" idle
keys i
expect "i again: the footer says idle sessions are hidden" 3 has "hiding idle sessions"
expect "i again: the idle session goes" 5 lacks "/*tui-idle*/"

# / filter
keys /
expect "/: the footer becomes the filter prompt" 3 line_starts 40 "Filter: "
typ "$alpha_app"
expect "typing filters live: only the alpha session is listed" 3 eval 'nrows_is 1 && has "/*tui-alpha*/"'
expect "the prompt shows what was typed" 2 line_starts 40 "Filter: $alpha_app"
keys Enter
expect "Enter keeps the filter: 'filter: NAME' in the tab bar" 3 line_has 2 "filter: $alpha_app"
expect "the footer shows keys again" 4 line_starts 40 "F1"
expect "still only the alpha session" 2 nrows_is 1

# Enter: the detail view of the (only) row
keys Enter
expect "Enter: detail view of the session" 3 line_has 3 "Session $alpha_backend on primary"
expect "detail shows the pid" 2 detail_field pid "$alpha_backend"
expect "detail shows the application" 2 detail_field application "$alpha_app"
expect "detail shows the state" 2 detail_field state active
expect "detail shows the whole query" 2 has "$alpha_sql"
expect "the footer offers Esc" 4 line_has 40 "Esc Close"
keys Escape
expect "Esc closes the detail view (back to the list)" 3 list_shown
expect "the filter survives the detail view" 2 line_has 2 "filter: $alpha_app"
keys Escape
expect "Esc clears the filter" 3 line_lacks 2 "filter:"
expect "both sessions are listed again" 3 has "/*tui-beta*/"

# A filter matching nothing says so; Esc at the prompt clears it.
keys /
typ "zz-no-such-session"
expect "a filter matching nothing says so" 3 has "no session matches the filter"
keys Escape
expect "Esc at the prompt clears the filter" 3 has "/*tui-alpha*/"
expect "the prompt is gone" 4 line_starts 40 "F1"

# Down moves the selection: Enter then opens the second row.
keys Home
second=$(rows | sed -n 2p | awk '{print $2}')
keys Down Enter
expect "Down + Enter opens the second row's session (pid $second)" 3 line_has 3 "Session $second on "
keys Escape
wait_until 3 list_shown

# Sorting: > moves to the QUERY column (ascending text), s reverses, < goes back.
check "the default sort column QUERY AGE shows its sort marker" line_re 3 'QUERY AGE(▼|v)'
keys '>'
expect "> sorts by QUERY (marked ascending): alpha above beta" 3 eval 'line_re 3 "QUERY(▲|\\^)\$" && above "/*tui-alpha*/" "/*tui-beta*/"'
keys s
expect "s reverses (marked descending): beta above alpha" 3 eval 'line_re 3 "QUERY(▼|v)\$" && above "/*tui-beta*/" "/*tui-alpha*/"'
keys '<'
expect "< leaves the QUERY column" 3 line_re 3 'QUERY$'

# h: help, Esc closes
keys h
expect "h: help with a 'Help' title" 3 line_starts 3 " Help"
expect "help has a 'Keys' section" 2 has_line " Keys"
expect "help lists the filter key" 2 has_re '^ +/ +filter'
keys Escape
expect "Esc closes help" 3 list_shown
keys F1
expect "F1 opens help too" 3 line_starts 3 " Help"
keys Escape
wait_until 3 list_shown

# S: scope cycles all -> each server -> all
keys S
expect "S: 'scope: NAME' in the tab bar" 3 line_has 2 "scope: "
seen=
for ((i = 0; i <= nfleet; i++)); do
    line_has 2 "scope: " || break
    name=$(line 2 | sed -n 's/.*scope: \([^ ]*\).*/\1/p')
    seen="$seen $name"
    case $name in
        primary) check "scoped to primary: only the primary's session" eval 'wait_until 3 lacks "/*tui-beta*/" && has "/*tui-alpha*/"' ;;
        replica) check "scoped to replica: only the replica's session" eval 'wait_until 3 lacks "/*tui-alpha*/" && has "/*tui-beta*/"' ;;
    esac
    keys S
    wait_until 3 line_lacks 2 "scope: $name"
done
check "S went through every server (${seen# }) and back to all" eval '[ "$(echo $seen | wc -w)" = "$nfleet" ] && line_lacks 2 "scope:"'
expect "every server again: both sessions listed" 3 eval 'has "/*tui-alpha*/" && has "/*tui-beta*/"'

# Enter on the primary's Fleet row scopes the Activity pane to it.
keys 1
wait_until 3 line_re 3 '^SERVER +ROLE'
keys Home
n=$(rows | awk '$1 == "primary" {print NR; exit}')
for ((i = 1; i < ${n:-1}; i++)); do keys Down; done
keys Enter
expect "Enter on the primary's Fleet row: Activity scoped to primary" 3 eval 'line_has 2 "scope: primary" && line_re 3 "^SERVER +PID"'
expect "scoped: only the primary's session" 3 eval 'has "/*tui-alpha*/" && lacks "/*tui-beta*/"'
for ((i = 0; i <= nfleet; i++)); do
    line_has 2 "scope:" || break
    cur=$(line 2 | sed -n 's/.*\(scope: [^ ]*\).*/\1/p')
    keys S
    wait_until 3 line_lacks 2 "$cur" # the next server, or no scope
done
expect "S returns to every server" 3 line_lacks 2 "scope:"

# Tab / S-Tab move between panes; 1 and 2 go straight to them.
keys 1
wait_until 3 line_re 3 '^SERVER +ROLE'
keys Tab
expect "Tab: from Fleet to the next pane, Activity" 3 line_re 3 '^SERVER +PID'
keys BTab
expect "S-Tab: back to Fleet" 3 line_re 3 '^SERVER +ROLE'
keys 2
expect "2: Activity" 3 line_re 3 '^SERVER +PID'

# z: freeze
keys z
expect "z: FROZEN in the header" 3 line_has 1 "FROZEN"
expect "the footer offers Unfreeze" 4 line_has 40 "Unfreeze"
frozen1=$(screen | sed '1d;$d') # the header's clock ticks on; the footer may lose a message
# not waiting for something: 1.6 s (more than one refresh) of an unchanged screen is the check
same_as_frozen() { [ -n "${frozen1//[[:space:]]/}" ] && [ "$(screen | sed '1d;$d')" = "$frozen1" ]; }
check "frozen: the figures do not change for 1.6 s" holds 1.6 same_as_frozen
a1=$(qage_of "/*tui-alpha*/")
keys z
expect "z again: FROZEN is gone" 3 line_lacks 1 "FROZEN"
expect "unfrozen: the query age moves again (was $a1)" 4 qage_is_not "/*tui-alpha*/" "$a1"

# + / -: refresh interval
keys +
expect "+: refresh every 2.0s in the header" 3 line_has 1 "every 2.0s"
expect "+: the footer says so" 2 line_has 40 "refresh every 2.0s"
keys -
expect "-: back to every 1.0s" 3 line_has 1 "every 1.0s"

# Resize: the layout follows the window.
layout_ok() { # ROWS COLS: header, tabs, titles, footer on the last line, each once; rows once
    size_is "$2x$1" && line_starts 1 "pgfleet " && line_re 2 "$TABS" &&
        line_re 3 '^SERVER +PID' && line_starts "$1" "F1" &&
        [ "$(count_lines '^pgfleet ')" = 1 ] && [ "$(count_lines "$TABS")" = 1 ] &&
        [ "$(count_lines '^SERVER ')" = 1 ] && [ "$(count_lines '^F1')" = 1 ] &&
        [ "$(count_lines '/\*tui-alpha\*/')" = 1 ] && [ "$(count_lines '/\*tui-beta\*/')" = 1 ]
}
T resize-window -t tui -x 100 -y 30
expect "resized to 100x30: header, tabs, titles, footer on line 30, each once" 5 layout_ok 30 100
check "resized: pgfleet still runs" running
expect "resized: the QUERY column is still the last title" 2 line_re 3 'QUERY$'
T resize-window -t tui -x 120 -y 40
expect "resized back to 120x40: layout redrawn" 5 layout_ok 40 120

# q: back to the shell, terminal modes restored
keys q
expect "q: pgfleet exits with status 0" 5 has_line "rc1=0"
check "the monitor's screen is gone (alternate screen left)" lacks_re "$TABS"
tag=back-$RANDOM
typ "echo $tag"
keys Enter
expect "the shell works again (echo $tag)" 3 has_line "$tag"
typ "echo modes: \$(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon|isig|icrnl|opost)' | sort | paste -sd, -)"
keys Enter
expect "stty: echo, icanon, isig, icrnl, opost restored" 3 has_line "modes: echo,icanon,icrnl,isig,opost"
no_output "nothing on stderr (no sanitizer report, no stray message)" "$tmp/err1"

# ---- monochrome: --no-color, then NO_COLOR=1
mono() { # NAME COMMAND
    local n=$1 cmd=$2
    typ "clear; $cmd -c '$LAB/fleet.yaml' 2>'$tmp/err-$n'; echo rc-$n=\$?"
    keys Enter
    expect "$n: both servers UP" 10 eval 'fleet_up primary && fleet_up replica'
    check "$n: no colour escape sequences on the Fleet pane" no_colours
    expect "$n: reverse video still marks the title row" 2 reverse_video
    keys 2
    expect "$n: Activity readable (session, state)" 3 row_has "/*tui-alpha*/" active
    check "$n: no colour escape sequences on the Activity pane" no_colours
    keys q
    expect "$n: q exits with status 0" 5 has_line "rc-$n=0"
    no_output "$n: nothing on stderr" "$tmp/err-$n"
}
mono no-color "'$PGFLEET' --no-color"
mono NO_COLOR "NO_COLOR=1 '$PGFLEET'"

finish
