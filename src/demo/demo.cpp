#include "demo/demo.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/address.hpp"
#include "common/process.hpp"

namespace sluice::demo {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback_sockaddr(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Reads a number field ("rps": 123.4) from a result file; enough for the summary line.
double number_after(const std::string& json, const std::string& key, size_t from = 0) {
  size_t at = json.find("\"" + key + "\":", from);
  if (at == std::string::npos) return 0;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

const char* kScenario = R"(# The demo's workload: item reads with Zipf popularity, and orders.
timeout = "10s"

[[request]]
name = "item"
weight = 80
method = "GET"
path = "/api/items/${zipf:20000:1.0}"
expect = [200, 304]

[[request]]
name = "order"
weight = 20
method = "POST"
path = "/api/orders?item=${zipf:20000:1.0}"
headers = { "Content-Type" = "application/json" }
body = '{"item": ${zipf:20000:1.0}, "quantity": ${randint:1:5}}'
expect = [201]
)";

std::string gateway_config(uint16_t listen, uint16_t admin, uint16_t backend, int instances) {
  std::string eps;
  for (int i = 0; i < instances; ++i)
    eps += (i ? ", \"127.0.0.1:" : "\"127.0.0.1:") + std::to_string(backend + i) + "\"";
  // Admission: the instances serve 10 requests each at once; the gateway keeps the rest in
  // its own bounded queue instead of piling them up inside the backend.
  return "# The demo's gateway: every instance balanced, connections kept alive and bounded,\n"
         "# item reads cached and purged by the orders that change them, admission control.\n"
         "[server]\nlisten = \"127.0.0.1:" +
         std::to_string(listen) + "\"\nadmin = \"127.0.0.1:" + std::to_string(admin) +
         "\"\nworkers = 0\n\n[cache]\nmax_memory = \"64MB\"\n\n"
         "[upstream.shop]\nendpoints = [" +
         eps +
         "]\nbalance = \"least_conn\"\nmax_connections = 64\nidle_timeout = \"60s\"\n"
         "concurrency = " +
         std::to_string(instances * 10) +
         "\nqueue_limit = 1000\nqueue_timeout = \"5s\"\n\n"
         "[[route]]\nname = \"items\"\npath = \"/api/items/\"\nupstream = \"shop\"\n"
         "timeout = \"10s\"\ncache = { ttl = \"30s\" }\n\n"
         "[[route]]\nname = \"orders\"\npath = \"/api/orders\"\nupstream = \"shop\"\n"
         "timeout = \"10s\"\ncache = { ttl = \"0s\", invalidate = "
         "[\"/api/items/{query:item}\"] }\n\n"
         "[[route]]\nname = \"api\"\npath = \"/api/\"\nupstream = \"shop\"\ntimeout = "
         "\"10s\"\n";
}

// The body of GET `path` on a loopback port (HTTP/1.0, read to the close); empty on failure.
std::string loopback_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_in addr = loopback_sockaddr(port);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0 && out.size() < (1u << 20);)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : out.substr(body + 4);
}

struct Phase {
  std::string json;
  int status = -1;
};

Phase run_load(const std::string& self, const fs::path& dir, const std::string& name,
               const std::string& url, const DemoOptions& o, pid_t watch) {
  fs::path json = dir / (name + ".json");
  std::vector<std::string> argv = {
      self,
      "load",
      "--scenario",
      (dir / "scenario.toml").string(),
      url,
      "-c",
      std::to_string(o.connections),
      "-d",
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(o.phase).count()) + "ms",
      "--json",
      json.string(),
      "--watch-pid",
      std::to_string(watch),
      "-q"};
  std::fprintf(stderr, "sluice demo: %s: %d connections for %s at %s\n", name.c_str(),
               o.connections, format_duration(o.phase).c_str(), url.c_str());
  auto load =
      ChildProcess::spawn(argv, (dir / (name + ".txt")).string(), (dir / (name + ".err")).string());
  Phase p;
  p.status =
      load.wait(std::chrono::duration_cast<std::chrono::milliseconds>(o.phase) + 60s).value_or(-1);
  p.json = read_text(json);
  return p;
}

}  // namespace

