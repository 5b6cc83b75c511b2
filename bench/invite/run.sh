#!/usr/bin/env bash
# Invitation benchmark: the release server invites N numbers (default 100) into room 800 at
# once; the trunk points at SIPp's built-in auto-answering UAS (`sipp -sn uas`: 180, 200 with
# SDP, answers BYE). Polls GET /api/v1/rooms/800/participants (as the local administrator:
# the token the server writes to DIR/admin-token) until all N are "connected" and prints the
# elapsed time and the call rate. The server is then stopped gracefully (BYE to every call;
# SIPp answers them).
#
#   bench/invite/run.sh [N]            # env: SIP_PORT (15060), HTTP_PORT (15080),
#                                      # METRICS_PORT (15464), UAS_PORT (15070), RTP_PORTS,
#                                      # TIMEOUT_SECS (60), KEEP=1 keeps the temp dir
set -euo pipefail

N=${1:-100}
SIP_PORT=${SIP_PORT:-15060}
HTTP_PORT=${HTTP_PORT:-15080}
METRICS_PORT=${METRICS_PORT:-15464}
UAS_PORT=${UAS_PORT:-15070}
UAS_MEDIA_PORT=${UAS_MEDIA_PORT:-15072}
RTP_PORTS=${RTP_PORTS:-16000-16999}
TIMEOUT_SECS=${TIMEOUT_SECS:-60}

root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in sipp curl jq; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done
cargo build --quiet --release -p konferenz-server --manifest-path "$root/Cargo.toml"
konferenz="${CARGO_TARGET_DIR:-$root/target}/release/konferenz"

work=$(mktemp -d /tmp/konferenz-bench-invite-XXXXXX)
server_pid=""
sipp_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    [ -n "$sipp_pid" ] && kill -TERM "$sipp_pid" 2>/dev/null && wait "$sipp_pid" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cat >"$work/konferenz.toml" <<TOML
[sip]
listen = "127.0.0.1:$SIP_PORT"
[rtp]
ports = "$RTP_PORTS"
[http]
listen = "127.0.0.1:$HTTP_PORT"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
[limits]
# The load comes from one address, into few rooms: no per-source or per-room limits.
invites_per_source_per_sec = 0
calls_per_source = 0
calls_per_room = 0
invitations_per_user_per_hour = 0
[database]
url = "sqlite://$work/konferenz.db"
[log]
level = "warn"
[trunk]
uri = "sip:{number}@127.0.0.1:$UAS_PORT"
ring_timeout_secs = 30
TOML

"$konferenz" --config "$work/konferenz.toml" room add --number 800 >/dev/null
sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MEDIA_PORT" -nostdin \
    -trace_err -error_file "$work/sipp-errors.log" >"$work/sipp.out" 2>&1 &
sipp_pid=$!
"$konferenz" --config "$work/konferenz.toml" serve 2>"$work/server.log" &
server_pid=$!

# The server writes the local administrator's token beside its database at every start.
for _ in $(seq 100); do
    [ -s "$work/admin-token" ] && curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break
    sleep 0.1
done
[ -s "$work/admin-token" ] || { echo "server did not start:"; tail -20 "$work/server.log"; exit 1; }
auth=(-H "Authorization: Bearer $(cat "$work/admin-token")")
api="http://127.0.0.1:$HTTP_PORT/api/v1/rooms/800/participants"
curl -fs "${auth[@]}" "$api" >/dev/null || { echo "participants API failed:"; tail -20 "$work/server.log"; exit 1; }

numbers=$(seq 1000 $((1000 + N - 1)))
start=$(date +%s.%N)
# One `konferenz invite` with all N numbers (the API takes one number per POST; the CLI
# sends them back to back on one connection).
# shellcheck disable=SC2086
"$konferenz" --config "$work/konferenz.toml" invite --room 800 $numbers >"$work/invite.out"
posted=$(date +%s.%N)
deadline=$(( $(date +%s) + TIMEOUT_SECS ))
while :; do
    states=$(curl -fs "${auth[@]}" "$api")
    connected=$(jq '[.[] | select(.state == "connected")] | length' <<<"$states")
    [ "$connected" -ge "$N" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "only $connected of $N connected after ${TIMEOUT_SECS}s:"
        jq -r 'group_by(.state) | map("\(.[0].state): \(length)") | .[]' <<<"$states"
        exit 1
    fi
    sleep 0.02
done
done_at=$(date +%s.%N)

awk -v n="$N" -v s="$start" -v p="$posted" -v d="$done_at" 'BEGIN {
    printf "%d invitations: all posted in %.3f s, all connected after %.3f s (%.0f calls/s)\n",
        n, p - s, d - s, n / (d - s)
}'

# Graceful stop: the server sends BYE on every call; SIPp answers them.
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
sleep 1
kill -TERM "$sipp_pid"
wait "$sipp_pid" 2>/dev/null || true
sipp_pid=""
byes=$(grep -a ' BYE ' "$work/sipp.out" | tail -1 | awk '{print $3}' || true)
echo "server stopped; SIPp's screen counts ${byes:-?} BYEs received (and answered)"
