// `sluice check` and `sluice serve` on invalid configurations.
#include <gtest/gtest.h>

#include "support/harness.hpp"

using namespace sluice::test;

TEST(ConfigCli, CheckReportsEveryProblemWithPosition) {
  TempDir dir;
  write_file(dir / "bad.toml",
             "[server]\nlisten = \"127.0.0.1:8080\"\nworkrs = 2\n\n[upstream.app]\nendpoints = "
             "[\"127.0.0.1:99999\"]\nbalance = \"random\"\n\n[[route]]\npath = \"api\"\nupstream "
             "= \"nope\"\ntimeout = \"5 parsecs\"\n");
  auto file = (dir / "bad.toml").string();
  auto r = run_command({SLUICE_BINARY, "check", "--config", file});
  EXPECT_EQ(r.status, 2);
  for (const std::string& want :
       {file + ":3:1: unknown key \"server.workrs\"", file + ":6:14: upstream.app.endpoints",
        file + ":7:11: upstream.app.balance", file + ":10:8: route[0].path",
        file + ":11:12: route[0].upstream", file + ":12:11: route[0].timeout"})
    EXPECT_NE(r.err.find(want), std::string::npos) << "missing: " << want << "\n" << r.err;
  auto serve = run_command({SLUICE_BINARY, "serve", "--config", file}, std::chrono::seconds(5));
  EXPECT_EQ(serve.status, 2);
  EXPECT_EQ(serve.err, r.err);
}

TEST(ConfigCli, CheckAcceptsTheExamples) {
  for (const char* example : {"gateway.toml", "cache.toml"}) {
    auto path = std::string(SLUICE_SOURCE_DIR) + "/examples/" + example;
    auto r = run_command({SLUICE_BINARY, "check", "--config", path});
    EXPECT_EQ(r.status, 0) << path << "\n" << r.err;
  }
}

TEST(ConfigCli, CacheKeysAreChecked) {
  TempDir dir;
  write_file(dir / "bad.toml",
             "[cache]\nmax_memory = \"10KB\"\n[upstream.app]\nendpoints = [\"127.0.0.1:9001\"]\n"
             "[[route]]\nupstream = \"app\"\ncache = { tl = \"1m\" }\n[[route]]\npath = \"/b\"\n"
             "upstream = \"app\"\ncache = { ttl = \"1m\", key = \"{nope}\" }\n");
  auto file = (dir / "bad.toml").string();
  auto r = run_command({SLUICE_BINARY, "check", "--config", file});
  EXPECT_EQ(r.status, 2);
  for (const std::string& want : {file + ":2:14: cache.max_memory",
                                  file + ":7:11: unknown key \"route[0].cache.tl\"", file + ":11:"})
    EXPECT_NE(r.err.find(want), std::string::npos) << "missing: " << want << "\n" << r.err;
}

TEST(ConfigCli, SyntaxErrorsAndMissingFiles) {
  TempDir dir;
  write_file(dir / "syntax.toml", "[server\n");
  auto r = run_command({SLUICE_BINARY, "check", "--config", (dir / "syntax.toml").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("syntax.toml:1:"), std::string::npos) << r.err;
  r = run_command({SLUICE_BINARY, "check", "--config", (dir / "missing.toml").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}
