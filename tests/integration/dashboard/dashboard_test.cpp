// The admin listener's dashboard: one self-contained page that polls /stats and shows live
// numbers, rendered by headless Chromium in front of a real gateway and of scripted stats.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "support/harness.hpp"
#include "support/scripted_backend.hpp"

namespace sluice::test {
namespace {

bool have_chromium() {
  return std::system("command -v chromium > /dev/null 2>&1") == 0;
}

// Runs the page for `budget_ms` of virtual time (timers fire at once, fetches are awaited) and
// returns the DOM it left.
CommandResult render(const TempDir& tmp, const std::string& url, int budget_ms = 6000) {
  return run_command(
      {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
       "--no-first-run", "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--enable-logging=stderr", "--v=0",
       "--user-data-dir=" + (tmp / "profile").string(), "--window-size=1400,1200",
       "--virtual-time-budget=" + std::to_string(budget_ms), "--dump-dom", url},
      45s);
}

void expect_no_script_errors(const CommandResult& r) {
  EXPECT_EQ(r.err.find("CONSOLE"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Uncaught"), std::string::npos) << r.err;
}

// What the page rendered: the DOM before its script, whose source holds the same phrases.
std::string rendered(const CommandResult& r) {
  return r.out.substr(0, r.out.find("<script>"));
}

// Text of the element with this id, when it holds text only.
std::string text_of(const std::string& dom, const std::string& id) {
  std::smatch m;
  std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  return std::regex_search(dom, m, re) ? m[1].str() : "";
}

// "12", "3.5", "1.2k", "2.00M" as shown by the page.
double shown_number(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])))) return -1;
  size_t used = 0;
  double v = std::stod(text, &used);
  if (used < text.size() && text[used] == 'k') v *= 1e3;
  if (used < text.size() && text[used] == 'M') v *= 1e6;
  return v;
}

// Points of the longest line drawn for one chart series.
size_t series_points(const std::string& dom, const std::string& key) {
  std::regex line("<polyline class=\"series\" data-series=\"" + key + "\"[^>]*points=\"([^\"]+)\"");
  size_t best = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), line); it != std::sregex_iterator();
       ++it) {
    std::string points = (*it)[1].str();
    best = std::max(best, static_cast<size_t>(std::count(points.begin(), points.end(), ',')));
  }
  return best;
}

struct Gateway {
  Nginx nginx;
  uint16_t port = free_port();
  uint16_t admin = free_port();
  Sluice sluice{"[server]\nlisten = \"127.0.0.1:" + std::to_string(port) +
                    "\"\nadmin = \"127.0.0.1:" + std::to_string(admin) +
                    "\"\nworkers = 2\n\n[upstream.app]\nendpoints = [\"127.0.0.1:" +
                    std::to_string(nginx.port()) +
                    "\"]\n\n[[route]]\npath = \"/api/\"\nupstream = \"app\"\n\n[[route]]\n"
                    "path = \"/static/\"\nupstream = \"app\"\n",
                port};
  Gateway() { EXPECT_TRUE(wait_for_port(admin)); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(admin) + "/"; }
  std::string page() {
    auto r = http_request(admin, "GET", "/");
    return r ? r->body : "";
  }
};

