# keys.sh — j/k move as in less and vim, never act; K terminates (as in pg_activity), in a
# 120x40 tmux pane against the lab:
# (1) Fleet: j then Enter scopes to the second server, k then Enter to the first; Esc drops
#     the scope;
# (2) Activity: j/k move the selection (Enter opens the session below / above); k on the top
#     row opens no dialog; K opens the terminate dialog, Esc backs out;
# (3) help: j scrolls down a line, k back up; it lists "Up k", "Down j" and K for terminate, and
#     no key "k" for it;
# (4) --help: the keys it lists say K terminates and j/k move, and name the Jobs pane once.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-keys-$$
app=tuikeys$$
a_psql= b_psql=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    for p in $a_psql $b_psql; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-$1'"; }
active() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%' AND state = 'active'")" = 2 ]; }
list_shown() { line_re 3 '^SERVER +PID'; }
fleet_shown() { line_re 3 '^SERVER +ROLE'; }
dialog_shown() { line_re 3 '^ (Cancel query|Terminate session)'; }
no_dialog() { line_lacks_re 3 '^ (Cancel query|Terminate session)'; }

a_psql=$(PGAPPNAME=$app-a lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(300) /*tui-keys-a*/")
sleep 1.1 # b starts a second later: a is the older query, listed first (longest first)
b_psql=$(PGAPPNAME=$app-b lab_bg_psql "$PRIMARY_PORT" "SELECT pg_sleep(300) /*tui-keys-b*/")
require "two test sessions run" 10 active
a=$(backend_of a)
b=$(backend_of b)

# the lab's fleet, with a slow_query threshold the test sessions never reach: the Fleet's
# worst-first order stays as it starts (by name) while the test reads it
sed 's/^timeout: .*/&\nthresholds: { slow_query: 1h }/' "$LAB/fleet.yaml" >"$tmp/fleet.yaml"
launch_tui tui 120 40 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$tmp/fleet.yaml"

# ---- (1) Fleet
require "the Fleet lists three servers" 10 eval 'fleet_shown && nrows_is 3'
first=$(rows | sed -n 1p | awk '{print $1}')
second=$(rows | sed -n 2p | awk '{print $1}')
keys Home j Enter
expect "j, Enter on the Fleet: the second server's scope ($second)" 3 line_has 2 "scope: $second "
keys 1
wait_until 3 fleet_shown
# the order is worst first and may change between refreshes: the first row is read after the
# keys that select it (Home, then j and k back), just before Enter
keys Home j k
sleep 0.3
first=$(rows | sed -n 1p | sed 's/^> //' | awk '{print $1}')
keys Enter
expect "k, Enter on the Fleet: the first server's scope ($first)" 3 line_has 2 "scope: $first "
keys Escape
expect "Esc: every server again" 3 eval 'line_lacks 2 "scope:" && has "scope: all servers again"'

# ---- (2) Activity
keys /
wait_until 3 line_starts 40 "Filter: "
typ "$app"
keys Enter
require "the filter leaves the two sessions, a (older) first" 5 eval 'list_shown && nrows_is 2 && [ "$(rows | sed -n 1p | awk "{print \$2}")" = "$a" ]'
keys Home j Enter
expect "j, Enter: the second session's detail (pid $b)" 3 line_has 3 "Session $b on primary"
keys Escape
wait_until 3 list_shown
keys k Enter
expect "k, Enter: the first session's detail (pid $a)" 3 line_has 3 "Session $a on primary"
keys Escape
wait_until 3 list_shown
keys k
check "k on the top row opens no dialog" holds 1 eval 'no_dialog && list_shown'
check "… and signals nothing: both still run" active
keys K
expect "K: the terminate dialog, for the selected session" 3 eval 'line_starts 3 " Terminate session" && has "pid $a "'
keys Escape
expect "Esc backs out" 3 eval 'list_shown && has "backed out: nothing was sent"'
check "both sessions still run" active

# ---- (3) help
keys h
expect "h: help" 3 line_starts 3 " Help"
check "help shows its first line" has "pgfleet: a top-like monitor"
keys j
expect "j scrolls help down a line" 3 lacks "pgfleet: a top-like monitor"
keys k
expect "k scrolls it back up" 3 has "pgfleet: a top-like monitor"
check "help lists 'Up k' and 'Down j'" eval 'has_re "^ +Up k +move up" && has_re "^ +Down j +move down"'
keys End
expect "help lists K for terminate" 3 has_re "^ +K +terminate the selected"
check "… and no key k for it" lacks_re "^ +k +terminate"
keys Escape
wait_until 3 list_shown
quit_tui "$tmp/tui"

# ---- (4) --help
"$PGFLEET" --help >"$tmp/help.txt" 2>&1
check "--help: K terminates" grep -q "K terminate session" "$tmp/help.txt"
check "--help: j/k move" grep -q "arrows/j/k/PgUp/PgDn/Home/End move" "$tmp/help.txt"
check "--help: no key k for terminate" eval '! grep -qE "(^| )k terminate" "$tmp/help.txt"'
check "--help: the Jobs pane named once (no '9 jobs' twice)" eval '[ "$(grep -oiE "9 jobs" "$tmp/help.txt" | wc -l)" = 1 ]'

finish
