// `sluice demo` end to end with short phases: it completes, cleans up, and its table and JSON
// are complete and consistent. (The >= 3x claim is checked by the benchmark, not here.)
#include <gtest/gtest.h>

#include "support/harness.hpp"

using namespace sluice::test;

namespace {
double field(const std::string& json, const std::string& key, size_t from) {
  size_t at = json.find("\"" + key + "\":", from);
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}
}  // namespace

TEST(Demo, RunsBothPhasesAndWritesTheReport) {
  TempDir dir;
  auto json = (dir / "demo.json").string(), html = (dir / "demo.html").string();
  auto r = run_command(
      {SLUICE_BINARY, "demo", "--duration", "2s", "-c", "50", "--json", json, "--html", html},
      std::chrono::seconds(60));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* row : {"throughput (req/s)", "success rate", "requests", "failed", "p50", "p95",
                          "p99", "server max RSS", "What made the difference"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  std::string j = read_file(json);
  size_t before = j.find("\"before\""), after = j.find("\"after\"");
  ASSERT_NE(before, std::string::npos);
  ASSERT_NE(after, std::string::npos);
  EXPECT_GT(field(j, "rps", before), 0);
  EXPECT_GT(field(j, "rps", after), 0);
  EXPECT_GT(field(j, "p95", j.find("\"latency_ms\"", before)), 0);
  EXPECT_GT(field(j, "p95", j.find("\"latency_ms\"", after)), 0);
  EXPECT_NE(read_file(html).find("<svg"), std::string::npos);
  // Nothing it started is left listening.
  size_t ports = r.err.find("on ports ");
  ASSERT_NE(ports, std::string::npos) << r.err;
  int first = std::atoi(r.err.c_str() + ports + 9);
  ASSERT_GT(first, 0);
  EXPECT_FALSE(wait_for_port(static_cast<uint16_t>(first), std::chrono::milliseconds(200)));
}
