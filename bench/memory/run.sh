#!/usr/bin/env bash
# Memory against history: ROUNDS rounds of CALLS short calls (SIPp, 200 ms each) into one
# room at RATE per second on the release server; after each round it waits 40 s (finished
# SIP transactions linger 32 s by RFC 3261) and prints the server's RSS, so a second round
# shows whether memory keeps growing with history; then the size of
# GET /api/v1/rooms/800/participants (live calls plus the bounded recent past) and of one
# history page (GET /api/v1/rooms/800/history?limit=50), asked as the local administrator
# (the token the server writes to DIR/admin-token), and the count of `left` events from
# GET /metrics on the metrics listener.
#
#   bench/memory/run.sh [CALLS] [RATE] [ROUNDS]     (defaults 60000 1000 2)
#
# Environment: SIP_PORT (46060), HTTP_PORT (48090), METRICS_PORT (48494), NO_BUILD=1 skips
# the build.
set -euo pipefail
CALLS=${1:-60000}
RATE=${2:-1000}
ROUNDS=${3:-2}
SIP_PORT=${SIP_PORT:-46060}
HTTP_PORT=${HTTP_PORT:-48090}
METRICS_PORT=${METRICS_PORT:-48494}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p konferenz-server --manifest-path "$ROOT/Cargo.toml"
BIN=${BIN:-$ROOT/target/release/konferenz}
WORK=$(mktemp -d -t konferenz-memory-XXXXXX)
cat > "$WORK/konferenz.toml" <<TOML
[sip]
listen = "127.0.0.1:$SIP_PORT"
[rtp]
ports = "20000-39999"
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
url = "sqlite://$WORK/konferenz.db"
[log]
level = "warn"
TOML
"$BIN" --config "$WORK/konferenz.toml" room add --number 800 >/dev/null
"$BIN" --config "$WORK/konferenz.toml" serve > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -s "$WORK/admin-token" ] && curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break
  sleep 0.1
done
[ -s "$WORK/admin-token" ] || { echo "server did not start:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
AUTH=(-H "Authorization: Bearer $(cat "$WORK/admin-token")")
API="http://127.0.0.1:$HTTP_PORT/api/v1/rooms/800"
curl -sf -o /dev/null "${AUTH[@]}" "$API/participants" || { echo "participants API failed" >&2; exit 1; }
sleep 1
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
BEFORE=$(rss)
AFTER=""
for round in $(seq "$ROUNDS"); do
  ( cd "$WORK" && sipp -sf "$ROOT/bench/sipp/uac_room.xml" -s 800 "127.0.0.1:$SIP_PORT" -i 127.0.0.1 \
      -mi 127.0.0.1 -r "$RATE" -m "$CALLS" -d 200 -l $((RATE * 5)) -nostdin \
      -timeout $((CALLS / RATE + 60)) > "$WORK/sipp-$round.out" 2>&1 ) \
    || echo "sipp round $round: some calls failed (see $WORK/sipp-$round.out)"
  sleep 40
  AFTER="$AFTER $(rss)"
done
LIST=$(curl -sf "${AUTH[@]}" "$API/participants" | wc -c)
ENTRIES=$(curl -sf "${AUTH[@]}" "$API/participants" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
PAGE=$(curl -sf "${AUTH[@]}" "$API/history?limit=50" | wc -c)
STORED=$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^konferenz_conference_events_total\{kind="participant",state="left"\}/ {print $2}')
echo "$ROUNDS x $CALLS calls at $RATE/s: RSS ${BEFORE} KiB at start, after each round:${AFTER} KiB; participants list ${ENTRIES} entries (${LIST} bytes); history page ${PAGE} bytes; left events ${STORED:-?}; files in $WORK"
