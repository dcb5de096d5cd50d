# tuilib.sh — reading and driving pgfleet's screen in tmux, for the shell suites that run it (the
# TUI tests and the integration tests with a screen part). Source it after testlib.sh; the test
# sets $sock (its tmux server, tmux -L) and $pane (the target, e.g. tui:0.0) before calling these.
# The predicates (has, line_has, …) are for check/expect/wait_until; the negative ones (lacks,
# line_lacks, …) fail when the screen could not be read. A pgfleet that needs no shell in its pane
# is started with launch_tui and ended with quit_tui (q, then its exit status and stderr checked).

T() { tmux -L "$sock" "$@"; }
keys() { T send-keys -t "$pane" "$@"; }
typ() { T send-keys -t "$pane" -l -- "$1"; }

# ---- reading the screen
screen() { T capture-pane -p -t "$pane"; }
# read_screen: capture the screen into $screen_text; fails when tmux could not capture it or it
# came back blank. A negative check ("X is not on screen") on a screen that could not be read
# must fail, not pass: lacks, lacks_re, line_lacks and line_lacks_re go through here.
read_screen() {
    screen_text=$(screen) || return 1
    [ -n "${screen_text//[[:space:]]/}" ]
}
line() { screen | sed -n "${1}p"; }
has() { screen | grep -qF -- "$1"; }
lacks() { read_screen && ! grep -qF -- "$1" <<<"$screen_text"; }
lacks_re() { read_screen && ! grep -qE -- "$1" <<<"$screen_text"; }
has_line() { screen | grep -qxF -- "$1"; }
has_re() { screen | grep -qE -- "$1"; }
line_starts() { [[ $(line "$1") == "$2"* ]]; }
line_has() { [[ $(line "$1") == *"$2"* ]]; }
# line_lacks N TEXT: line N was read, is not blank, and does not hold TEXT.
line_lacks() {
    local l
    read_screen || return 1
    l=$(sed -n "${1}p" <<<"$screen_text")
    [ -n "${l//[[:space:]]/}" ] && [[ $l != *"$2"* ]]
}
# line_lacks_re N ERE: the same with an extended regular expression.
line_lacks_re() {
    local l
    read_screen || return 1
    l=$(sed -n "${1}p" <<<"$screen_text")
    [ -n "${l//[[:space:]]/}" ] && ! grep -qE -- "$2" <<<"$l"
}
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

# ---- reading cells of the Fleet and Activity panes
# status_of NAME: the STATUS cell of server NAME on the Fleet pane (column under "STATUS").
status_of() {
    screen | awk -v s="$1" 'NR == 3 {p = index($0, "STATUS")} NR > 3 && p && $1 == s {v = substr($0, p); sub(/ .*/, "", v); print v; exit}'
}
is_status() { [ "$(status_of "$1")" = "$2" ]; }
# note_of NAME: the NOTE cell (the last column) of server NAME.
note_of() {
    screen | awk -v s="$1" 'NR == 3 {p = index($0, "NOTE")} NR > 3 && p && $1 == s {v = substr($0, p); sub(/ +$/, "", v); print v; exit}'
}
# qage_secs MARK: the QUERY AGE cell of the Activity row holding MARK, in seconds (1m05s -> 65);
# right-aligned under the title, which may carry a sort marker: the first word from there on.
qage_secs() {
    screen | one_col_markers | awk -v m="$1" 'NR == 3 {p = index($0, "QUERY AGE")} NR > 3 && p && index($0, m) {
        split(substr($0, p, 12), w, " "); v = w[1]; s = 0
        if (match(v, /[0-9]+h/)) s += 3600 * substr(v, RSTART, RLENGTH - 1)
        if (match(v, /[0-9]+m/)) s += 60 * substr(v, RSTART, RLENGTH - 1)
        if (match(v, /[0-9.]+s/)) s += substr(v, RSTART, RLENGTH - 1)
        if (v != "") print s; exit}'
}

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

# ---- pgfleet as the command of a tmux session (no shell in the pane)
# shq WORD: WORD quoted for sh.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# launch_tui SESSION COLS ROWS OUT [NAME=VALUE...] [-- ARGS...]: a new tmux server ($sock) whose
# session SESSION (COLSxROWS) runs $PGFLEET ARGS with TERM from tmux_term and the NAME=VALUE
# settings (which may set TERM too) in its environment. Its stderr goes to OUT.err, its exit
# status to OUT.rc; the pane stays when it exits. Sets $pane (SESSION:0.0) and $sockpath.
launch_tui() {
    local session=$1 cols=$2 rows=$3 out=$4 cmd=env a
    shift 4
    local settings=("TERM=$(tmux_term)")
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        settings+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    rm -f "$out.rc" "$out.err"
    for a in "${settings[@]}" "$PGFLEET" "$@"; do cmd+=" $(shq "$a")"; done
    cmd+=" 2>$(shq "$out.err"); echo \$? >$(shq "$out.rc")"
    T -f /dev/null new-session -d -s "$session" -x "$cols" -y "$rows" "$cmd" \; set -g remain-on-exit on
    pane=$session:0.0
    sockpath=$(T display -p '#{socket_path}')
}
# tui_exited OUT: the pgfleet of launch_tui OUT has exited (its status is in OUT.rc).
tui_exited() { [ -s "$1.rc" ]; }
# quit_tui OUT [WHAT]: q ends the pgfleet of launch_tui OUT within 10 s with exit status 0 and
# nothing on stderr. Quitting (never killing) lets AddressSanitizer's exit-time leak check run:
# its report would land in OUT.err and change the status.
quit_tui() {
    local out=$1 what=${2:-pgfleet}
    keys q
    if wait_until 10 tui_exited "$out"; then
        check "$what: q exits with status 0 (status $(cat "$out.rc"))" [ "$(cat "$out.rc")" = 0 ]
    else
        fail "$what: q exits within 10 s"
        dump
    fi
    no_output "$what: nothing on stderr (no sanitizer report, no stray message)" "$out.err"
}
