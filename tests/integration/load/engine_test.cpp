// `sluice load` against a real nginx: what it counts is what the server saw.
#include <signal.h>

#include <thread>

#include "load_support.hpp"

namespace sluice::test {
namespace {

TEST(LoadEngine, RequestCountMatchesTheServerLog) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", url_of(nginx), "-n", "3000", "-c", "8", "-t", "2", "--json", json});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::string j = read_file(json);
  EXPECT_EQ(json_number(j, "requests"), 3000);
  EXPECT_EQ(json_number(j, "errors"), 0);
  EXPECT_EQ(nginx.access_log().size(), 3000u);
  double p50 = json_number(j, "p50", "latency_ms"), p90 = json_number(j, "p90", "latency_ms"),
         p95 = json_number(j, "p95", "latency_ms"), p99 = json_number(j, "p99", "latency_ms"),
         p999 = json_number(j, "p999", "latency_ms"), max = json_number(j, "max", "latency_ms");
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p95);
  EXPECT_LE(p95, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, max);
  EXPECT_NE(r.out.find("p99"), std::string::npos);
  // Keep-alive: 8 connections carried everything.
  std::set<std::string> conns;
  for (auto& line : nginx.access_log())
    conns.insert(line.substr(0, line.find(' ')));
  EXPECT_EQ(conns.size(), 8u);
}

TEST(LoadEngine, TimedClosedRunCountsEveryAnsweredRequest) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", url_of(nginx), "-d", "1s", "-c", "4", "-t", "1", "--json", json,
                   "--watch-pid", std::to_string(std::stoi(read_file(nginx.dir() / "nginx.pid")))});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string j = read_file(json);
  EXPECT_EQ(json_number(j, "requests"), static_cast<double>(nginx.access_log().size()));
  EXPECT_NEAR(json_number(j, "duration_s"), 1.0, 0.2);
  EXPECT_GT(json_number(j, "max_rss_kib", "server"), 0);
}

TEST(LoadEngine, NoKeepaliveUsesOneConnectionPerRequest) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice(
      {"load", url_of(nginx), "-n", "300", "-c", "4", "-t", "1", "--no-keepalive", "--json", json});
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> conns;
  for (auto& line : nginx.access_log())
    conns.insert(line.substr(0, line.find(' ')));
  EXPECT_EQ(conns.size(), 300u);
  std::string j = read_file(json);
  EXPECT_GT(json_number(j, "p50", "connect_ms"), 0);
  EXPECT_NE(r.out.find("connect"), std::string::npos);
}

TEST(LoadEngine, CacheHitRatioFromXCache) {
  NginxOptions opts;
  opts.locations =
      "location /hit { add_header X-Cache HIT; return 200 \"h\\n\"; }\n"
      "location /miss { add_header X-Cache MISS; return 200 \"m\\n\"; }";
  Nginx nginx(opts);
  TempDir tmp;
  write_file(tmp / "s.toml",
             "total_requests = 400\nconnections = 2\nthreads = 1\n"
             "[[request]]\nname = \"hit\"\nweight = 3\npath = \"/hit\"\n"
             "[[request]]\nname = \"miss\"\nweight = 1\npath = \"/miss\"\n"
             "[[request]]\nname = \"head\"\nweight = 1\nmethod = \"HEAD\"\n"
             "path = \"/hit\"\n");
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", url_of(nginx), "--scenario", (tmp / "s.toml").string(), "--json", json});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string j = read_file(json);
  EXPECT_EQ(json_number(j, "errors"), 0);
  double hits = json_number(j, "hits", "cache"), misses = json_number(j, "misses", "cache");
  EXPECT_EQ(hits + misses, 400);
  EXPECT_NEAR(json_number(j, "hit_ratio", "cache"), 0.8, 0.06);
  EXPECT_NE(r.out.find("hit ratio"), std::string::npos);
}

TEST(LoadEngine, RateIsHeld) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", url_of(nginx), "--rate", "500", "-d", "2s", "-t", "2", "--json", json});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string j = read_file(json);
  double log = static_cast<double>(nginx.access_log().size());
  EXPECT_NEAR(log, 1000, 10);
  EXPECT_EQ(json_number(j, "requests"), log);
  EXPECT_NEAR(json_number(j, "rps"), 500, 10);
}

