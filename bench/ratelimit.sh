#!/usr/bin/env bash
# Throughput cost of a rate limit: wrk -t1 -c64 against sluice (workers = 1) in front of an nginx
# backend, once with no limit on the route and once with a per-IP limit high enough that nothing
# is rejected, alternating, twice each. Prints req/s of each and the cost in % (target: <= 5%).
# Usage: bench/ratelimit.sh [BUILD_DIR]   (needs nginx and wrk; run on a quiet machine)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
duration="${BENCH_DURATION:-5s}"
dir="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:9191 reuseport backlog=4096;
    location / { return 200 "hello world from backend\n"; }
  }
}
CONF
sluice_config() {  # PORT EXTRA_ROUTE_KEYS
  cat <<TOML
[server]
listen = "127.0.0.1:$1"
workers = 1
[upstream.be]
endpoints = ["127.0.0.1:9191"]
max_connections = 64
[[route]]
path = "/"
upstream = "be"
$2
TOML
}
sluice_config 8191 "" > "$dir/plain.toml"
sluice_config 8192 'rate_limit = [{ key = "ip", rate = "100000000/s", burst = 100000000 }]' \
  > "$dir/limited.toml"

nginx -c "$dir/nginx.conf" -g 'daemon off;' & pids+=($!)
"$build/sluice" serve --config "$dir/plain.toml" 2>"$dir/plain.err" & pids+=($!)
"$build/sluice" serve --config "$dir/limited.toml" 2>"$dir/limited.err" & pids+=($!)
sleep 1

rps() {  # PORT -> requests/s; fails when any answer is not 2xx
  local out
  out="$(wrk -t1 -c64 -d"$duration" "http://127.0.0.1:$1/")"
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers on port $1" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

plain=() limited=()
for round in 1 2; do
  plain+=("$(rps 8191)")
  limited+=("$(rps 8192)")
  echo "round $round: no limit ${plain[-1]} req/s, rate limit ${limited[-1]} req/s"
done
awk -v a="${plain[*]}" -v b="${limited[*]}" 'BEGIN {
  split(a, p, " "); split(b, l, " ");
  pm = (p[1] + p[2]) / 2; lm = (l[1] + l[2]) / 2;
  printf "no limit %.0f req/s, rate limit %.0f req/s, cost %.1f%%\n", pm, lm, (1 - lm / pm) * 100
}'
