# tuilib.sh — reading and driving pgfleet's screen in tmux, for the shell suites that run it (the
# TUI tests and the integration tests with a screen part). Source it after testlib.sh; the test
# sets $sock (its tmux server, tmux -L) and $pane (the target, e.g. tui:0.0) before calling these.
# The predicates (has, line_has, …) are for check/expect/wait_until.

T() { tmux -L "$sock" "$@"; }
keys() { T send-keys -t "$pane" "$@"; }
typ() { T send-keys -t "$pane" -l -- "$1"; }

# ---- reading the screen
screen() { T capture-pane -p -t "$pane"; }
line() { screen | sed -n "${1}p"; }
has() { screen | grep -qF -- "$1"; }
lacks() { ! has "$1"; }
has_line() { screen | grep -qxF -- "$1"; }
has_re() { screen | grep -qE -- "$1"; }
line_starts() { [[ $(line "$1") == "$2"* ]]; }
line_has() { [[ $(line "$1") == *"$2"* ]]; }
line_lacks() { ! line_has "$@"; }
line_re() { line "$1" | grep -qE -- "$2"; }
count_lines() { screen | grep -cE -- "$1"; }
height() { T display -p -t "$pane" '#{pane_height}'; }
size_is() { [ "$(T display -p -t "$pane" '#{pane_width}x#{pane_height}')" = "$1" ]; }
# Sort markers (▼ ▲) are one column but three bytes: make them one byte so that awk's byte
# offsets of the title row line up with the rows below it.
one_col_markers() { sed '3s/\xe2\x96\xbc/v/g; 3s/\xe2\x96\xb2/^/g'; }
# Data rows of a table pane: the lines between the column titles (line 3) and the footer.
rows() { screen | sed -n "4,$(($(height) - 1))p" | grep -v '^ *$'; }
nrows_is() { [ "$(rows | wc -l)" = "$1" ]; }
# The tab bar: pane numbers and titles (short titles on narrow screens: "2 Activ").
TABS='^ ?1 Fleet +2 Activ'

# ---- the process in the pane
# The pgfleet started by the pane's shell, if it runs.
pgfleet_pid() { ps -o pid=,comm= --ppid "$(T display -p -t "$pane" '#{pane_pid}')" | awk '$2 ~ /^pgfleet/ {print $1}'; }
running() { [ -n "$(pgfleet_pid)" ]; }
# The pane's command has exited (the session keeps the pane: remain-on-exit).
dead() { [ "$(T display -p -t "$pane" '#{pane_dead}')" = 1 ]; }

# ---- checks that show the screen when they fail
dump() {
    screen | awk '{l[NR] = $0} END {n = NR; while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print "    | " l[i]}'
}
# expect "what" SECS CMD...: wait (bounded) until CMD succeeds; on failure show the screen.
expect() {
    local what=$1 secs=$2
    shift 2
    if wait_until "$secs" "$@"; then ok "$what"; else fail "$what"; dump; fi
}
# require "what" SECS CMD...: like expect, but nothing after it makes sense if it fails.
require() {
    local what=$1 secs=$2
    shift 2
    if wait_until "$secs" "$@"; then ok "$what"; else fail "$what"; dump; finish; exit 1; fi
}

# ---- starting tmux
# The best TERM this machine's terminfo knows for a tmux pane.
tmux_term() {
    local term=tmux-256color
    infocmp "$term" >/dev/null 2>&1 || term=screen-256color
    infocmp "$term" >/dev/null 2>&1 || term=screen
    echo "$term"
}
# start_shell COLS ROWS: session "tui" of that size with a plain bash (prompt "tui$ ") to start
# pgfleet from; panes stay after their command exits; sets $sockpath (kill-server leaves it).
start_shell() {
    T -f /dev/null new-session -d -s tui -x "$1" -y "$2" "TERM=$(tmux_term) PS1='tui\$ ' exec bash --norc --noprofile"
    sockpath=$(T display -p '#{socket_path}')
    T set -g remain-on-exit on
    wait_until 5 has 'tui$'
}
