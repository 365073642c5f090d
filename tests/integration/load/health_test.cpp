// Self-health of `sluice load` and the regression gate of `sluice compare`, on real processes:
// a generator starved of CPU, a rate the server cannot reach, two runs of the same server and
// of a slowed one, and a capacity search against a backend whose capacity is known.
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include "load_support.hpp"

namespace sluice::test {
namespace {

// The last CPU this process may run on: the spinner and the starved generator share it.
int last_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  int last = 0;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &set)) last = i;
  return last;
}

TEST(LoadHealth, GeneratorStarvedOfCpuIsFlagged) {
  if (std::system("command -v taskset > /dev/null 2>&1") != 0) GTEST_SKIP() << "no taskset";
  Nginx nginx;
  TempDir tmp;
  auto json = (tmp / "starved.json").string();
  std::string cpu = std::to_string(last_allowed_cpu());
  // A process spinning on one core, and the generator at the lowest priority on the same core:
  // it gets a sliver of that CPU and waits for it every time it wakes up.
  Process spinner = Process::spawn({"taskset", "-c", cpu, "sh", "-c", "while :; do :; done"});
  std::vector<std::string> starved = {"taskset", "-c",          cpu,    "nice",       "-n",
                                      "19",      SLUICE_BINARY, "load", url_of(nginx)};
  auto args = starved;
  args.insert(args.end(), {"--rate", "1000", "-d", "2s", "-t", "1", "--timeout", "1s", "--json",
                           json, "--threshold", "p99<30s"});
  auto r = run_command(args, 60s);
  auto cap_args = starved;
  cap_args.insert(cap_args.end(), {"--find-capacity", "--slo", "p95<30s,errors<100%", "--rate",
                                   "1000", "-d", "1s", "-t", "1", "--timeout", "1s"});
  auto cap = run_command(cap_args, 60s);
  spinner.stop(9, 2s);

  EXPECT_EQ(r.status, 7) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT TRUSTWORTHY"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("generator was saturated"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--allow-saturated"), std::string::npos) << r.err;
  std::string j = read_file(json);
  EXPECT_TRUE(json_has(j, "\"trustworthy\":false")) << j.substr(0, 600);
  EXPECT_TRUE(json_has(j, "\"generator_saturated\""));
  EXPECT_GE(json_number(j, "saturated_seconds", "health"), 1);
  EXPECT_TRUE(json_has(j, "\"saturated\":true"));  // and the seconds are marked

  // The capacity search stops at once: the generator, not the server, was the limit.
  EXPECT_EQ(cap.status, 7) << cap.out << cap.err;
  EXPECT_NE(cap.out.find("the generator, not the server, was the limit"), std::string::npos)
      << cap.out;
  EXPECT_NE(cap.out.find("add threads (-t)"), std::string::npos);

  // The marks travel with the file: a merge with thresholds and a compare with gates refuse the
  // numbers unless told to accept them.
  EXPECT_EQ(sluice({"merge", json, "--threshold", "p99<30s"}).status, 7);
  EXPECT_EQ(sluice({"merge", json, "--threshold", "p99<30s", "--allow-saturated"}).status, 0);
  auto c = sluice({"compare", json, json, "--fail-if", "p99>+10%"});
  EXPECT_EQ(c.status, 7) << c.out << c.err;
  EXPECT_NE(c.out.find("BEFORE is not trustworthy"), std::string::npos) << c.out;
  EXPECT_EQ(sluice({"compare", json, json, "--fail-if", "p99>+10%", "--allow-saturated"}).status,
            0);
}

TEST(LoadHealth, OpenModelRateTheServerCannotReachIsFlagged) {
  // 5 slots of a fixed 20 ms: at most 250 req/s, whatever the generator does.
  RefBackend backend({"--max-concurrency", "5", "--latency", "20ms", "--latency-dist", "fixed"});
  TempDir tmp;
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", backend.url(), "--rate", "300", "-d", "3s", "-t", "1", "--json", json,
                   "--threshold", "p99<30s"},
                  60s);
  EXPECT_EQ(r.status, 7) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT TRUSTWORTHY"), std::string::npos) << r.out;
  // The target is what the schedule called for over the measured time: 300/s give or take.
  EXPECT_NE(r.out.find("req/s of the 30"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("req/s target ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did not keep up"), std::string::npos) << r.out;
  std::string j = read_file(json);
  EXPECT_TRUE(json_has(j, "\"rate_not_reached\""));
  EXPECT_FALSE(json_has(j, "\"generator_saturated\"")) << j.substr(0, 800);
  EXPECT_LT(json_number(j, "achieved_ratio", "health"), 0.95);
  EXPECT_GT(json_number(j, "achieved_ratio", "health"), 0.7);
  // Both latencies are reported: corrected for coordinated omission, and the service time.
  EXPECT_GE(json_number(j, "p99", "latency_ms"), json_number(j, "p99", "service_time_ms"));
  EXPECT_NE(r.out.find("service    p50"), std::string::npos);
}

