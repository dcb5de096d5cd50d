# refresh_keys.sh — the command line's part of the monitor: + and - step through the range -d
# accepts (100ms to 1h) and say so at either end, the header showing the interval; with no
# server named, the default server's DOWN row names the socket tried, a line under it says how to
# name servers, and, once quit, stderr says so too.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"

tmp=$(mktemp -d)
sock=pgfleet-test-$$
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath" # kill-server leaves the socket file
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ---- + and - cover -d's range
launch_tui tui 120 30 "$tmp/tui" XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/state" -- \
    -c "$LAB/fleet.yaml" -d 200ms
require "the monitor shows the fleet, every 0.2s" 10 line_has 1 "every 0.2s"
keys -
expect "- from 200ms: refresh every 0.1s" 3 has "refresh every 0.1s"
expect "… the header follows" 3 line_has 1 "every 0.1s"
keys -
expect "- at 100ms: says it is the fastest" 3 has "refresh every 0.1s (the fastest)"
keys +
expect "+ from 100ms: refresh every 0.2s" 3 has "refresh every 0.2s"
quit_tui "$tmp/tui" "-d 200ms"

launch_tui slow 120 30 "$tmp/slow" XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/state" -- \
    -c "$LAB/fleet.yaml" -d 30m
require "-d 30m: every 30m00s" 10 line_has 1 "every 30m00s"
keys +
expect "+ from 30m: refresh every 1h" 3 has "refresh every 1h00m"
keys +
expect "+ at 1h: says it is the slowest" 3 has "refresh every 1h00m (the slowest)"
keys -
expect "- from 1h: refresh every 30m" 3 has "refresh every 30m00s"
quit_tui "$tmp/slow" "-d 30m"

# ---- no server named, nothing at libpq's default socket
mkdir "$tmp/nosock"
launch_tui def 180 30 "$tmp/def" XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/state" PGHOST="$tmp/nosock" \
    PGFLEET_CONFIG= --
expect "the default server's row is DOWN naming the socket tried" 10 \
    has_re "^local:5432 .*DOWN .*no server socket: $tmp/nosock/\.s\.PGSQL\.5432"
expect "and the pane says how to name servers" 5 \
    has "no servers were named, so this is libpq's default server: name them with pgfleet HOST..., pgfleet -c FILE, or PGHOST"
keys q
if wait_until 10 tui_exited "$tmp/def"; then
    check "q exits with status 0" [ "$(cat "$tmp/def.rc")" = 0 ]
else
    fail "q exits within 10 s"
fi
check "stderr then says what was tried and how to name servers" diff - "$tmp/def.err" <<EOF
pgfleet: no servers were named, so pgfleet watched libpq's default server local:5432: DOWN, no server socket: $tmp/nosock/.s.PGSQL.5432
pgfleet: name the servers to watch: pgfleet HOST..., pgfleet -c FILE (or \$PGFLEET_CONFIG), or set PGHOST
EOF

finish
