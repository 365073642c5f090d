#!/usr/bin/env bash
# Memory of a long `sluice load` run and the cost of its self-health measurements.
#
#   1. An open-model run at RATE (20,000 req/s) for DURATION against a local nginx, sampling the
#      generator's RSS every 10 s: the growth per second of timeline, and the bytes the per-second
#      histograms take (from the JSON), extrapolated to 24 h.
#   2. The same with --series-memory 1MiB, so the cap is reached within the run and old seconds
#      are folded: RSS must stay flat once it is.
#   3. With BASELINE=path/to/an/older/sluice: CPU seconds per request of both binaries (-c64,
#      one thread, two rounds alternating), i.e. the overhead of self-health.
#
# Usage: [RATE=20000] [DURATION=120s] [PORT=9011] [BASELINE=...] bench/load_health.sh [sluice]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
sluice="${1:-$root/build/sluice}"
rate="${RATE:-20000}"
duration="${DURATION:-120s}"
port="${PORT:-9011}"
url="http://127.0.0.1:$port/"
[[ -x "$sluice" ]] || { echo "no sluice binary at $sluice" >&2; exit 2; }

dir="$(mktemp -d)"
nginx_pid=""
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "port $port is already in use: set PORT" >&2
  exit 1
fi
mkdir -p "$dir/tmp"
cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:$port; location / { return 200 "hello\n"; } }
}
EOF
/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off; master_process off;" \
  2> "$dir/nginx.stderr" &
nginx_pid=$!
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done

rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Runs `sluice load` in the background, sampling its RSS every 10 s; then a summary. RSS growth is
# taken between 10 s and the last sample before the end of the schedule (the JSON is built after
# it, which is not growth of the run).
measure() {  # $1: label, rest: extra flags
  local label="$1"
  shift
  "$sluice" load "$url" --rate "$rate" -d "$duration" -t1 -q --json "$dir/$label.json" "$@" \
    > "$dir/$label.out" 2>&1 &
  local pid=$! t=0
  : > "$dir/$label.rss"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    t=$((t + 10))
    local now
    now=$(rss_kib "$pid")
    [[ -n "$now" && "$now" -gt 0 ]] && echo "$t $now" >> "$dir/$label.rss" &&
      echo "  $label: t=${t}s rss=${now} KiB"
  done
  wait "$pid" || true
  python3 - "$dir/$label.json" "$dir/$label.rss" "$label" <<'PY'
import json, sys
path, rss_path, label = sys.argv[1:4]
d = json.load(open(path))
samples = [tuple(map(int, l.split())) for l in open(rss_path) if l.strip()]
end = d["health"]["window_s"] or d["duration_s"]
during = [s for s in samples if s[0] <= end - 5]
(t0, r0), (t1, r1) = during[0], during[-1]
growth = (r1 - r0) * 1024 / max(1, t1 - t0)
tl, n, h = d["timeline"], len(d["series"]), d["health"]
print(f"{label}: {d['rps']:.0f} req/s for {n} s, trustworthy={d['trustworthy']}, "
      f"busiest thread {h['max_thread_cpu_pct']:.0f}% CPU, late sends {d['late']}")
print(f"{label}: histograms {tl['histogram_bytes'] / 1024:.0f} KiB at {tl['span_s']} s a bin "
      f"(budget {tl['budget_bytes'] / 1048576:.0f} MiB): {tl['histogram_bytes'] / n:.0f} B per "
      f"second of timeline")
print(f"{label}: RSS {r0} KiB at {t0} s, {r1} KiB at {t1} s: {growth:.0f} B/s; "
      f"peak after the run (JSON built) {samples[-1][1]} KiB")
PY
}

echo "timeline memory at $rate req/s for $duration"
measure default
measure capped --series-memory 1MiB

if [[ -n "${BASELINE:-}" ]]; then
  echo "CPU per request, -c64 -t1 -d8s (us), baseline vs this build"
  for round in 1 2; do
    for bin in "$BASELINE" "$sluice"; do
      t=$( { TIMEFORMAT='%U %S'; time "$bin" load "$url" -c64 -t1 -d8s -q --json "$dir/cpu.json" \
        > /dev/null 2>&1; } 2>&1 )
      n=$(grep -o '"requests":[0-9]*' "$dir/cpu.json" | head -1 | cut -d: -f2)
      awk -v t="$t" -v n="$n" -v b="$bin" -v r="$round" \
        'BEGIN { split(t, a, " "); printf "  round %d %-40s %9d req %7.3f us/req\n", r, b, n, (a[1] + a[2]) / n * 1e6 }'
    done
  done
fi
