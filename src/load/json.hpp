// A small JSON writer (streaming, into a string) and reader (a DOM), enough for result files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::load::json {

class Writer {
 public:
  std::string& out() { return out_; }
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(double d);
  Writer& value(uint64_t v);
  Writer& value(int64_t v);
  Writer& value(int v) { return value(static_cast<int64_t>(v)); }
  Writer& value(bool b);
  Writer& null();
  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

void escape_into(std::string& out, std::string_view s);

struct Value {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Value> arr;
  std::vector<std::pair<std::string, Value>> obj;

  const Value* find(std::string_view k) const;
  // Convenience accessors with defaults for absent or mistyped members.
  double number(std::string_view k, double def = 0) const;
  std::string string(std::string_view k, std::string def = "") const;
  const Value& operator[](std::string_view k) const;
  bool is_object() const { return type == Type::object; }
  bool is_array() const { return type == Type::array; }
};

// Parses a whole document; on failure returns nullopt and sets `error` ("line L col C: what").
std::optional<Value> parse(std::string_view text, std::string& error);

}  // namespace sluice::load::json
