#include "load/json.hpp"

#include <gtest/gtest.h>

namespace sluice::load {
namespace {

TEST(Json, WriterProducesValidNestedDocument) {
  json::Writer w;
  w.begin_object().field("a", 1).field("s", "x\"y\n").key("arr").begin_array();
  w.value(1.5).value(true).null().begin_object().field("k", uint64_t{7}).end_object();
  w.end_array().end_object();
  EXPECT_EQ(w.out(), R"({"a":1,"s":"x\"y\n","arr":[1.5,true,null,{"k":7}]})");
  std::string error;
  auto v = json::parse(w.out(), error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ((*v)["s"].str, "x\"y\n");
  EXPECT_EQ((*v)["arr"].arr.size(), 4u);
  EXPECT_EQ((*v)["arr"].arr[3].number("k"), 7);
}

TEST(Json, ReaderReportsWhereItFailed) {
  std::string error;
  EXPECT_FALSE(json::parse("{\n  \"a\": [1, 2,\n}", error));
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  EXPECT_FALSE(json::parse("[1] x", error));
  EXPECT_FALSE(json::parse("\"open", error));
  auto u = json::parse(R"("\u00e9\u0041")", error);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->str,
            "\xc3\xa9"
            "A");
}

}  // namespace
}  // namespace sluice::load
