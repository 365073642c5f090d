// Exit statuses, thresholds, scenarios, merge, compare and the HTML report.
#include <cstdio>
#include <cstdlib>

#include "load_support.hpp"

namespace sluice::test {
namespace {

TEST(LoadCli, ThresholdsSetTheExitStatus) {
  Nginx nginx;
  auto pass =
      sluice({"load", "-H", "X-Test: 1", url_of(nginx), "-n", "200", "-c", "2", "-t", "1",
              "--threshold", "p99<10s", "--threshold", "errors<1%", "--threshold", "rps>=1"});
  EXPECT_EQ(pass.status, 0) << pass.err;
  EXPECT_NE(pass.out.find("✓ p99"), std::string::npos) << pass.out;
  EXPECT_NE(pass.out.find("(requirement < 10 s)"), std::string::npos) << pass.out;
  auto fail =
      sluice({"load", url_of(nginx), "-n", "200", "-c", "2", "-t", "1", "--threshold", "p50<1us"});
  EXPECT_EQ(fail.status, 1);
  EXPECT_NE(fail.out.find("✗ p50"), std::string::npos) << fail.out;
}

TEST(LoadCli, BadInputGivesOneLineAndADistinctStatus) {
  Nginx nginx;
  TempDir tmp;
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;
  };
  write_file(tmp / "bad.toml", "[[request]]\npath = \"/\"\nweight = -1\n");
  std::vector<Case> cases = {
      {{"load", "ftp://x/", "-n", "1"}, 2, "invalid URL"},
      {{"load", "http://127.0.0.1:1/", "-n", "1"}, 5, "cannot connect"},
      {{"load", "http://no-such-host.invalid/", "-n", "1"}, 5, "cannot resolve"},
      {{"load", url_of(nginx), "-n", "1", "--threshold", "p95<<1ms"}, 3, "bad threshold"},
      {{"load", url_of(nginx), "--scenario", (tmp / "bad.toml").string()},
       4,
       (tmp / "bad.toml").string() + ":3:10:"},
      {{"load", url_of(nginx), "-d", "soon"}, 2, "bad duration"},
      {{"compare", (tmp / "none.json").string(), (tmp / "none.json").string()}, 6, "cannot read"},
  };
  for (auto& c : cases) {
    auto r = sluice(c.args, 20s);
    EXPECT_EQ(r.status, c.status) << c.args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(LoadCli, ScenarioWeightsTemplatesAndPerRequestThresholds) {
  Nginx nginx;
  TempDir tmp;
  setenv("SLUICE_IT_TOKEN", "s3cret", 1);
  write_file(tmp / "ids.txt", "7\n8\n");
  write_file(tmp / "s.toml",
             "url = \"" + url_of(nginx) +
                 "\"\nconnections = 4\nthreads = 1\ntotal_requests = 4000\n"
                 "[[request]]\nname = \"read\"\nweight = 80\n"
                 "path = \"/p/${zipf:100}\"\nexpect = 200\n"
                 "thresholds = [\"p95<10s\"]\n"
                 "[[request]]\nname = \"cart\"\nweight = 15\nmethod = \"POST\"\n"
                 "path = \"/cart/${line:ids.txt}\"\nbody = \"{\\\"n\\\":${randint:1:5}}\"\n"
                 "[[request]]\nname = \"checkout\"\nweight = 5\nmethod = \"POST\"\n"
                 "path = \"/checkout?t=${SLUICE_IT_TOKEN}\"\nexpect = [201]\n");
  auto json = (tmp / "r.json").string();
  auto r = sluice({"load", "--scenario", (tmp / "s.toml").string(), "--json", json});
  // checkout answers 200, not the expected 201: its check fails and counts as an error.
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  int reads = 0, carts = 0, checkouts = 0;
  for (auto& [uri, n] : count_paths(nginx.access_log())) {
    if (uri.rfind("/p/", 0) == 0) {
      reads += n;
      int id = std::stoi(uri.substr(3));
      EXPECT_TRUE(id >= 1 && id <= 100) << uri;
    } else if (uri == "/cart/7" || uri == "/cart/8") {
      carts += n;
    } else if (uri == "/checkout?t=s3cret") {
      checkouts += n;
    } else {
      ADD_FAILURE() << uri;
    }
  }
  EXPECT_EQ(reads + carts + checkouts, 4000);
  EXPECT_NEAR(reads / 4000.0, 0.80, 0.03);
  EXPECT_NEAR(carts / 4000.0, 0.15, 0.03);
  EXPECT_NEAR(checkouts / 4000.0, 0.05, 0.02);
  std::string j = read_file(json);
  EXPECT_EQ(json_number(j, "check_failed"), checkouts);
  EXPECT_EQ(json_number(j, "requests", "checkout"), checkouts);
  EXPECT_NE(r.out.find("✓ read p95"), std::string::npos) << r.out;
  auto strict = sluice({"load", "--scenario", (tmp / "s.toml").string(), "-n", "100", "--threshold",
                        "checkout:errors<1%"});
  EXPECT_EQ(strict.status, 1) << strict.out;
}

TEST(LoadCli, MergeOfTwoRunsEqualsOneRunOverBoth) {
  Nginx nginx;
  TempDir tmp;
  auto a = (tmp / "a.json").string(), b = (tmp / "b.json").string(), m = (tmp / "m.json").string();
  ASSERT_EQ(sluice({"load", url_of(nginx), "-n", "500", "-c", "2", "-t", "1", "--json", a}).status,
            0);
  ASSERT_EQ(sluice({"load", url_of(nginx), "-n", "700", "-c", "4", "-t", "1", "--json", b}).status,
            0);
  auto r = sluice({"merge", a, b, "--json", m, "--threshold", "p99<10s"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string ja = read_file(a), jb = read_file(b), jm = read_file(m);
  EXPECT_EQ(json_number(jm, "requests"), 1200);
  EXPECT_EQ(json_number(jm, "generators"), 2);
  EXPECT_EQ(nginx.access_log().size(), 1200u);
  auto bins = json_bins(ja, "histogram");
  for (auto& [v, c] : json_bins(jb, "histogram"))
    bins[v] += c;
  EXPECT_EQ(json_bins(jm, "histogram"), bins);
  EXPECT_EQ(json_number(jm, "max", "latency_ms"),
            std::max(json_number(ja, "max", "latency_ms"), json_number(jb, "max", "latency_ms")));
  // Percentiles come from the merged histogram, not an average of the two.
  uint64_t total = 0, seen = 0, p50_bin = 0;
  for (auto& [v, c] : bins)
    total += c;
  for (auto& [v, c] : bins)
    if ((seen += c) * 2 >= total) {
      p50_bin = v;
      break;
    }
  double p50_ns = json_number(jm, "p50", "latency_ms") * 1e6;
  EXPECT_GE(p50_ns + 1, static_cast<double>(p50_bin));
  EXPECT_LE(p50_ns, static_cast<double>(p50_bin) * 1.001 + 2);

  auto c = sluice({"compare", a, b, "--html", (tmp / "c.html").string()});
  ASSERT_EQ(c.status, 0) << c.err;
  for (const char* row :
       {"throughput", "success rate", "requests", "failed", "p50", "p95", "p99", "max", "+40.0%"})
    EXPECT_NE(c.out.find(row), std::string::npos) << row << "\n" << c.out;
  EXPECT_NE(read_file(tmp / "c.html").find("<svg"), std::string::npos);
}

TEST(LoadCli, HtmlReportRendersInChromium) {
  if (std::system("command -v chromium > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  Nginx nginx;
  TempDir tmp;
  auto html = (tmp / "r.html").string();
  auto r = sluice({"load", url_of(nginx), "--rate", "300", "-d", "2s", "-t", "1", "--html", html,
                   "--threshold", "p95<1s"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto dom = run_command(
      {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
       "--no-first-run", "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--enable-logging=stderr", "--v=0",
       "--user-data-dir=" + (tmp / "profile").string(), "--dump-dom", "file://" + html},
      45s);
  ASSERT_EQ(dom.status, 0) << dom.err;
  EXPECT_NE(dom.out.find("<table id=\"thresholds\""), std::string::npos);
  EXPECT_NE(dom.out.find("✓ p95"), std::string::npos);
  // Three charts at least, each with a data line of one point per second.
  std::regex line(R"re(<polyline class="series"[^>]*points="([^"]+)")re");
  int charts_with_data = 0;
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), line);
       it != std::sregex_iterator(); ++it)
    if (std::string points = (*it)[1].str(); std::count(points.begin(), points.end(), ',') >= 2)
      ++charts_with_data;
  EXPECT_GE(charts_with_data, 3) << dom.out.substr(0, 2000);
  EXPECT_EQ(dom.err.find("CONSOLE"), std::string::npos) << dom.err;
  EXPECT_EQ(dom.err.find("Uncaught"), std::string::npos) << dom.err;
}

TEST(LoadCli, FindCapacityBisectsToTheKnee) {
  NginxOptions opts;
  opts.http_extra = "limit_req_zone $binary_remote_addr zone=knee:1m rate=300r/s;";
  // limit_req acts before the content phase, which `return` would skip: serve a file. The burst
  // absorbs the generator's timing jitter on a busy machine (50 ms at the limit), so requests
  // fail only once the rate itself is over it.
  opts.locations =
      "location = /limited { limit_req zone=knee burst=15 nodelay; alias "
      "/usr/share/nginx/html/index.html; }";
  Nginx nginx(opts);
  TempDir tmp;
  auto r =
      sluice({"load", url_of(nginx, "/limited"), "--find-capacity", "--slo", "p95<500ms,errors<1%",
              "--rate", "100", "-d", "500ms", "-t", "1", "--json", (tmp / "cap.json").string()},
             60s);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bisect"), std::string::npos) << r.out;
  size_t p = r.out.find("capacity: ");
  ASSERT_NE(p, std::string::npos) << r.out;
  double capacity = std::stod(r.out.substr(p + 10));
  std::printf("capacity found: %.0f req/s (nginx limits to 300 r/s)\n", capacity);
  EXPECT_GE(capacity, 200) << r.out;
  EXPECT_LE(capacity, 400) << r.out;
  EXPECT_NE(read_file(tmp / "cap.json").find("\"capacity_rps\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::test
