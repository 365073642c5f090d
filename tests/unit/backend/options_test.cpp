#include "backend/options.hpp"

#include <gtest/gtest.h>

using namespace sluice::backend;
using namespace std::chrono_literals;

TEST(Options, Defaults) {
  Options o;
  EXPECT_FALSE(parse_options(RawOptions{}, o));
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.first_port, 9001);
  EXPECT_EQ(o.instances, 1);
  EXPECT_EQ(o.latency, sluice::Duration(20ms));
  EXPECT_EQ(o.latency_dist, LatencyDist::lognormal);
  EXPECT_TRUE(o.keepalive);
}

TEST(Options, AllValues) {
  RawOptions raw;
  raw.listen = "[::1]:8000";
  raw.instances = "4";
  raw.latency = "5ms";
  raw.latency_dist = "fixed";
  raw.add_latency = "1ms";
  raw.cpu_work = "2ms";
  raw.max_concurrency = "10";
  raw.threads = "2";
  raw.seed = "12";
  raw.no_keepalive = true;
  Options o;
  ASSERT_FALSE(parse_options(raw, o));
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.first_port, 8000);
  EXPECT_EQ(o.instances, 4);
  EXPECT_EQ(o.latency, sluice::Duration(5ms));
  EXPECT_EQ(o.add_latency, sluice::Duration(1ms));
  EXPECT_EQ(o.cpu_work, sluice::Duration(2ms));
  EXPECT_EQ(o.max_concurrency, 10);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.seed, 12u);
  EXPECT_FALSE(o.keepalive);
}

TEST(Options, ErrorsNameTheOption) {
  struct Case {
    std::string RawOptions::*field;
    const char* value;
    const char* option;
  };
  const Case cases[] = {
      {&RawOptions::listen, "9001", "--listen"},
      {&RawOptions::listen, "127.0.0.1:0", "--listen"},
      {&RawOptions::listen, "127.0.0.1:70000", "--listen"},
      {&RawOptions::listen, "::1:80", "--listen"},
      {&RawOptions::instances, "0", "--instances"},
      {&RawOptions::instances, "two", "--instances"},
      {&RawOptions::latency, "20", "--latency"},
      {&RawOptions::latency, "-5ms", "--latency"},
      {&RawOptions::latency_dist, "normal", "--latency-dist"},
      {&RawOptions::add_latency, "5 parsecs", "--add-latency"},
      {&RawOptions::cpu_work, "1h", "--cpu-work"},
      {&RawOptions::max_concurrency, "0", "--max-concurrency"},
      {&RawOptions::max_concurrency, "10.5", "--max-concurrency"},
      {&RawOptions::threads, "0", "--threads"},
      {&RawOptions::seed, "x", "--seed"},
  };
  for (const auto& c : cases) {
    RawOptions raw;
    raw.*c.field = c.value;
    Options o;
    auto error = parse_options(raw, o);
    ASSERT_TRUE(error) << c.option << " " << c.value;
    EXPECT_EQ(error->rfind(c.option, 0), 0u) << *error;
    EXPECT_EQ(error->find('\n'), std::string::npos);
  }
}

TEST(Options, PortsMustFit) {
  RawOptions raw;
  raw.listen = "127.0.0.1:65534";
  raw.instances = "2";
  Options o;
  EXPECT_FALSE(parse_options(raw, o));
  raw.instances = "3";
  EXPECT_TRUE(parse_options(raw, o));
}

TEST(Options, ZeroNeedsNoUnit) {
  RawOptions raw;
  raw.latency = "0";
  Options o;
  EXPECT_FALSE(parse_options(raw, o));
  EXPECT_EQ(o.latency.count(), 0);
}
