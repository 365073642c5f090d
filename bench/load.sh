#!/usr/bin/env bash
# CPU cost of `sluice load` against wrk on the same nginx backend (-c64, one thread each), two
# rounds alternating; then the RSS of `sluice load` at 10,000 connections and the accuracy of
# --rate. Usage: [PORT=9001] [DURATION=8s] bench/load.sh [path/to/sluice]   (default: build/sluice)
# PORT moves the anchor backend off 9001 when that port is taken.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
sluice="${1:-$root/build/sluice}"
anchor="$root/../shared/anchors/nginx-backend.conf"
duration="${DURATION:-8s}"
port="${PORT:-9001}"
url="http://127.0.0.1:$port/"

[[ -x "$sluice" ]] || { echo "no sluice binary at $sluice" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 2; }
[[ -f "$anchor" ]] || { echo "missing $anchor" >&2; exit 2; }

dir="$(mktemp -d)"
nginx_pid=""
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

start_nginx() {  # $1: worker_connections
  [[ -n "$nginx_pid" ]] && { kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; }
  sed -e "s|ANCHOR_DIR|$dir|g" -e "s|worker_connections [0-9]*|worker_connections $1|" \
    -e "s|127.0.0.1:9001|127.0.0.1:$port|" \
    "$anchor" > "$dir/nginx.conf"
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off; master_process off;" \
    2> "$dir/nginx.stderr" &
  nginx_pid=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx did not start: $(cat "$dir/nginx.stderr")" >&2
  exit 1
}

# Runs a command; prints "CPU_SECONDS" (user + system of the command and its children).
cpu_of() {
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" > "$dir/out" 2>&1; } 2>&1 )
  awk '{ printf "%.3f", $1 + $2 }' <<< "$t"
}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "port $port is already in use: stop the other backend or set PORT" >&2
  exit 1
fi
start_nginx 4096

printf '%-6s %-7s %12s %10s %14s\n' round tool requests cpu_s us_per_req
declare -a wrk_cost sluice_cost
for round in 1 2; do
  cpu=$(cpu_of wrk -t1 -c64 -d"$duration" "$url")
  n=$(awk '/requests in/ { print $1 }' "$dir/out")
  wrk_cost[$round]=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.3f", c / n * 1e6 }')
  printf '%-6s %-7s %12s %10s %14s\n' "$round" wrk "$n" "$cpu" "${wrk_cost[$round]}"

  cpu=$(cpu_of "$sluice" load "$url" -c64 -t1 -d"$duration" --json "$dir/sluice.json")
  n=$(grep -o '"requests":[0-9]*' "$dir/sluice.json" | head -1 | cut -d: -f2)
  sluice_cost[$round]=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.3f", c / n * 1e6 }')
  printf '%-6s %-7s %12s %10s %14s\n' "$round" sluice "$n" "$cpu" "${sluice_cost[$round]}"
done
ratio=$(awk -v s1="${sluice_cost[1]}" -v s2="${sluice_cost[2]}" -v w1="${wrk_cost[1]}" \
  -v w2="${wrk_cost[2]}" 'BEGIN { printf "%.2f", (s1 + s2) / (w1 + w2) }')
echo "CPU per request, sluice / wrk: ${ratio}x (required <= 1.2x, aim <= 1.0x)"

# RSS at 10,000 connections: the backend needs room for them.
start_nginx 20000
"$sluice" load "$url" -c10000 -t1 -d5s --timeout 10s -q --json "$dir/c10k.json" > "$dir/c10k.out" 2>&1 &
load_pid=$!
peak=0
while kill -0 "$load_pid" 2>/dev/null; do
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$load_pid/status" 2>/dev/null || echo 0)
  [[ -n "$hwm" && "$hwm" -gt "$peak" ]] && peak=$hwm
  sleep 0.2
done
wait "$load_pid" || true
c10k_rps=$(grep -o '"rps":[0-9.]*' "$dir/c10k.json" | head -1 | cut -d: -f2)
c10k_err=$(grep -o '"errors":[0-9]*' "$dir/c10k.json" | head -1 | cut -d: -f2)
awk -v k="$peak" -v r="$c10k_rps" -v e="$c10k_err" \
  'BEGIN { printf "RSS at 10,000 connections: %.1f MB peak (%.0f req/s, %d errors; aim <= 100 MB)\n", k / 1024, r, e }'

# --rate accuracy.
start_nginx 4096
for rate in 1000 20000; do
  "$sluice" load "$url" --rate "$rate" -t1 -d5s -q --json "$dir/rate.json" > /dev/null
  got=$(grep -o '"rps":[0-9.]*' "$dir/rate.json" | head -1 | cut -d: -f2)
  awk -v want="$rate" -v got="$got" \
    'BEGIN { printf "--rate %d: measured %.1f req/s (%+.2f%%; required within 1%%)\n", want, got, (got - want) / want * 100 }'
done
