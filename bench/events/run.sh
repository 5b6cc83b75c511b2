#!/usr/bin/env bash
# The window's performance benchmark (issue 10): with PARTICIPANTS calls in room 800, how
# fast STREAMS open event streams receive each mute change; the API's latency under that
# load; the window's first load on loopback.
#
#   bench/events/run.sh [PARTICIPANTS] [STREAMS] [CHANGES]        (defaults 200 100 200)
#
# Builds the release binaries, writes a temporary config (SIP 127.0.0.1:$SIP_PORT, HTTP
# :$HTTP_PORT, metrics :$METRICS_PORT, RTP 20000-39999, log level warn), adds room 800 and
# starts `konferenz serve`. With AUTH=organiser (default) the API is called as organiser 201,
# to whom the room is shared, with an API token (`konferenz token create`: every request then
# looks the token up in SQLite, as a browser session would be); AUTH=admin uses the local
# administrator's token file (DIR/admin-token, checked in memory).
#
#  1. the window's first load, idle (bench/events/window.py: `/` and every script and
#     stylesheet it pulls in, cold = the first request after the start, then fresh and
#     revalidating loads);
#  2. `konferenz-load call` puts PARTICIPANTS calls into room 800 at $RATE/s, G.711 media
#     flowing both ways, held long enough for the rest;
#  3. `konferenz-load events` waits until they are all connected, opens STREAMS event streams
#     (GET /api/v1/events?room=800, one connection each), makes CHANGES mute changes at
#     $CHANGE_RATE/s (POST /api/v1/rooms/800/calls/N/mute: each call in turn muted, then
#     unmuted) while GETting the participant list $LIST_RATE times a second, and reports
#     POST → event on every stream, the POST's and the GET's latency (p50/p99/max) and every
#     missed event;
#  4. the window's load again, with the calls up.
#
# Prints one summary line (also summary.txt); everything (events.json, load.json,
# window-*.json, server log, config) stays in the run's temp dir. Nothing is pinned: the
# server, the call load and the measuring client share the machine's cores; the load
# average before and after is in the summary — re-run when it was high.
#
# Environment: SIP_PORT (47060), HTTP_PORT (47080), METRICS_PORT (47464), RATE (joins/s, 50),
# CHANGE_RATE (20), LIST_RATE (10), AUTH (organiser|admin), NO_BUILD=1 skips the build,
# BIN_DIR (default target/release) and BUILD_ID (what to report as the build) for prebuilt
# copies.
set -euo pipefail

PARTICIPANTS=${1:-200}
STREAMS=${2:-100}
CHANGES=${3:-200}
SIP_PORT=${SIP_PORT:-47060}
HTTP_PORT=${HTTP_PORT:-47080}
METRICS_PORT=${METRICS_PORT:-47464}
RATE=${RATE:-50}
CHANGE_RATE=${CHANGE_RATE:-20}
LIST_RATE=${LIST_RATE:-10}
AUTH=${AUTH:-organiser}
case "$AUTH" in organiser | admin) ;; *) echo "AUTH must be organiser or admin" >&2; exit 2 ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -q -p konferenz-server -p konferenz-load --manifest-path "$ROOT/Cargo.toml"
  BUILD_ID=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
fi
BUILD_ID=${BUILD_ID:-unknown (NO_BUILD)}
BIN_DIR=${BIN_DIR:-$ROOT/target/release}
BIN="$BIN_DIR/konferenz"
LOAD="$BIN_DIR/konferenz-load"