TEST(Dashboard, IsOneHtmlPageWithNothingExternal) {
  Gateway gw;
  auto r = http_request(gw.admin, "GET", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type").rfind("text/html", 0), 0u) << r->header("content-type");
  const std::string& page = r->body;
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("fetch('stats'"), std::string::npos);
  // Nothing is loaded from anywhere: no URLs at all, no script or image sources, no imports.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\ssrc\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(@import|url\s*\()", std::regex::icase)));
  std::regex href(R"re(href\s*=\s*"([^"]*)")re", std::regex::icase);
  for (auto it = std::sregex_iterator(page.begin(), page.end(), href); it != std::sregex_iterator();
       ++it)
    EXPECT_EQ((*it)[1].str().rfind("data:", 0), 0u) << (*it)[0].str();
  // The browser is told so too.
  EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  auto post = http_request(gw.admin, "POST", "/", "x");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST(Dashboard, ShowsLiveNumbersOfARealGateway) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  Gateway gw;
  for (int i = 0; i < 25; ++i)
    ASSERT_TRUE(http_request(gw.port, "GET", "/api/items"));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(http_request(gw.port, "GET", "/nowhere"));
  // Traffic keeps flowing while the page polls, so that rates and percentiles have deltas.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread traffic([&] {
    RawClient c(gw.port);
    while (!stop && c.connected()) {
      if (!c.send("GET /static/app.js HTTP/1.1\r\nHost: test.local\r\n\r\n")) break;
      if (!c.read_response()) break;
      ++sent;
    }
  });
  TempDir tmp;
  auto dom = render(tmp, gw.url());
  stop = true;
  traffic.join();
  ASSERT_EQ(dom.status, 0) << dom.err;
  expect_no_script_errors(dom);
  const std::string d = rendered(dom);
  EXPECT_EQ(text_of(d, "state"), "live") << d;
  EXPECT_TRUE(std::regex_search(d, std::regex("id=\"banner\"[^>]*hidden")));
  EXPECT_GT(sent.load(), 0);
  EXPECT_GE(shown_number(text_of(d, "t-total")), 30) << text_of(d, "t-total");
  EXPECT_GT(shown_number(text_of(d, "t-rps")), 0) << text_of(d, "t-rps");
  for (const char* tile : {"t-p50", "t-p95", "t-p99"})
    EXPECT_TRUE(std::regex_search(text_of(d, tile), std::regex(R"(^[0-9.]+ (µs|ms|s)$)")))
        << tile << ": " << text_of(d, tile);
  EXPECT_GT(shown_number(text_of(d, "t-rss")), 0) << text_of(d, "t-rss");
  EXPECT_GT(shown_number(text_of(d, "t-fds")), 0);
  // Routes by name, with their counts; status classes; charts drawn from several polls.
  for (const char* cell : {">/api/<", ">/static/<", ">none<", ">2xx<", ">4xx<"})
    EXPECT_NE(d.find(cell), std::string::npos) << cell;
  // The /api/ row ends with its request count.
  EXPECT_TRUE(std::regex_search(
      d, std::regex("title=\"/api/\">/api/</td>(?:(?!</tr>).)*<td>25</td></tr>")));
  EXPECT_GE(series_points(d, "rps"), 3u);
  EXPECT_GE(series_points(d, "p95"), 3u);
  EXPECT_GE(series_points(d, "rss"), 3u);
  // Families the gateway reports light up their panels with its own endpoints.
  auto stats = http_request(gw.admin, "GET", "/stats");
  ASSERT_TRUE(stats);
  if (stats->body.find("\"sluice_upstream_endpoint_healthy\"") != std::string::npos) {
    std::string endpoint = "127.0.0.1:" + std::to_string(gw.nginx.port());
    EXPECT_TRUE(std::regex_search(
        d, std::regex(">" + endpoint + "</td><td class=\"l\"><span class=\"up\">● up</span>")))
        << d;
    EXPECT_NE(d.find("app · 1/1 healthy"), std::string::npos);
  }
  if (stats->body.find("\"sluice_upstream_connections\"") != std::string::npos) {
    EXPECT_GE(series_points(d, "idle"), 3u);
  }
}

