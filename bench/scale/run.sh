#!/usr/bin/env bash
# One scaling run: the same G.711 media load against konferenz or Janus AudioBridge.
#
#   bench/scale/run.sh konferenz|janus ROOMS PER_ROOM SECONDS [extra konferenz-load args]
#
# Builds the release binaries (konferenz, konferenz-load), starts the target pinned to core 0
# (taskset -c 0) on a temporary config, and runs konferenz-load pinned to core 1 with
# ROOMS×PER_ROOM participants (ROOMS rooms 800…, PER_ROOM in each, joined at $RATE/s) for
# SECONDS of measurement (counted from when every room is quiet after the joins).
#
#  konferenz: SIP on 127.0.0.1:$SIP_PORT, HTTP (API) on 127.0.0.1:$HTTP_PORT, GET /metrics on
#             its own listener 127.0.0.1:$METRICS_PORT, RTP ports 20000-39999 (one pair per
#             participant), log level warn, rooms added with `konferenz room add`;
#             participants call sip:<room>@… (konferenz-load call).
#  janus:     bench/janus/config.sh writes a config folder with only the HTTP transport
#             (127.0.0.1:$JANUS_PORT) and the AudioBridge (RTP 40000-59999); janus runs in the
#             foreground (no daemon); konferenz-load janus creates the rooms (8 kHz, plain RTP
#             allowed) and joins plain-RTP PCMU participants over the HTTP API.
#
# Measured window only (not set-up, not hang-up): konferenz-load --watch-pid samples the
# server's utime+stime (/proc/PID/stat, all threads) and VmRSS at the window's start and end,
# and (konferenz) --metrics-url scrapes GET /metrics (the metrics listener) at both ends. RSS is also sampled here
# before the load and every 10 s (rss.csv). Prints one summary line (also summary.txt);
# everything (report.json, server log, rss.csv) stays in the run's temp dir. Take the
# benchmark lock around it: flock /tmp/konferenz-bench.lock bench/scale/run.sh …
#
# The machine is shared: by default both the target and the load tool run SCHED_FIFO
# priority 10 (chrt -f 10) on their cores, so other people's builds cannot starve them
# (the kernel's RT throttling still leaves others 5 % of each core); SCHED=normal runs them
# as ordinary processes. The scheduling class changes who waits, not what the work costs.
#
# Flood (konferenz only): FLOOD_RATE=N runs SIPp from another address (FLOOD_FROM, default
# 127.0.0.2) at N new calls a second into room 800 for the whole run, while the load measures
# the rooms' audio; with LIMITS=default the server keeps its default [limits] (per-source
# admission on; the load's own address stays within them for up to 200 participants joining
# at < 100/s). The summary adds the flood's refusals (503), ignored INVITEs and admitted calls.
#
# Environment: RATE (joins/s, default 50), SIP_PORT (45060), HTTP_PORT (48080), METRICS_PORT
# (48464), JANUS_PORT (48088), RTP_SOCKETS (load-tool sockets, default 8), SCHED (rt|normal), NO_BUILD=1 skips
# the build, BIN_DIR (where konferenz and konferenz-load are; default target/release) and
# BUILD_ID (what to report as the build, e.g. a git describe) for prebuilt copies.
set -euo pipefail

TARGET=${1:?konferenz or janus}
ROOMS=${2:?rooms}
PER_ROOM=${3:?participants per room}
SECS=${4:?seconds to measure}
shift 4
RATE=${RATE:-50}
SIP_PORT=${SIP_PORT:-45060}
HTTP_PORT=${HTTP_PORT:-48080}
METRICS_PORT=${METRICS_PORT:-48464}
JANUS_PORT=${JANUS_PORT:-48088}
RTP_SOCKETS=${RTP_SOCKETS:-8}
FLOOD_RATE=${FLOOD_RATE:-0}
FLOOD_FROM=${FLOOD_FROM:-127.0.0.2}
LIMITS=${LIMITS:-off}
case "${SCHED:-rt}" in
  rt) PRIO=(chrt -f 10) ;;
  normal) PRIO=() ;;
  *) echo "SCHED must be rt or normal" >&2; exit 2 ;;
esac
N=$((ROOMS * PER_ROOM))

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -q -p konferenz-server -p konferenz-load --manifest-path "$ROOT/Cargo.toml"
  BUILD_ID=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
fi
BIN_DIR=${BIN_DIR:-$ROOT/target/release}
BIN="$BIN_DIR/konferenz"
LOAD="$BIN_DIR/konferenz-load"

WORK=$(mktemp -d -t "konferenz-scale-$TARGET-XXXXXX")
SERVER_PID=
SAMPLER_PID=
FLOOD_PID=
cleanup() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ -n "$FLOOD_PID" ]; then kill "$FLOOD_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
echo "${BUILD_ID:-unknown (NO_BUILD)}" > "$WORK/build.txt"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