WORK=$(mktemp -d -t konferenz-events-XXXXXX)
SERVER_PID=
LOAD_PID=
cleanup() {
  if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
LOAD_BEFORE=$(loadavg)

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
K=("$BIN" --config "$WORK/konferenz.toml")
"${K[@]}" room add --number 800 >/dev/null
if [ "$AUTH" = organiser ]; then
  head -c 18 /dev/urandom | base64 | "${K[@]}" user add --number 201 --name Bench --organiser \
    --password-stdin >/dev/null
  (umask 077 && "${K[@]}" token create --user 201 --name bench > "$WORK/token" 2>/dev/null)
fi

"${K[@]}" serve > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
API="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 100); do
  [ -s "$WORK/admin-token" ] && curl -sf -o /dev/null "$API/healthz" && break
  sleep 0.1
done
[ -s "$WORK/admin-token" ] || { echo "server did not start:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
ADMIN=(-H "Authorization: Bearer $(cat "$WORK/admin-token")")
if [ "$AUTH" = organiser ]; then
  curl -sf -X PUT "${ADMIN[@]}" "$API/api/v1/rooms/800/shares/201" \
    || { echo "sharing room 800 with 201 failed" >&2; exit 1; }
else
  cp "$WORK/admin-token" "$WORK/token"
fi

# 1. The window, idle: the first request after the start is the cold load.
python3 "$HERE/window.py" "$API" --label idle --json "$WORK/window-idle.json" > "$WORK/window-idle.txt" || true

# 2. The calls: held for the changes plus a margin (they hang up by themselves).
HOLD=$(( (CHANGES + CHANGE_RATE - 1) / CHANGE_RATE + 25 ))
"$LOAD" --json call --server "127.0.0.1:$SIP_PORT" --rooms 1 --room-base 800 -n "$PARTICIPANTS" \
  --rate "$RATE" --duration "${HOLD}s" --warmup 1s --quiet-timeout 5s --setup-timeout 60s \
  --watch-pid "$SERVER_PID" --metrics-url "http://127.0.0.1:$METRICS_PORT/metrics" \
  > "$WORK/load.json" 2> "$WORK/load.err" &
LOAD_PID=$!

# 3. The event streams and the API under that load.
LOAD_START=$(loadavg)
CPU0=$(cpu_ticks "$SERVER_PID")
T0=$(date +%s.%N)
set +e
"$LOAD" --json events --http "127.0.0.1:$HTTP_PORT" --token-file "$WORK/token" --room 800 \
  --streams "$STREAMS" --changes "$CHANGES" --change-rate "$CHANGE_RATE" --list-rate "$LIST_RATE" \
  --participants "$PARTICIPANTS" --wait-timeout 120s > "$WORK/events.json" 2> "$WORK/events.err"
EVENTS_STATUS=$?
set -e
T1=$(date +%s.%N)
CPU1=$(cpu_ticks "$SERVER_PID")
LOAD_AFTER=$(loadavg)

# 4. The window with the calls up.
UP=$(curl -sf "${ADMIN[@]}" "$API/api/v1/rooms/800/participants" \
  | python3 -c 'import json,sys; print(sum(p["state"] == "connected" for p in json.load(sys.stdin)))' || echo '?')
python3 "$HERE/window.py" "$API" --label "$UP in calls" --json "$WORK/window-load.json" > "$WORK/window-load.txt" || true

set +e
wait "$LOAD_PID"
LOAD_STATUS=$?
set -e
LOAD_PID=

python3 - "$WORK" "$EVENTS_STATUS" "$LOAD_STATUS" "$AUTH" "$BUILD_ID" "$LOAD_BEFORE" "$LOAD_START" \
  "$LOAD_AFTER" "$CPU0" "$CPU1" "$T0" "$T1" "$(getconf CLK_TCK)" <<'PY' | tee "$WORK/summary.txt"
import json, sys
(work, ev_status, load_status, auth, build, load_before, load_start, load_after,
 cpu0, cpu1, t0, t1, hz) = sys.argv[1:]
def read(name):
    try:
        return json.load(open(f"{work}/{name}"))
    except Exception:
        return None
def f(s):
    v = lambda x: "-" if x is None else f"{x:.1f}"
    return f"{v(s['p50'])}/{v(s['p99'])}/{v(s['max'])} ms"
parts = []
e = read("events.json")
if e:
    parts += [
        f"events: {e['participants']} participants, {e['streams_connected']}/{e['streams']} streams, "
        f"{e['changes_ok']}/{e['changes']} changes at {e['change_rate_achieved']:.1f}/s",
        f"delivery p50/p99/max {f(e['delivery_ms'])} ({e['delivery_ms']['count']} stream-events, "
        f"missed {e['missed']}), slowest stream per change {f(e['delivery_slowest_stream_ms'])}",
        f"mute POST {f(e['mute_post_ms'])}",
        f"participants GET {f(e['list_get_ms'])} ({e['list_get_ms']['count']}, {e['list_bytes']} bytes)",
        f"failures {e['failures']} (exit {ev_status})",
    ]
else:
    parts.append(f"events: no report (exit {ev_status}; see {work}/events.err)")
cpu = (int(cpu1) - int(cpu0)) / int(hz) / max(float(t1) - float(t0), 1e-9) * 100
parts.append(f"server CPU {cpu:.0f} % of a core meanwhile")
for name in ("window-idle.json", "window-load.json"):
    w = read(name)
    if w:
        err = f", ERRORS {w['errors']}" if w["errors"] else ""
        parts.append(f"window ({w['label']}) {w['files']} files {w['bytes'] / 1024:.0f} KiB "
                     f"{w['round_trips']} round trips: {'cold' if w['label'] == 'idle' else 'first'} {w['first_ms']} ms, full {w['full_ms_median']} ms, "
                     f"revalidate {w['revalidate_ms_median']} ms{err}")
l = read("load.json")
if l:
    parts.append(f"calls {l['calls']['answered']}/{l['calls']['attempted']} answered, "
                 f"loss {l['streams']['loss_pct']:.3f} %, call failures {l['failures']} (exit {load_status})")
parts += [f"auth {auth}", f"load avg {load_before} before, {load_start} at start, {load_after} after",
          f"build {build}", f"[{work}]"]
print("; ".join(parts))
PY