// A stats document of `polls` seconds of steady traffic; with `all` every family is present.
std::string scripted_stats(int n, bool all) {
  auto family = [](const std::string& name, const std::string& type, const std::string& series) {
    return "\"" + name + "\":{\"type\":\"" + type + "\",\"help\":\"\",\"series\":[" + series + "]}";
  };
  auto histogram = [](const std::string& labels, int count) {
    // Every observation between 10 and 25 ms.
    std::string b;
    for (const char* le : {"0.001", "0.0025", "0.005", "0.01"})
      b += std::string("{\"le\":") + le + ",\"count\":0},";
    for (const char* le : {"0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"})
      b += std::string("{\"le\":") + le + ",\"count\":" + std::to_string(count) + "},";
    b += "{\"le\":\"+Inf\",\"count\":" + std::to_string(count) + "}";
    return "{\"labels\":{" + labels + "},\"count\":" + std::to_string(count) +
           ",\"sum\":" + std::to_string(count * 0.02) + ",\"buckets\":[" + b + "]}";
  };
  auto value = [](const std::string& labels, double v) {
    return "{\"labels\":{" + labels + "},\"value\":" + std::to_string(v) + "}";
  };
  const std::string ep1 = "\"upstream\":\"app\",\"endpoint\":\"127.0.0.1:9001\"";
  const std::string ep2 = "\"upstream\":\"app\",\"endpoint\":\"127.0.0.1:9002\"";
  std::string out = "{";
  out += family("sluice_http_requests_total", "counter",
                value("\"route\":\"/api/\",\"code\":\"200\"", 10 * n) + "," +
                    value("\"route\":\"/api/\",\"code\":\"503\"", n)) +
         ",";
  out += family("sluice_http_request_duration_seconds", "histogram",
                histogram("\"route\":\"/api/\"", 11 * n)) +
         ",";
  if (all) {
    out += family("sluice_upstream_connections", "gauge",
                  value(ep1 + ",\"state\":\"active\"", 3) + "," +
                      value(ep1 + ",\"state\":\"idle\"", 1) + "," +
                      value(ep2 + ",\"state\":\"active\"", 0) + "," +
                      value(ep2 + ",\"state\":\"idle\"", 0)) +
           ",";
    out += family("sluice_upstream_requests_total", "counter",
                  value(ep1, 11 * n) + "," + value(ep2, 0)) +
           ",";
    out += family("sluice_upstream_retries_total", "counter", value(ep1, n)) + ",";
    out += family("sluice_upstream_request_duration_seconds", "histogram", histogram(ep1, 11 * n)) +
           ",";
    out += family("sluice_upstream_queue_depth", "gauge", value("\"upstream\":\"app\"", 4)) + ",";
    out +=
        family("sluice_upstream_endpoint_healthy", "gauge", value(ep1, 1) + "," + value(ep2, 0)) +
        ",";
    out += family("sluice_cache_lookups_total", "counter",
                  value("\"route\":\"/api/\",\"result\":\"hit\"", 3 * n) + "," +
                      value("\"route\":\"/api/\",\"result\":\"miss\"", n)) +
           ",";
    out += family("sluice_cache_evictions_total", "counter", value("", n)) + ",";
    out += family("sluice_cache_served_bytes_total", "counter",
                  value("\"route\":\"/api/\"", 1000 * n)) +
           ",";
    out += family("sluice_cache_stored_bytes", "gauge", value("", 2048)) + ",";
    out += family("sluice_ratelimit_rejected_total", "counter",
                  value("\"route\":\"/api/\",\"limit\":\"ip 10/s\"", 2 * n)) +
           ",";
    out += family("sluice_admission_shed_total", "counter", value("\"route\":\"/api/\"", n)) + ",";
  }
  out += family("process_cpu_seconds_total", "counter", value("", 0.1 * n)) + ",";
  out += family("process_resident_memory_bytes", "gauge", value("", 50e6)) + ",";
  out += family("process_open_fds", "gauge", value("", 17)) + ",";
  out += family("process_start_time_seconds", "gauge", value("", 1.7e9));
  return out + "}";
}

std::string http_ok(const std::string& type, const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type +
         "\r\nCache-Control: no-store\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// The page from a real admin listener, served next to stats the test writes.
class ScriptedStats {
 public:
  // `stats(n)` answers the n-th poll (from 1); an empty string closes the connection unanswered.
  ScriptedStats(std::string page, std::function<std::string(int)> stats)
      : page_(std::move(page)),
        stats_(std::move(stats)),
        backend_([this](const ReceivedRequest& req) {
          BackendReply reply;
          if (req.target == "/") {
            reply.raw = http_ok("text/html; charset=utf-8", page_);
          } else if (req.target == "/stats") {
            std::string body = stats_(++polls_);
            if (body.empty())
              reply.close_no_reply = true;
            else
              reply.raw = http_ok("application/json", body);
          } else {
            reply.raw = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
          }
          return reply;
        }) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(backend_.port()) + "/"; }
  int polls() const { return polls_.load(); }

 private:
  std::string page_;
  std::function<std::string(int)> stats_;
  std::atomic<int> polls_{0};
  ScriptedBackend backend_;
};

