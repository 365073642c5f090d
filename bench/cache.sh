#!/usr/bin/env bash
# Response cache throughput: wrk -t1 -c64, one worker each, in front of the anchor nginx backend.
#   hit:  sluice (route with cache = { ttl = "10m" }) against nginx proxy_cache, on one URL that
#         is always a hit, alternating, twice each.
#   miss: every request a new URL (a miss and a fill; stored until adaptive admission finds the
#         keys never return, with evictions once the cache is full) through a cached route,
#         against the same route without a cache; and, with admission = "always", the cost of a
#         miss that is stored every time.
# Prints req/s, p50, p99 and the ratios.
# Usage: bench/cache.sh [BUILD_DIR]   (needs nginx, wrk; run on a quiet machine)
#   BENCH_DURATION (hit runs, 8s), BENCH_FILL_DURATION (4s), BENCH_MISS_DURATION (4s),
#   BENCH_MISS_ROUNDS (6)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
anchors="$here/../shared/anchors"
duration="${BENCH_DURATION:-8s}"
dir="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

for f in nginx-backend.conf nginx-proxy.conf; do sed "s#ANCHOR_DIR#$dir#g" "$anchors/$f" > "$dir/$f"; done
mkdir -p "$dir/cache"
# nginx's workers run as www-data: they must be able to reach and write the proxy_cache directory.
chmod 755 "$dir"
chown www-data "$dir/cache" 2>/dev/null || chmod 777 "$dir/cache"
gateway() {  # port cache-table-or-empty [admission]
  cat <<TOML
[server]
listen = "127.0.0.1:$1"
workers = 1
[cache]
max_memory = "64MB"
admission = "${3:-adaptive}"
[upstream.be]
endpoints = ["127.0.0.1:9001"]
max_connections = 64
[[route]]
path = "/"
upstream = "be"
$2
TOML
}
gateway 8085 'cache = { ttl = "10m" }' > "$dir/cached.toml"
gateway 8084 '' > "$dir/plain.toml"
gateway 8086 'cache = { ttl = "10m" }' always > "$dir/always.toml"
# A prefix per wrk run: without it every run would request /m/1, /m/2, ... again, and a later
# run could hit what an earlier one stored.
cat > "$dir/unique.lua" <<'LUA'
local n = 0
local run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
request = function() n = n + 1; return wrk.format(nil, "/m/" .. run .. "/" .. n) end
LUA

nginx -c "$dir/nginx-backend.conf" -g 'daemon off;' & pids+=($!)
nginx -c "$dir/nginx-proxy.conf" -g 'daemon off;' & pids+=($!)
"$build/sluice" serve --config "$dir/cached.toml" 2>"$dir/cached.err" & pids+=($!)
"$build/sluice" serve --config "$dir/plain.toml" 2>"$dir/plain.err" & pids+=($!)
"$build/sluice" serve --config "$dir/always.toml" 2>"$dir/always.err" & pids+=($!)
sleep 1
curl -s -o /dev/null http://127.0.0.1:8083/hot; curl -s -o /dev/null http://127.0.0.1:8085/hot
for port in 8083 8085; do
  status=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/hot" | tr -d '\r' | awk -F': ' 'NR==1 {s=$0} tolower($1)=="x-cache" {print s" X-Cache "$2}')
  case "$status" in *" 200 "*"X-Cache HIT") ;; *) echo "port $port is not answering cache hits: $status" >&2; exit 1 ;; esac
done

. "$here/bench/lib.sh"
run() { wrk_run "$@"; }  # name url [wrk args...]

for round in 1 2; do
  run nginx-cache-hit http://127.0.0.1:8083/hot
  run sluice-cache-hit http://127.0.0.1:8085/hot
done
# The miss side differs by a few percent, less than this host's drift between runs: first fill
# both caches (a long-running gateway's cache is full, so its misses evict), then short
# alternating rounds, summarised by the median of the per-round ratios, in req/s and in each
# gateway's CPU per request, which drifts less.
fill_duration="${BENCH_FILL_DURATION:-4s}"
wrk -t1 -c64 -d"$fill_duration" -s "$dir/unique.lua" http://127.0.0.1:8085/ >/dev/null
wrk -t1 -c64 -d"$fill_duration" -s "$dir/unique.lua" http://127.0.0.1:8086/ >/dev/null
duration="${BENCH_MISS_DURATION:-4s}"
for round in $(seq "${BENCH_MISS_ROUNDS:-6}"); do
  run sluice-no-cache http://127.0.0.1:8084/ -s "$dir/unique.lua"
  run sluice-cache-miss http://127.0.0.1:8085/ -s "$dir/unique.lua"
  run sluice-miss-stored http://127.0.0.1:8086/ -s "$dir/unique.lua"
done
curl -s http://127.0.0.1:8085/ >/dev/null
awk "$awk_median"'
  {rps[$1]+=$2; n[$1]++; r[$1, n[$1]] = $2; c[$1, n[$1]] = $3}
  END {
    h=rps["sluice-cache-hit"]/n["sluice-cache-hit"]; ng=rps["nginx-cache-hit"]/n["nginx-cache-hit"];
    printf "\nhit: sluice %.0f req/s, nginx proxy_cache %.0f req/s: %.2fx\n", h, ng, h/ng;
    k = n["sluice-no-cache"];
    for (i = 1; i <= k; i++) {
      mr[i] = r["sluice-cache-miss", i] / r["sluice-no-cache", i]; mc[i] = c["sluice-cache-miss", i] / c["sluice-no-cache", i]
      ar[i] = r["sluice-miss-stored", i] / r["sluice-no-cache", i]; ac[i] = c["sluice-miss-stored", i] / c["sluice-no-cache", i]
    }
    printf "miss vs same route without cache, median of %d rounds: %+.1f%% req/s, %+.1f%% cpu per request\n", k, (median(mr, k) - 1) * 100, (median(mc, k) - 1) * 100
    printf "miss stored every time (admission = \"always\"): %+.1f%% req/s, %+.1f%% cpu per request\n", (median(ar, k) - 1) * 100, (median(ac, k) - 1) * 100
  }' "$dir/results"
