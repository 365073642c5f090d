#include "config/reader.hpp"

#include <gtest/gtest.h>

using namespace sluice::config;

TEST(TableReader, ReadsTypedValuesAndReportsUnknownKeys) {
  Diagnostics diag("x.toml");
  auto t = parse_toml("a = \"2s\"\nb = 5\nc = [\"x\", \"y\"]\ntypo = 1\nsize = \"64KB\"\n", diag);
  ASSERT_TRUE(t);
  {
    TableReader r(*t, diag, "server");
    EXPECT_EQ(r.duration("a")->count(), 2'000'000'000);
    EXPECT_EQ(*r.integer("b", 0, 10), 5);
    EXPECT_EQ(r.strings("c")->size(), 2u);
    EXPECT_EQ(*r.size("size"), 65536u);
  }
  ASSERT_EQ(diag.items().size(), 1u);
  EXPECT_EQ(diag.render(), "x.toml:4:1: unknown key \"server.typo\"\n");
}

TEST(TableReader, BadValuesPointAtTheValue) {
  Diagnostics diag("x.toml");
  auto t = parse_toml("a = \"2 parsecs\"\nb = 50\n", diag);
  TableReader r(*t, diag, "");
  EXPECT_FALSE(r.duration("a"));
  EXPECT_FALSE(r.integer("b", 0, 10));
  r.finish();
  std::string out = diag.render();
  EXPECT_NE(out.find("x.toml:1:5: a: expected a duration"), std::string::npos) << out;
  EXPECT_NE(out.find("x.toml:2:5: b: must be between 0 and 10"), std::string::npos) << out;
}

TEST(TableReader, SyntaxErrorHasPosition) {
  Diagnostics diag("bad.toml");
  EXPECT_FALSE(parse_toml("[server\nlisten=1", diag));
  EXPECT_EQ(diag.render().rfind("bad.toml:1:", 0), 0u) << diag.render();
}