int run_demo(const DemoOptions& o) {
  const std::string self = self_executable();
  fs::path dir = fs::temp_directory_path() / ("sluice-demo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  uint16_t backend_port = free_loopback_ports(o.instances);
  uint16_t gateway_port = free_loopback_ports(2);
  if (!backend_port || !gateway_port) {
    std::fprintf(stderr, "sluice demo: no free loopback ports\n");
    return 1;
  }
  write_text(dir / "scenario.toml", kScenario);
  write_text(dir / "gateway.toml",
             gateway_config(gateway_port, gateway_port + 1, backend_port, o.instances));

  std::fprintf(stderr,
               "sluice demo: reference backend: %d instances on ports %u-%u, each %d requests "
               "at a time, ~%s per request\n",
               o.instances, backend_port, backend_port + o.instances - 1, o.max_concurrency,
               o.latency.c_str());
  auto backend =
      ChildProcess::spawn({self, "backend", "--listen", "127.0.0.1:" + std::to_string(backend_port),
                           "--instances", std::to_string(o.instances), "--max-concurrency",
                           std::to_string(o.max_concurrency), "--latency", o.latency},
                          (dir / "backend.out").string(), (dir / "backend.err").string());
  for (int i = 0; i < o.instances; ++i) {
    if (!wait_for_port(static_cast<uint16_t>(backend_port + i), 10s)) {
      std::fprintf(stderr, "sluice demo: the backend did not start: %s\n",
                   read_text(dir / "backend.err").c_str());
      return 1;
    }
  }

  // 1. Before: straight at one instance, as such a service is usually deployed.
  Phase before = run_load(self, dir, "before", "http://127.0.0.1:" + std::to_string(backend_port),
                          o, backend.pid());

  // 2. After: through the gateway in front of every instance.
  auto gateway =
      ChildProcess::spawn({self, "serve", "--config", (dir / "gateway.toml").string()},
                          (dir / "gateway.out").string(), (dir / "gateway.err").string());
  if (!wait_for_port(gateway_port, 10s)) {
    std::fprintf(stderr, "sluice demo: the gateway did not start: %s\n",
                 read_text(dir / "gateway.err").c_str());
    return 1;
  }
  Phase after = run_load(self, dir, "after", "http://127.0.0.1:" + std::to_string(gateway_port), o,
                         gateway.pid());
  std::string cache_stats = loopback_get(static_cast<uint16_t>(gateway_port + 1), "/cache/stats");
  gateway.stop(SIGTERM, 10s);
  backend.stop(SIGTERM, 10s);

  if (before.json.empty() || after.json.empty()) {
    std::fprintf(stderr, "sluice demo: a load phase failed:\n%s%s",
                 read_text(dir / "before.err").c_str(), read_text(dir / "after.err").c_str());
    return 1;
  }

  std::vector<std::string> compare = {self, "compare", (dir / "before.json").string(),
                                      (dir / "after.json").string()};
  if (!o.html_file.empty()) compare.insert(compare.end(), {"--html", o.html_file});
  auto cmp =
      ChildProcess::spawn(compare, (dir / "compare.txt").string(), (dir / "compare.err").string());
  cmp.wait(30s);
  std::fputs(read_text(dir / "compare.txt").c_str(), stdout);

  double rps_before = number_after(before.json, "rps"), rps_after = number_after(after.json, "rps");
  double p95_before = number_after(before.json, "p95", before.json.find("\"latency_ms\""));
  double p95_after = number_after(after.json, "p95", after.json.find("\"latency_ms\""));
  double hit_rate = number_after(cache_stats, "hit_rate", cache_stats.find("\"total\""));
  std::printf(
      "\nWhat made the difference: the service handles %d requests at a time per instance, so "
      "one instance tops out near %d req/s and the other %d connections wait in its queue "
      "(p95 %.0f ms). Through the gateway the same %d connections are spread over %d instances "
      "by least-connections balancing, on a bounded pool of kept-alive upstream connections; "
      "%.0f%% of the item reads are answered from the gateway's cache (orders purge the items "
      "they change), and admission control holds the rest in the gateway's own queue so no "
      "instance is given more than it can serve: %.0f -> %.0f req/s (%.1fx) and p95 %.0f -> "
      "%.0f ms.\n",
      o.max_concurrency, static_cast<int>(o.max_concurrency * 1000 / 20),
      o.connections - o.max_concurrency, p95_before, o.connections, o.instances, hit_rate * 100,
      rps_before, rps_after, rps_before > 0 ? rps_after / rps_before : 0.0, p95_before, p95_after);

  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file, std::ios::binary);
    out << "{\"before\": " << before.json << ",\n\"after\": " << after.json << "}\n";
    if (!out) {
      std::fprintf(stderr, "sluice demo: cannot write %s\n", o.json_file.c_str());
      return 6;
    }
  }
  return 0;
}

}  // namespace sluice::demo