TEST(Dashboard, PanelsLightUpWhenTheirFamiliesAppear) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  std::string page = Gateway().page();
  ASSERT_FALSE(page.empty());
  // The first polls see only the request and process families, as a gateway that has not
  // registered the others yet.
  ScriptedStats stats(page, [](int n) { return scripted_stats(n, n > 2); });
  TempDir tmp;
  auto dom = render(tmp, stats.url());
  ASSERT_EQ(dom.status, 0) << dom.err;
  expect_no_script_errors(dom);
  EXPECT_GE(stats.polls(), 4);
  const std::string d = rendered(dom);
  EXPECT_EQ(d.find("no data:"), std::string::npos) << d;
  EXPECT_EQ(text_of(d, "t-hit"), "75%");
  EXPECT_EQ(text_of(d, "t-err"), "9.09%");  // 1 in 11
  // Rates divide by the browser's own time between polls, which jitters on a busy machine.
  EXPECT_NEAR(std::stod("0" + text_of(d, "t-rps")), 11, 0.5);
  EXPECT_NEAR(std::stod("0" + text_of(d, "t-rej")), 3, 0.15);  // 2 rate-limited + 1 shed a second
  // Every observation lies in (10 ms, 25 ms]: the median interpolates to the middle.
  EXPECT_EQ(text_of(d, "t-p50"), "17.5 ms");
  for (const char* cell : {"127.0.0.1:9001", "127.0.0.1:9002", "● up", "● down", "1/2 healthy",
                           "pool 75% busy", "rate limit ip 10/s", "shed by admission"})
    EXPECT_NE(d.find(cell), std::string::npos) << cell;
  EXPECT_NE(d.find("queue <b class=\"warn\">4</b>"), std::string::npos);
  EXPECT_GE(series_points(d, "hit"), 2u);
  EXPECT_GE(series_points(d, "queue"), 2u);
  EXPECT_GE(series_points(d, "rej"), 2u);
}

TEST(Dashboard, SaysNoDataForFamiliesTheGatewayDoesNotReport) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  std::string page = Gateway().page();
  ScriptedStats stats(page, [](int n) { return scripted_stats(n, false); });
  TempDir tmp;
  auto dom = render(tmp, stats.url(), 4000);
  ASSERT_EQ(dom.status, 0) << dom.err;
  expect_no_script_errors(dom);
  const std::string d = rendered(dom);
  for (const char* what : {"no data: upstream metrics", "no data: cache metrics",
                           "no data: rate-limit and admission metrics"})
    EXPECT_NE(d.find(what), std::string::npos) << what;
  EXPECT_EQ(text_of(d, "t-hit"), "–");
  EXPECT_NEAR(std::stod("0" + text_of(d, "t-rps")), 11, 0.5);
  EXPECT_EQ(text_of(d, "state"), "live");
}

TEST(Dashboard, ShowsABannerWhenStatsCannotBeRead) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  std::string page = Gateway().page();
  // Two good polls, then the gateway is gone.
  ScriptedStats stats(page, [](int n) { return n <= 2 ? scripted_stats(n, false) : ""; });
  TempDir tmp;
  auto dom = render(tmp, stats.url(), 5000);
  ASSERT_EQ(dom.status, 0) << dom.err;
  const std::string d = rendered(dom);
  EXPECT_EQ(text_of(d, "state"), "unreachable");
  std::smatch banner;
  ASSERT_TRUE(std::regex_search(d, banner, std::regex("<div id=\"banner\"([^>]*)>([^<]*)<")));
  EXPECT_EQ(banner[1].str().find("hidden"), std::string::npos) << banner[0];
  EXPECT_NE(banner[2].str().find("Cannot read stats"), std::string::npos) << banner[0];
  EXPECT_NE(banner[2].str().find("last update"), std::string::npos) << banner[0];
  EXPECT_NE(d.find("<body class=\"stale\">"), std::string::npos);
  // The numbers of the last good poll stay on screen.
  EXPECT_EQ(text_of(d, "t-total"), "22");
}

}  // namespace
}  // namespace sluice::test