case "$TARGET" in
  konferenz)
    cat > "$WORK/konferenz.toml" <<TOML
[sip]
listen = "127.0.0.1:$SIP_PORT"
[rtp]
ports = "20000-39999"
[http]
listen = "127.0.0.1:$HTTP_PORT"
[metrics]
listen = "127.0.0.1:$METRICS_PORT"
$(if [ "$LIMITS" = off ]; then printf '%s\n' "[limits]" \
  "# The load comes from one address, into few rooms: no per-source or per-room limits." \
  "invites_per_source_per_sec = 0" "calls_per_source = 0" "calls_per_room = 0" \
  "invitations_per_user_per_hour = 0"; fi)
[database]
url = "sqlite://$WORK/konferenz.db"
[log]
level = "warn"
TOML
    for ((i = 0; i < ROOMS; i++)); do
      "$BIN" --config "$WORK/konferenz.toml" room add --number $((800 + i)) >/dev/null
    done
    taskset -c 0 "${PRIO[@]}" "$BIN" --config "$WORK/konferenz.toml" serve > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
      grep -q "konferenz listening" "$WORK/server.log" 2>/dev/null && break
      sleep 0.1
    done
    sleep 1 # prompts load after the listen line
    LOAD_ARGS=(call --server "127.0.0.1:$SIP_PORT" --metrics-url "http://127.0.0.1:$METRICS_PORT/metrics")
    ;;
  janus)
    command -v janus >/dev/null || { echo "janus not found (apt-get install janus)" >&2; exit 2; }
    "$ROOT/bench/janus/config.sh" "$WORK/janus" "$JANUS_PORT" 40000-59999
    ( cd "$WORK" && exec taskset -c 0 "${PRIO[@]}" janus -F "$WORK/janus" -C "$WORK/janus/janus.jcfg" --log-stdout -o ) > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$JANUS_PORT/janus/info" && break
      sleep 0.1
    done
    LOAD_ARGS=(janus --url "http://127.0.0.1:$JANUS_PORT/janus")
    ;;
  *) echo "target must be konferenz or janus" >&2; exit 2 ;;
esac

RSS_START=$(rss "$SERVER_PID")
echo "0 $RSS_START" > "$WORK/rss.csv"
( t=0; while sleep 10; do t=$((t + 10)); echo "$t $(rss "$SERVER_PID")" >> "$WORK/rss.csv"; done ) &
SAMPLER_PID=$!

if [ "$FLOOD_RATE" -gt 0 ] && [ "$TARGET" = konferenz ]; then
  # SIPp on core 1 beside the load tool, ordinary priority: the load tool's timing comes first.
  ( cd "$WORK" && exec taskset -c 1 sipp -sf "$ROOT/bench/sipp/uac_flood.xml" -s 800 "127.0.0.1:$SIP_PORT" -nr -recv_timeout 1000 \
      -i "$FLOOD_FROM" -mi "$FLOOD_FROM" -r "$FLOOD_RATE" -l $((FLOOD_RATE * 4)) \
      -trace_stat -fd 5 -stf "$WORK/flood.csv" -nostdin > "$WORK/flood.out" 2>&1 ) &
  FLOOD_PID=$!
fi

set +e
taskset -c 1 "${PRIO[@]}" "$LOAD" --json "${LOAD_ARGS[@]}" -n "$N" --rooms "$ROOMS" --rate "$RATE" \
  --duration "${SECS}s" --rtp-sockets "$RTP_SOCKETS" --setup-timeout 60s \
  --watch-pid "$SERVER_PID" "$@" > "$WORK/report.json" 2> "$WORK/load.err"
STATUS=$?
set -e
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
if [ -n "$FLOOD_PID" ]; then kill "$FLOOD_PID" 2>/dev/null || true; wait "$FLOOD_PID" 2>/dev/null || true; FLOOD_PID=; fi

python3 - "$WORK" "$TARGET" "$ROOMS" "$PER_ROOM" "$RSS_START" "$STATUS" "$FLOOD_RATE" <<'PY' | tee "$WORK/summary.txt"
import json, sys
work, target, rooms, per_room, rss_start, status, flood_rate = sys.argv[1:]
try:
    r = json.load(open(f"{work}/report.json"))
except Exception as e:
    print(f"{target} {rooms}x{per_room}: no report ({e}); see {work}/load.err"); sys.exit(0)
s = r.get("server") or {}
m = s.get("metrics_delta", {})
n = r["streams"]["count"]
rss_per = (s.get("rss_kib_start", 0) - int(rss_start)) / n if n else 0
ticks = m.get("konferenz_mix_ticks_total", 0)
late = m.get("konferenz_mix_ticks_late_total", 0)
def bucket(le):
    return m.get(f'konferenz_mix_tick_lateness_seconds_bucket{{le="{le}"}}', 0)
