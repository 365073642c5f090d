#!/usr/bin/env bash
# Proxy throughput and latency: wrk -t1 -c64 against nginx (keep-alive reverse proxy, 1 worker),
# HAProxy (1 thread) and sluice (workers = 1), all in front of the same nginx backend, alternating,
# twice each. Prints req/s, p50, p99, the proxy's CPU time per request, and the ratios.
# Then the memory of 10,000 idle client keep-alive connections held open to sluice.
# Usage: bench/proxy.sh [BUILD_DIR]   (needs nginx, haproxy, wrk; run on a quiet machine)
#   BENCH_DURATION (8s), BENCH_ROUNDS (2; the closed-loop p99 drifts between rounds more than it
#   differs between proxies, so compare medians over 8 or more rounds)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
anchors="$here/../shared/anchors"
duration="${BENCH_DURATION:-8s}"
dir="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

for f in nginx-backend.conf nginx-proxy.conf haproxy.cfg; do sed "s#ANCHOR_DIR#$dir#g" "$anchors/$f" > "$dir/$f"; done
mkdir -p "$dir/cache"
cat > "$dir/sluice.toml" <<TOML
[server]
listen = "127.0.0.1:8084"
workers = 1
[upstream.be]
endpoints = ["127.0.0.1:9001"]
max_connections = 64
[[route]]
path = "/"
upstream = "be"
TOML

nginx -c "$dir/nginx-backend.conf" -g 'daemon off;' & pids+=($!)
nginx -c "$dir/nginx-proxy.conf" -g 'daemon off;' & pids+=($!)
haproxy -f "$dir/haproxy.cfg" -db >/dev/null 2>&1 & pids+=($!)
"$build/sluice" serve --config "$dir/sluice.toml" 2>"$dir/sluice.err" & pids+=($!)
sleep 1

. "$here/bench/lib.sh"
run() { wrk_run "$1" "http://127.0.0.1:$2/"; }  # name port

for round in $(seq "${BENCH_ROUNDS:-2}"); do
  run nginx 8081
  run haproxy 8082
  run sluice 8084
done

awk "$awk_median"'
  {rps[$1]+=$2; cpu[$1]+=$3; n[$1]++; p99[$1, n[$1]] = $4}
  END {
    for (name in n) { for (i = 1; i <= n[name]; i++) v[i] = p99[name, i]; med[name] = median(v, n[name]) }
    s=rps["sluice"]/n["sluice"]; ng=rps["nginx"]/n["nginx"]; hp=rps["haproxy"]/n["haproxy"];
    printf "\nmean req/s: sluice %.0f, nginx %.0f, haproxy %.0f\n", s, ng, hp;
    printf "ratio sluice/nginx %.2fx, sluice/haproxy %.2fx\n", s/ng, s/hp;
    printf "cpu per request: sluice %.2f us, nginx %.2f us, haproxy %.2f us\n", cpu["sluice"]/n["sluice"], cpu["nginx"]/n["nginx"], cpu["haproxy"]/n["haproxy"];
    printf "median p99 over %d rounds: sluice %.2f ms, nginx %.2f ms, haproxy %.2f ms (sluice/nginx %.2f)\n", n["sluice"], med["sluice"], med["nginx"], med["haproxy"], med["sluice"]/med["nginx"]
  }' "$dir/results"

# Memory per idle client connection.
pid=$(ss -ltnpH "sport = :8084" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
python3 - "$pid" <<'PY' &
import socket, sys, time
conns = []
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", 8084))
    s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
    conns.append(s)
for s in conns:
    s.recv(4096)
time.sleep(3)
PY
holder=$!
sleep 2.5
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
wait "$holder" || true
awk -v a="$rss_after" -v b="$rss_before" 'BEGIN {printf "10,000 idle keep-alive connections: RSS +%.1f MB, %.2f KB per connection\n", (a-b)/1024, (a-b)/10000}'