TEST(LoadCompare, SameServerIsWithinNoiseAndASlowerOneFailsTheGate) {
  RefBackend normal({"--latency", "20ms"});
  RefBackend slowed({"--latency", "20ms", "--add-latency", "30ms"});
  TempDir tmp;
  auto run = [&](const RefBackend& b, const std::string& name) {
    auto path = (tmp / name).string();
    auto r = sluice({"load", b.url(), "--rate", "400", "-d", "5s", "-t", "1", "--json", path}, 60s);
    EXPECT_EQ(r.status, 0) << r.err;
    return path;
  };
  auto a = run(normal, "a.json"), b = run(normal, "b.json"), s = run(slowed, "s.json");
  auto same = sluice({"compare", a, b, "--fail-if", "p99>+10%", "--fail-if", "rps<-5%", "--html",
                      (tmp / "c.html").string()});
  EXPECT_EQ(same.status, 0) << same.out << same.err;
  auto row = [](const std::string& out, const std::string& label) {
    size_t p = out.find("\n" + label + " ");
    return p == std::string::npos ? std::string()
                                  : out.substr(p + 1, out.find('\n', p + 1) - p - 1);
  };
  EXPECT_NE(row(same.out, "p99").find("within noise"), std::string::npos) << same.out;
  EXPECT_NE(row(same.out, "throughput (req/s)").find("within noise"), std::string::npos)
      << same.out;
  EXPECT_NE(same.out.find("✓ p99>+10%"), std::string::npos) << same.out;
  EXPECT_NE(read_file(tmp / "c.html").find("<table id=\"gates\""), std::string::npos);

  auto slower = sluice({"compare", a, s, "--fail-if", "p99>+10%", "--fail-if", "rps<-5%"});
  EXPECT_EQ(slower.status, 1) << slower.out << slower.err;
  EXPECT_NE(row(slower.out, "p99").find("worse"), std::string::npos) << slower.out;
  EXPECT_NE(row(slower.out, "p50").find("worse"), std::string::npos) << slower.out;
  EXPECT_NE(slower.out.find("✗ p99>+10%"), std::string::npos) << slower.out;
  EXPECT_NE(slower.out.find("regression"), std::string::npos) << slower.out;
  EXPECT_NE(slower.out.find("✓ rps<-5%"), std::string::npos) << slower.out;
}

TEST(LoadCompare, MalformedGateIsAClearError) {
  TempDir tmp;
  for (const char* bad : {"p99>>10%", "p97>+10%", "p99>fast", "error_rate>+1%", "p99"}) {
    auto r =
        sluice({"compare", (tmp / "a.json").string(), (tmp / "b.json").string(), "--fail-if", bad});
    EXPECT_EQ(r.status, 3) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("bad --fail-if"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  Nginx nginx;
  auto r = sluice({"load", url_of(nginx), "-n", "1", "--series-memory", "lots"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("bad --series-memory"), std::string::npos) << r.err;
}

TEST(LoadCapacity, FindsTheKnownCapacityOfTheBackend) {
  // 10 slots of a fixed 20 ms: 500 req/s.
  RefBackend backend({"--max-concurrency", "10", "--latency", "20ms", "--latency-dist", "fixed"});
  TempDir tmp;
  auto json = (tmp / "cap.json").string(), html = (tmp / "cap.html").string();
  auto r = sluice({"load", backend.url(), "--find-capacity", "--slo", "p95<100ms", "--rate", "100",
                   "-d", "2s", "-t", "1", "--json", json, "--html", html},
                  120s);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  size_t p = r.out.find("capacity: ");
  ASSERT_NE(p, std::string::npos) << r.out;
  double capacity = std::stod(r.out.substr(p + 10));
  EXPECT_GE(capacity, 450) << r.out;
  EXPECT_LE(capacity, 550) << r.out;
  EXPECT_NE(r.out.find("the server was the limit"), std::string::npos) << r.out;
  std::string j = read_file(json);
  EXPECT_TRUE(json_has(j, "\"limit\":\"server\""));
  EXPECT_TRUE(json_has(j, "\"curve\":["));
  double knee = json_number(j, "knee_rps");
  EXPECT_GT(knee, 0) << r.out;
  EXPECT_LE(knee, capacity * 1.1) << r.out;
  std::string page = read_file(html);
  EXPECT_NE(page.find("Latency versus rate"), std::string::npos);
  EXPECT_NE(page.find("<polyline class=\"series\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::test