over10 = m.get("konferenz_mix_tick_lateness_seconds_count", 0) - bucket("0.01")
def sipp_sent():
    # SIPp's own statistics: the new calls it sent and over how long.
    try:
        rows = [l.strip().split(";") for l in open(f"{work}/flood.csv") if l.strip()]
        row = dict(zip(rows[0], rows[-1]))
        h, mi, sec = row["ElapsedTime(C)"].split(":")[:3]
        secs = int(h) * 3600 + int(mi) * 60 + float(sec)
        calls = int(row["OutgoingCall(C)"])
        return f"SIPp sent {calls} new calls in {secs:.0f} s = {calls / max(secs, 1e-9):.0f}/s"
    except Exception as e:
        return f"SIPp statistics unreadable: {e}"
d = r["bridge_delay_ms"]
f = lambda v: "-" if v is None else f"{v:.1f}"
st = r["streams"]
parts = [
    f"{target} {rooms}x{per_room}: {n} participants",
    f"CPU {s.get('cpu_us_per_participant_s', 0):.0f} us/participant-s ({100 * s.get('cpu_system_s', 0) / max(s.get('cpu_s', 0), 1e-9):.0f} % kernel, {s.get('cpu_pct_of_core', 0):.1f} % of a core over {s.get('window_s', 0):.0f} s)",
    f"RSS {rss_per:.1f} KiB/participant ({int(rss_start)} -> {s.get('rss_kib_start', 0)} -> {s.get('rss_kib_end', 0)} KiB)",
]
if target == "konferenz":
    parts.append(f"ticks late>2ms {100 * late / ticks if ticks else 0:.3f} % ({late:.0f}/{ticks:.0f}), >10ms {over10:.0f}, skipped {m.get('konferenz_mix_ticks_skipped_total', 0):.0f}, concealed {m.get('konferenz_jitter_frames_concealed_total', 0):.0f}")
parts += [
    f"bridge p50/p99 {f(d['p50'])}/{f(d['p99'])} ms ({d['count']} samples)",
    f"loss {st['loss_pct']:.3f} %, late+missing {st['late_or_missing_pct']:.3f} %, dropped by tool {r['sent']['dropped']}",
    f"tool late (window) p99 {r['lateness_window']['p99_ms']:.2f} ms, >2ms {r['lateness_window']['over_2ms']}/{r['lateness_window']['ticks']}, tool CPU {(r.get('tool_cpu') or {}).get('pct_of_core', 0):.0f} %",
    f"failures {r['failures']} (exit {status})",
] + ([
    f"flood {flood_rate}/s from another address ({sipp_sent()}): {m.get('konferenz_sip_rejected_rate_total', 0):.0f} refused (503), "
    f"{m.get('konferenz_sip_ignored_rate_total', 0):.0f} ignored, {m.get('konferenz_sip_rejected_overload_total', 0):.0f} refused by the queue guard"
] if int(flood_rate) > 0 else []) + [
    f"build {open(work + '/build.txt').read().strip()}",
    f"[{work}]",
]
print("; ".join(parts))
json.dump({
    "target": target, "rooms": int(rooms), "per_room": int(per_room), "participants": n,
    "cpu_us_per_participant_s": s.get("cpu_us_per_participant_s"), "cpu_pct_of_core": s.get("cpu_pct_of_core"), "cpu_system_s": s.get("cpu_system_s"), "cpu_s": s.get("cpu_s"),
    "window_s": s.get("window_s"), "rss_kib_per_participant": rss_per,
    "rss_kib": [int(rss_start), s.get("rss_kib_start"), s.get("rss_kib_end")],
    "ticks": ticks, "ticks_late_2ms": late, "ticks_over_10ms": over10,
    "ticks_skipped": m.get("konferenz_mix_ticks_skipped_total", 0),
    "concealed": m.get("konferenz_jitter_frames_concealed_total", 0),
    "bridge_p50_ms": d["p50"], "bridge_p99_ms": d["p99"], "bridge_samples": d["count"],
    "loss_pct": st["loss_pct"], "late_or_missing_pct": st["late_or_missing_pct"],
    "dropped_by_tool": r["sent"]["dropped"], "dropped_pct": r["sent"]["dropped_pct"],
    "tool_late_p99_ms": r["lateness_window"]["p99_ms"], "tool_late_over_2ms": r["lateness_window"]["over_2ms"],
    "tool_cpu_pct": (r.get("tool_cpu") or {}).get("pct_of_core"), "failures": r["failures"], "exit": int(status),
    "build": open(work + "/build.txt").read().strip(), "dir": work,
}, open(f"{work}/summary.json", "w"))
PY
echo "$WORK" > "${RESULT_DIR_FILE:-/dev/null}"

