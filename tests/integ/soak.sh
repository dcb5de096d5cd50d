# soak.sh — the short pass of the reconnect soak (tests/soak/run; `make soak` is the long one):
# 20 servers behind a faultproxy that drops every connection a little after its first tick, the
# plain build in tmux for 200 reconnects with its RSS sampled (growth under 1 MiB from the
# warm-up, no upward trend), then 100 reconnects under valgrind, quit with q: valgrind clean.
# Runs $PGFLEET_RELEASE (valgrind wants the plain build) and the proxy built next to $PGFLEET.
for v in LAB TESTLIB LAB_TOOLS PGFLEET PGFLEET_RELEASE; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
FAULTPROXY=${FAULTPROXY:-"$(dirname "$PGFLEET")/tests/faultproxy"} SOAK_NAME=soak \
    exec bash "$(dirname "$0")/../soak/run" "$(dirname "$PGFLEET_RELEASE")" "${SOAK_RECONNECTS:-200}" "${SOAK_VG_RECONNECTS:-100}"
