#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "exposition.hpp"
#include "metrics/registry.hpp"
#include "metrics/snapshot.hpp"

using namespace sluice::metrics;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST(Render, TextLinesVerbatim) {
  Registry reg;
  auto c = reg.counter("app_requests_total", "Requests answered.",
                       Series::product({{"route", {"api"}}, {"code", {"200", "503"}}}));
  auto h = reg.histogram("app_duration_seconds", "Request duration.", {0.005, 0.25, 1},
                         Series::product({{"route", {"api"}}}));
  auto g = reg.gauge("app_up", "Up.");
  auto& w = reg.add_worker();
  w.add(c.at(0, 0), 2);
  w.observe(h.at(0), 0.001);
  w.observe(h.at(0), 0.5);
  w.set(g.at(0), 1);
  std::string text = render_text(reg.collect());

  EXPECT_EQ(text.rfind("# HELP app_requests_total Requests answered.\n"
                       "# TYPE app_requests_total counter\n"
                       "app_requests_total{route=\"api\",code=\"200\"} 2\n"
                       "app_requests_total{route=\"api\",code=\"503\"} 0\n",
                       0),
            0u)
      << text;
  EXPECT_TRUE(has_line(text, "# TYPE app_duration_seconds histogram")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_bucket{route=\"api\",le=\"0.005\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_bucket{route=\"api\",le=\"0.25\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_bucket{route=\"api\",le=\"1\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_bucket{route=\"api\",le=\"+Inf\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_sum{route=\"api\"} 0.501")) << text;
  EXPECT_TRUE(has_line(text, "app_duration_seconds_count{route=\"api\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "app_up 1")) << text;

  std::string error;
  auto parsed = exposition::parse_text(text, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->type.at("app_duration_seconds"), "histogram");
  EXPECT_EQ(parsed->help.at("app_up"), "Up.");
  EXPECT_EQ(parsed->samples.size(), 2u + 4u + 2u + 1u);
}

TEST(Render, LabelValuesAndHelpAreEscaped) {
  Registry reg;
  auto c = reg.counter("esc_total", "Back\\slash and\nnewline \"quotes stay\".",
                       Series::product({{"path", {"a\"b\\c\nd"}}}));
  reg.add_worker().add(c.at(0));
  std::string text = render_text(reg.collect());
  EXPECT_TRUE(has_line(text, "# HELP esc_total Back\\\\slash and\\nnewline \"quotes stay\"."))
      << text;
  EXPECT_TRUE(has_line(text, "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1")) << text;
  std::string error;
  auto parsed = exposition::parse_text(text, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->value("esc_total", {{"path", "a\"b\\c\nd"}}), 1);
  EXPECT_EQ(parsed->help.at("esc_total"), "Back\\slash and\nnewline \"quotes stay\".");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(Render, Numbers) {
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(12), "12");
  EXPECT_EQ(format_number(0.005), "0.005");
  EXPECT_EQ(format_number(2.5), "2.5");
  EXPECT_EQ(format_number(1e21), "1e+21");
  EXPECT_EQ(format_number(INFINITY), "+Inf");
  EXPECT_EQ(format_number(-INFINITY), "-Inf");
  EXPECT_EQ(format_number(NAN), "NaN");
}

TEST(Render, JsonIsValidAndCarriesTheSameNumbers) {
  Registry reg;
  auto c = reg.counter("j_total", "Quote \" and \\ and \x01 control.",
                       Series::product({{"route", {"a\"b", "c\n"}}}));
  auto h = reg.histogram("j_seconds", "H.", {0.1, 1});
  reg.callback("j_weird", "Non-finite values become null.", MetricType::gauge, {},
               [](CallbackSink& out) { out.add(NAN); });
  auto& w = reg.add_worker();
  w.add(c.at(0), 5);
  w.observe(h.at(0), 0.05);
  w.observe(h.at(0), 3);
  std::string json = render_json(reg.collect());
  EXPECT_TRUE(exposition::valid_json(json)) << json;
  EXPECT_NE(json.find("{\"labels\":{\"route\":\"a\\\"b\"},\"value\":5}"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\\u0001"), std::string::npos) << json;
  EXPECT_NE(json.find("\"count\":2,\"sum\":3.05,\"buckets\":[{\"le\":0.1,\"count\":1},"
                      "{\"le\":1,\"count\":1},{\"le\":\"+Inf\",\"count\":2}]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"value\":null"), std::string::npos) << json;
  EXPECT_TRUE(exposition::valid_json(render_json(Snapshot{})));
}

TEST(Render, CheckersRejectGarbage) {
  EXPECT_FALSE(exposition::valid_json("{\"a\":}"));
  EXPECT_FALSE(exposition::valid_json("{\"a\":1,}"));
  EXPECT_FALSE(exposition::valid_json("[1 2]"));
  EXPECT_FALSE(exposition::valid_json("NaN"));
  std::string error;
  EXPECT_FALSE(exposition::parse_text("a{b=\"c} 1\n", error));
  EXPECT_FALSE(exposition::parse_text("a 1", error));
  EXPECT_FALSE(exposition::parse_text("a{b=\"c\"}\n", error));
}
