#!/usr/bin/env bash
# SIPp load against a release konferenz on a temporary config.
#
#   bench/sipp/run.sh [room|pin] [RATE cps] [SECONDS] [CALL_MS] [ROOMS]
#
# Builds the release server, writes a temp config (SIP on 127.0.0.1:$SIP_PORT, RTP ports
# 20000-29999, HTTP on :$HTTP_PORT, metrics on :$METRICS_PORT, log level warn), adds ROOMS rooms 800.. (for `pin` one room 800 with PIN
# 1234: PINs are unique per server and the recorded DTMF pcaps spell only 1234#), starts
# the server, runs SIPp for RATE×SECONDS calls of CALL_MS each spread round robin over the
# rooms, prints SIPp's statistics (successful/failed calls, response-time repartition) and
# stops the server. Defaults: room 100 10 5000 20. Environment: SIP_PORT (35060), HTTP_PORT
# (38080), METRICS_PORT (38464), LOG_LEVEL (warn).
set -euo pipefail

SCENARIO=${1:-room}
RATE=${2:-100}
SECONDS_=${3:-10}
CALL_MS=${4:-5000}
ROOMS=${5:-20}
SIP_PORT=${SIP_PORT:-35060}
HTTP_PORT=${HTTP_PORT:-38080}
METRICS_PORT=${METRICS_PORT:-38464}
LOG_LEVEL=${LOG_LEVEL:-warn} # info logs every join (counted at the end)

case "$SCENARIO" in
  room) XML=uac_room.xml ;;
  pin) XML=uac_pin.xml; ROOMS=1 ;;
  *) echo "scenario must be room or pin" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
command -v sipp >/dev/null || { echo "sipp not found (apt install sip-tester)" >&2; exit 2; }
cargo build --release -q -p konferenz-server --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/konferenz"

WORK=$(mktemp -d -t konferenz-sipp-XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  echo "files kept in $WORK"
}
trap cleanup EXIT

cat > "$WORK/konferenz.toml" <<TOML
[sip]
listen = "127.0.0.1:$SIP_PORT"
[rtp]
ports = "20000-29999"
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
level = "$LOG_LEVEL"
TOML

: > "$WORK/rooms.csv"
echo SEQUENTIAL > "$WORK/rooms.csv"
for ((i = 0; i < ROOMS; i++)); do
  room=$((800 + i))
  if [ "$SCENARIO" = pin ]; then
    "$BIN" --config "$WORK/konferenz.toml" room add --number "$room" --pin 1234 >/dev/null
  else
    "$BIN" --config "$WORK/konferenz.toml" room add --number "$room" >/dev/null
  fi
  echo "$room" >> "$WORK/rooms.csv"
done

"$BIN" --config "$WORK/konferenz.toml" serve > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q "konferenz listening" "$WORK/server.log" 2>/dev/null && break
  sleep 0.1
done
sleep 1 # prompts load after the listen line

# The scenarios call [service] (-s); here every call takes the next room from the CSV.
sed 's/\[service\]/[field0]/g' "$HERE/$XML" > "$WORK/$XML"

CALLS=$((RATE * SECONDS_))
echo "SIPp $SCENARIO: $CALLS calls at $RATE cps, $CALL_MS ms each, over $ROOMS rooms"
set +e
( cd "$WORK" && sipp -sf "$WORK/$XML" -inf "$WORK/rooms.csv" "127.0.0.1:$SIP_PORT" \
    -i 127.0.0.1 -mi 127.0.0.1 -r "$RATE" -m "$CALLS" -d "$CALL_MS" -l $((RATE * (CALL_MS / 1000 + 5))) \
    -trace_screen -screen_file "$WORK/screen.txt" -trace_stat -stf "$WORK/stat.csv" \
    -nostdin -timeout $((SECONDS_ + CALL_MS / 1000 + 60)) > "$WORK/sipp.out" 2>&1 )
STATUS=$?
set -e
sed -n '/Statistics Screen/,$p' "$WORK/screen.txt" | grep -vE '^\s*$' | head -60
echo "sipp exit status $STATUS (0: all calls successful)"
if [ "$LOG_LEVEL" != warn ]; then
  echo "server: $(grep -c ' joined room=' "$WORK/server.log") joins, $(grep -c ' left room=' "$WORK/server.log") leaves"
fi
exit "$STATUS"