TEST(LoadEngine, StalledServerShowsInTheOpenModelPercentiles) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  pid_t pid = std::stoi(read_file(nginx.dir() / "nginx.pid"));
  std::thread staller([pid] {
    std::this_thread::sleep_for(1s);
    kill(pid, SIGSTOP);
    std::this_thread::sleep_for(1s);
    kill(pid, SIGCONT);
  });
  auto r = sluice({"load", url_of(nginx), "--rate", "200", "-d", "3s", "-t", "1", "--json", json});
  staller.join();
  ASSERT_EQ(r.status, 0) << r.err;
  std::string j = read_file(json);
  EXPECT_EQ(json_number(j, "errors"), 0);
  EXPECT_NEAR(json_number(j, "requests"), 600, 6);
  // Coordinated omission corrected: requests due during the stall waited for it.
  EXPECT_GE(json_number(j, "p99", "latency_ms"), 900);
  EXPECT_GE(json_number(j, "max", "latency_ms"), 950);
}

TEST(LoadEngine, UnansweredRequestsTimeOut) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  pid_t pid = std::stoi(read_file(nginx.dir() / "nginx.pid"));
  kill(pid, SIGSTOP);  // the kernel still accepts connections; nothing answers
  auto r = sluice({"load", url_of(nginx), "-c", "2", "-t", "1", "-d", "1s", "--timeout", "300ms",
                   "--json", json, "--threshold", "errors<1%"});
  kill(pid, SIGCONT);
  EXPECT_EQ(r.status, 1) << r.err;
  std::string j = read_file(json);
  EXPECT_GE(json_number(j, "timeout", "errors_by_kind"), 4);
  EXPECT_EQ(json_number(j, "errors"), json_number(j, "requests"));
  EXPECT_NE(r.out.find("timeout: "), std::string::npos) << r.out;
}

TEST(LoadEngine, MaxInflightCountsLateSends) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  pid_t pid = std::stoi(read_file(nginx.dir() / "nginx.pid"));
  std::thread staller([pid] {
    std::this_thread::sleep_for(300ms);
    kill(pid, SIGSTOP);
    std::this_thread::sleep_for(400ms);
    kill(pid, SIGCONT);
  });
  auto r = sluice({"load", url_of(nginx), "--rate", "200", "--max-inflight", "2", "-d", "1500ms",
                   "-t", "1", "--json", json});
  staller.join();
  ASSERT_EQ(r.status, 0) << r.err;
  std::string j = read_file(json);
  // About 80 requests fell due while both connections waited on the stalled server.
  EXPECT_GE(json_number(j, "late"), 40);
  EXPECT_NEAR(json_number(j, "requests"), 300, 3);
  EXPECT_NE(r.out.find("late sends"), std::string::npos);
}

TEST(LoadEngine, StagesRampTheRate) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice(
      {"load", url_of(nginx), "--rate", "0", "--stages", "2s:400", "-t", "1", "--json", json});
  ASSERT_EQ(r.status, 0) << r.err;
  auto per_second = json_series(read_file(json), "requests");
  ASSERT_GE(per_second.size(), 2u);
  // Linear 0 -> 400/s over 2 s: ~100 in the first second, ~300 in the second.
  EXPECT_NEAR(per_second[0], 100, 15);
  EXPECT_NEAR(per_second[1], 300, 15);
  EXPECT_NEAR(static_cast<double>(nginx.access_log().size()), 400, 10);
}

TEST(LoadEngine, StagesRampConnections) {
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", url_of(nginx), "--stages", "1s:2,1s:6", "-t", "1", "--json", json});
  ASSERT_EQ(r.status, 0) << r.err;
  auto targets = json_series(read_file(json), "target");
  ASSERT_GE(targets.size(), 2u);
  EXPECT_LE(targets[0], 2);
  EXPECT_GE(targets[1], 5);
  std::set<std::string> conns;
  for (auto& line : nginx.access_log())
    conns.insert(line.substr(0, line.find(' ')));
  EXPECT_GE(conns.size(), 6u);
}

}  // namespace
}  // namespace sluice::test
