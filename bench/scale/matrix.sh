#!/usr/bin/env bash
# A grid of bench/scale/run.sh runs; prints a Markdown table to stdout (progress on stderr).
#
#   bench/scale/matrix.sh [SECONDS] [GRID…]
#
# GRID entries are TARGET:ROOMS:PER_ROOM (default: konferenz at 1×10, 10×10, 50×10, 200×10,
# 1×50, 1×100, 1×250, 1×500 and janus at 1×10, 10×10, 50×10). Every run takes the benchmark
# lock on its own (flock /tmp/konferenz-bench.lock), so other measurements can interleave
# but never overlap; the binaries are built once up front. SECONDS: measured window per run
# (default 30). Extra konferenz-load arguments: LOAD_ARGS="--loss 5".
set -euo pipefail
SECS=${1:-30}
shift || true
GRID=("$@")
if [ ${#GRID[@]} -eq 0 ]; then
  GRID=(konferenz:1:10 konferenz:10:10 konferenz:50:10 konferenz:200:10
        konferenz:1:50 konferenz:1:100 konferenz:1:250 konferenz:1:500
        janus:1:10 janus:10:10 janus:50:10)
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cargo build --release -q -p konferenz-server -p konferenz-load --manifest-path "$ROOT/Cargo.toml"
# Private copies: someone else's build must not swap the binaries between runs.
BIN_DIR=$(mktemp -d -t konferenz-matrix-bin-XXXXXX)
cp "$ROOT/target/release/konferenz" "$ROOT/target/release/konferenz-load" "$BIN_DIR/"
export BIN_DIR
export BUILD_ID
BUILD_ID=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
echo "binaries of $BUILD_ID in $BIN_DIR" >&2
LOCK=${LOCK:-/tmp/konferenz-bench.lock}
DIRS=()
for entry in "${GRID[@]}"; do
  IFS=: read -r target rooms per <<<"$entry"
  n=$((rooms * per))
  rate=$(( n >= 500 ? 100 : 50 ))
  out=$(mktemp)
  echo "== $target ${rooms}x$per ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  # shellcheck disable=SC2086
  flock "$LOCK" env NO_BUILD=1 RATE=$rate RESULT_DIR_FILE="$out" \
    "$HERE/run.sh" "$target" "$rooms" "$per" "$SECS" ${LOAD_ARGS:-} >&2 || true
  DIRS+=("$(cat "$out")")
  rm -f "$out"
done
python3 - "${DIRS[@]}" <<'PY'
import json, sys
print("| target | rooms × per room | participants | CPU µs / participant-s | % of a core | RSS KiB / participant | ticks > 2 ms | ticks > 10 ms | bridge p50 / p99 ms | loss / late+missing % | tool late p99 ms, CPU % |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for d in sys.argv[1:]:
    try:
        s = json.load(open(f"{d}/summary.json"))
    except Exception:
        print(f"| ? | run in {d} produced no summary | | | | | | | | | |"); continue
    f = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
    late = "-" if s["target"] != "konferenz" else (f"{100 * s['ticks_late_2ms'] / s['ticks']:.3f} %" if s["ticks"] else "0")
    over = "-" if s["target"] != "konferenz" else f"{s['ticks_over_10ms']:.0f}"
    print(f"| {s['target']} | {s['rooms']} × {s['per_room']} | {s['participants']} | {f(s['cpu_us_per_participant_s'], 0)} | {f(s['cpu_pct_of_core'])} | {f(s['rss_kib_per_participant'])} | {late} | {over} | {f(s['bridge_p50_ms'])} / {f(s['bridge_p99_ms'])} | {f(s['loss_pct'], 3)} / {f(s['late_or_missing_pct'], 3)} | {f(s['tool_late_p99_ms'], 2)}, {f(s['tool_cpu_pct'], 0)} |")
PY
