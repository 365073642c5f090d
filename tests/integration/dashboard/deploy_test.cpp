// The files of deploy/: Prometheus configuration and rules pass promtool (and their unit tests),
// the Grafana dashboard is JSON that names only contract metrics, the systemd unit verifies.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <set>
#include <string>

#include "support/harness.hpp"

namespace sluice::test {
namespace {

const fs::path kDeploy = fs::path(SLUICE_SOURCE_DIR) / "deploy";

bool have(const std::string& command) {
  return std::system(("command -v " + command + " > /dev/null 2>&1").c_str()) == 0;
}

// The metric names of docs/METRICS.md.
const std::set<std::string> kContract = {
    "sluice_http_requests_total",
    "sluice_http_request_duration_seconds",
    "sluice_upstream_connections",
    "sluice_upstream_requests_total",
    "sluice_upstream_retries_total",
    "sluice_upstream_request_duration_seconds",
    "sluice_upstream_queue_depth",
    "sluice_upstream_endpoint_healthy",
    "sluice_cache_lookups_total",
    "sluice_cache_evictions_total",
    "sluice_cache_served_bytes_total",
    "sluice_cache_stored_bytes",
    "sluice_ratelimit_rejected_total",
    "sluice_admission_shed_total",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_start_time_seconds",
};

// Metric names used in a file, histogram series suffixes taken off.
std::set<std::string> metric_names(const std::string& text) {
  std::set<std::string> names;
  std::regex name(R"(\b(sluice|process)_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = (*it)[0].str();
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (n.size() > strlen(suffix) && n.ends_with(suffix) &&
          kContract.count(n.substr(0, n.size() - strlen(suffix))))
        n.resize(n.size() - strlen(suffix));
    names.insert(n);
  }
  return names;
}

TEST(Deploy, PrometheusConfigAndRulesPassPromtool) {
  if (!have("promtool")) GTEST_SKIP() << "promtool is not installed (apt-get install prometheus)";
  auto dir = (kDeploy / "prometheus").string();
  auto config = run_command({"promtool", "check", "config", dir + "/scrape.yml"});
  EXPECT_EQ(config.status, 0) << config.out << config.err;
  auto rules = run_command({"promtool", "check", "rules", dir + "/alerts.yml"});
  EXPECT_EQ(rules.status, 0) << rules.out << rules.err;
  EXPECT_NE(rules.out.find("SUCCESS: 8 rules found"), std::string::npos) << rules.out;
  auto tests = run_command({"promtool", "test", "rules", dir + "/alerts_test.yml"});
  EXPECT_EQ(tests.status, 0) << tests.out << tests.err;
}

TEST(Deploy, AlertsCoverTheUsualConditionsOnContractMetrics) {
  std::string alerts = read_file(kDeploy / "prometheus" / "alerts.yml");
  for (const char* alert :
       {"SluiceHighErrorRate", "SluiceHighLatencyP95", "SluiceUpstreamQueueSaturated",
        "SluiceEndpointDown", "SluiceMemoryHigh"})
    EXPECT_NE(alerts.find("alert: " + std::string(alert)), std::string::npos) << alert;
  for (const auto& n : metric_names(alerts))
    EXPECT_TRUE(kContract.count(n)) << n << " is not a sluice metric";
  // Every rule waits, and says how bad and what happened.
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t p = alerts.find(s); p != std::string::npos; p = alerts.find(s, p + 1))
      ++n;
    return n;
  };
  size_t rules = count("- alert: ");
  EXPECT_EQ(count("\n        for: "), rules);
  EXPECT_EQ(count("\n          severity: "), rules);
  EXPECT_EQ(count("\n          summary: "), rules);
  EXPECT_EQ(count("\n          description: "), rules);
}

TEST(Deploy, GrafanaDashboardIsJsonOnEveryContractMetric) {
  auto path = kDeploy / "grafana" / "sluice-dashboard.json";
  if (have("python3")) {
    auto parsed = run_command({"python3", "-m", "json.tool", path.string()});
    EXPECT_EQ(parsed.status, 0) << parsed.err;
  }
  std::string json = read_file(path);
  auto used = metric_names(json);
  for (const auto& n : used)
    EXPECT_TRUE(kContract.count(n)) << n << " is not a sluice metric";
  for (const auto& n : kContract)
    EXPECT_TRUE(used.count(n)) << n << " has no panel";
  // The data source is chosen on import or by a variable, never a fixed one.
  EXPECT_NE(json.find("\"uid\": \"${datasource}\""), std::string::npos);
  EXPECT_NE(json.find("\"type\": \"datasource\""), std::string::npos);
  EXPECT_NE(json.find("histogram_quantile(0.95, sum by (le) (rate("
                      "sluice_http_request_duration_seconds_bucket"),
            std::string::npos);
}

TEST(Deploy, SystemdUnitVerifies) {
  std::string unit = read_file(kDeploy / "systemd" / "sluice.service");
  for (const char* line :
       {"Type=simple\n", "ExecStart=/usr/local/bin/sluice serve --config /etc/sluice/sluice.toml\n",
        "KillSignal=SIGTERM\n", "TimeoutStopSec=", "LimitNOFILE=", "DynamicUser=yes\n",
        "NoNewPrivileges=yes\n", "ProtectSystem=strict\n"})
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  EXPECT_EQ(unit.find("ExecReload"), std::string::npos);  // a restart applies a configuration
  if (!have("systemd-analyze") || !fs::exists("/lib/systemd/system/multi-user.target"))
    GTEST_SKIP() << "systemd-analyze or the system's units are missing";
  // Verified in a root of its own that has the binary where the unit expects it.
  TempDir root;
  fs::create_directories(root / "usr/local/bin");
  fs::create_directories(root / "etc/systemd/system");
  fs::create_directories(root / "lib/systemd");
  fs::copy(SLUICE_BINARY, root / "usr/local/bin/sluice");
  fs::copy(kDeploy / "systemd" / "sluice.service", root / "etc/systemd/system/sluice.service");
  fs::copy("/lib/systemd/system", root / "lib/systemd/system",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  auto r = run_command({"systemd-analyze", "verify", "--man=no", "--root=" + root.path().string(),
                        "/etc/systemd/system/sluice.service"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

}  // namespace
}  // namespace sluice::test
