# narrow.sh — the Fleet pane on narrow terminals: the SERVER column is never dropped.
# (1) The lab at 20 columns: "SERVER  STATUS", each server's name with its status (no NOTE in
#     place of the name);
# (2) a server named orders-eu-west-1a (17 columns): at 25 columns SERVER and STATUS just fit; at
#     24 the pane says "terminal too small" and how many columns it needs, rather than a status
#     without its server; wider again, the rows come back.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-test-narrow-$$
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# row_is NAME STATUS: a Fleet row "NAME  STATUS" (and nothing else but a NOTE after it)
row_is() { rows | grep -qE "^$1 +$2( |\$)"; }

# ---- (1) the lab at 20 columns
launch_tui narrow 20 12 "$tmp/lab" -- -c "$LAB/fleet.yaml"
require "20 columns: SERVER and STATUS titles" 10 line_re 3 '^SERVER +STATUS'
expect "20 columns: primary UP" 5 row_is primary UP
expect "20 columns: replica UP" 3 row_is replica UP
expect "20 columns: bouncer UP" 3 row_is bouncer UP
check "no line wider than 20" [ "$(T capture-pane -p -J -t "$pane" | wc -L)" -le 20 ]
quit_tui "$tmp/lab" "pgfleet (lab, 20 columns)"
T kill-server >/dev/null 2>&1

# ---- (2) a long server name
cat >"$tmp/long.yaml" <<YAML
refresh: 500ms
servers:
  - { name: orders-eu-west-1a, conninfo: "$PRIMARY_CONNINFO" }
YAML
launch_tui long 40 12 "$tmp/long" -- -c "$tmp/long.yaml"
require "40 columns: orders-eu-west-1a UP" 10 row_is orders-eu-west-1a UP
T resize-window -t long -x 25 -y 12
expect "25 columns: SERVER and STATUS still fit" 5 eval 'size_is 25x12 && line_re 3 "^SERVER +STATUS" && row_is orders-eu-west-1a UP'
T resize-window -t long -x 24 -y 12
expect "24 columns: 'terminal too small' in the pane" 5 eval 'size_is 24x12 && line_starts 3 "terminal too small"'
check "… with the width it needs: '(25 columns needed)'" line_starts 4 "(25 columns needed)"
check "… and no status without its server" lacks "UP"
check "pgfleet still runs" eval '! tui_exited "$tmp/long"'
T resize-window -t long -x 30 -y 12
expect "30 columns: the row is back" 5 eval 'size_is 30x12 && row_is orders-eu-west-1a UP'
quit_tui "$tmp/long" "pgfleet (long name)"
finish
