# Shared by the bench scripts: wrk runs that also measure the server's CPU per request.
# Needs $dir (results go to $dir/results) and $duration.

# CPU ticks (user+system) of the processes listening on a port.
cpu_of_port() {
  local total=0 pid
  for pid in $(ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat")
    total=$((total + ut + st))
  done
  echo "$total"
}

# wrk_run NAME URL [wrk args...]: wrk -t1 -c64, prints req/s, p50, p99 and the CPU per request
# of whatever listens on the URL's port, and appends "NAME req/s cpu-us p99-ms" to $dir/results.
wrk_run() {
  local name=$1 url=$2; shift 2
  local port=${url#http://*:}; port=${port%%/*}
  local before after out rps p50 p99 reqs us tick
  before=$(cpu_of_port "$port")
  out=$(wrk -t1 -c64 -d"$duration" --latency "$@" "$url")
  after=$(cpu_of_port "$port")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  tick=$(getconf CLK_TCK)
  us=$(awk -v c=$((after - before)) -v t="$tick" -v r="$reqs" 'BEGIN {printf "%.2f", c / t * 1e6 / r}')
  printf '%-18s %10s req/s  p50 %8s  p99 %8s  cpu %6s us/req\n' "$name" "$rps" "$p50" "$p99" "$us"
  echo "$name $rps $us $(in_ms "$p99")" >> "$dir/results"
}

# in_ms VALUE: one of wrk's latencies (655.00us, 2.11ms, 1.02s) in milliseconds.
in_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v !~ /ms$/) n *= 1000; print n }'
}

# An awk function for the scripts' summaries: median(v, n) sorts v[1..n] in place (mawk has no
# asort) and returns its median.
awk_median='
  function median(v, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }'
