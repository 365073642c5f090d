#include "load/templates.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "load/options.hpp"

namespace sluice::load {
namespace {

std::string render(const Template& t, Rng& rng) {
  std::string s;
  t.render(s, rng);
  return s;
}

TEST(Templates, LiteralAndEnvAreConstant) {
  setenv("SLUICE_TEST_TOKEN", "abc", 1);
  std::string error;
  auto t =
      Template::compile("Bearer ${SLUICE_TEST_TOKEN} $${x} ${env:SLUICE_TEST_TOKEN}", "", error);
  ASSERT_TRUE(t) << error;
  EXPECT_TRUE(t->constant());
  EXPECT_EQ(t->literal(), "Bearer abc ${x} abc");
  EXPECT_FALSE(Template::compile("${NOT_SET_ANYWHERE_42}", "", error));
  EXPECT_NE(error.find("NOT_SET_ANYWHERE_42"), std::string::npos);
}

TEST(Templates, DynamicValuesStayInRange) {
  std::string error;
  auto t = Template::compile("/p/${randint:5:7}/${pick:a|b}", "", error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->constant());
  Rng rng(1);
  std::map<std::string, int> seen;
  for (int i = 0; i < 600; ++i)
    seen[render(*t, rng)]++;
  EXPECT_EQ(seen.size(), 6u);
  for (auto& [k, n] : seen)
    EXPECT_TRUE(std::regex_match(k, std::regex("/p/[5-7]/[ab]"))) << k;
}

TEST(Templates, ZipfFavoursSmallKeys) {
  Zipf z(20000, 1.0);
  Rng rng(7);
  int ones = 0, top100 = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    uint64_t k = z.sample(rng);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, 20000u);
    ones += k == 1;
    top100 += k <= 100;
  }
  // H(20000) ~ 10.48: P(1) ~ 9.5 %, P(k <= 100) ~ 49.4 %.
  EXPECT_NEAR(ones / double(n), 0.0954, 0.01);
  EXPECT_NEAR(top100 / double(n), 0.494, 0.02);
}

TEST(Templates, UuidAndLineFile) {
  std::string dir = testing::TempDir();
  { std::ofstream(dir + "/ids.txt") << "alpha\nbeta\r\n\ngamma\n"; }
  std::string error;
  auto t = Template::compile("${uuid} ${line:ids.txt}", dir, error);
  ASSERT_TRUE(t) << error;
  Rng rng(3);
  std::regex shape(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} (alpha|beta|gamma)");
  for (int i = 0; i < 50; ++i) {
    std::string s = render(*t, rng);
    EXPECT_TRUE(std::regex_match(s, shape)) << s;
  }
  EXPECT_FALSE(Template::compile("${line:missing.txt}", dir, error));
  EXPECT_FALSE(Template::compile("${randint:9:1}", dir, error));
  EXPECT_FALSE(Template::compile("${zipf:0}", dir, error));
  EXPECT_FALSE(Template::compile("${bogus:1}", dir, error));
  EXPECT_FALSE(Template::compile("${uuid", dir, error));
}

TEST(Options, ParseUrl) {
  Target t;
  std::string error;
  ASSERT_TRUE(parse_url("http://127.0.0.1:8080/a?b=1", t, error));
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.path, "/a?b=1");
  EXPECT_EQ(t.authority, "127.0.0.1:8080");
  ASSERT_TRUE(parse_url("http://[::1]:81", t, error));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(parse_url("http://localhost", t, error));
  EXPECT_EQ(t.port, 80);
  for (const char* bad : {"localhost:80", "https://x/", "http://", "http://x:0/", "http://x:99999",
                          "http://x:/", "http://a b/", "http://x/a b"})
    EXPECT_FALSE(parse_url(bad, t, error)) << bad;
}

TEST(Options, StagesRampLinearly) {
  std::vector<Stage> st;
  std::string error;
  ASSERT_TRUE(parse_stages("10s:100,20s:100,10s:0", st, error)) << error;
  ASSERT_EQ(st.size(), 3u);
  using std::chrono::seconds;
  EXPECT_DOUBLE_EQ(stage_target(st, 0, seconds(0)), 0);
  EXPECT_DOUBLE_EQ(stage_target(st, 0, seconds(5)), 50);
  EXPECT_DOUBLE_EQ(stage_target(st, 0, seconds(15)), 100);
  EXPECT_DOUBLE_EQ(stage_target(st, 0, seconds(35)), 50);
  EXPECT_DOUBLE_EQ(stage_target(st, 0, seconds(99)), 0);
  EXPECT_EQ(stages_length(st), seconds(40));
  EXPECT_FALSE(parse_stages("10s", st, error));
  EXPECT_FALSE(parse_stages("x:1", st, error));
  EXPECT_FALSE(parse_stages("1s:-3", st, error));
}

TEST(Options, RenderRequest) {
  RequestSpec spec;
  std::string error;
  spec.method = "POST";
  spec.target = *Template::compile("/cart/${randint:1:1}", "", error);
  spec.headers.emplace_back("X-A", *Template::compile("b", "", error));
  spec.body = *Template::compile("{\"q\":${randint:3:3}}", "", error);
  spec.has_body = true;
  Target t;
  ASSERT_TRUE(parse_url("http://h:1/", t, error));
  Rng rng(1);
  std::string out, scratch;
  render_request(spec, t, true, rng, out, scratch);
  EXPECT_EQ(out,
            "POST /cart/1 HTTP/1.1\r\nHost: h:1\r\nX-A: b\r\nConnection: close\r\n"
            "Content-Length: 7\r\n\r\n{\"q\":3}");
  prerender(spec, t, false);
  EXPECT_FALSE(spec.constant);
}

}  // namespace
}  // namespace sluice::load
