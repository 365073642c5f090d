#include "load/json.hpp"

#include "common/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sluice::load::json {

void escape_into(std::string& out, std::string_view s) {
  append_json_string(out, s);
}

void Writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::begin_object() {
  separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}
Writer& Writer::end_object() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}
Writer& Writer::begin_array() {
  separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}
Writer& Writer::end_array() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}
Writer& Writer::key(std::string_view k) {
  separate();
  escape_into(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
Writer& Writer::value(std::string_view s) {
  separate();
  escape_into(out_, s);
  return *this;
}
Writer& Writer::value(double d) {
  separate();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out_.append(buf, p);
  return *this;
}
Writer& Writer::value(uint64_t v) {
  separate();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::value(int64_t v) {
  separate();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}
Writer& Writer::null() {
  separate();
  out_ += "null";
  return *this;
}

const Value* Value::find(std::string_view k) const {
  for (auto& [name, v] : obj)
    if (name == k) return &v;
  return nullptr;
}
double Value::number(std::string_view k, double def) const {
  const Value* v = find(k);
  return v && v->type == Type::number ? v->num : def;
}
std::string Value::string(std::string_view k, std::string def) const {
  const Value* v = find(k);
  return v && v->type == Type::string ? v->str : def;
}
const Value& Value::operator[](std::string_view k) const {
  static const Value empty;
  const Value* v = find(k);
  return v ? *v : empty;
}

namespace {

class Reader {
 public:
  explicit Reader(std::string_view t) : t_(t) {}
  bool document(Value& v) {
    if (!parse_value(v, 0)) return false;
    skip_ws();
    if (pos_ != t_.size()) return fail("trailing characters");
    return true;
  }
  std::string error;

 private:
  bool fail(const char* what) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < t_.size(); ++i) {
      if (t_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    error = "line " + std::to_string(line) + " col " + std::to_string(col) + ": " + what;
    return false;
  }
  void skip_ws() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\t' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }
  bool parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < t_.size()) {
      char c = t_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= t_.size()) break;
      char e = t_[pos_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (pos_ + 4 > t_.size()) return fail("bad \\u escape");
          unsigned cp = 0;
          auto [p, ec] = std::from_chars(t_.data() + pos_, t_.data() + pos_ + 4, cp, 16);
          if (ec != std::errc() || p != t_.data() + pos_ + 4) return fail("bad \\u escape");
          pos_ += 4;
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          out.push_back(e);
      }
    }
    return fail("unterminated string");
  }
  bool parse_value(Value& v, int depth) {
    if (depth > 64) return fail("nesting too deep");
    skip_ws();
    if (pos_ >= t_.size()) return fail("unexpected end");
    char c = t_[pos_];
    if (c == '{') {
      v.type = Value::Type::object;
      ++pos_;
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, true;
      while (true) {
        skip_ws();
        if (pos_ >= t_.size() || t_[pos_] != '"') return fail("expected a member name");
        std::string k;
        if (!parse_string(k)) return false;
        skip_ws();
        if (pos_ >= t_.size() || t_[pos_] != ':') return fail("expected ':'");
        ++pos_;
        v.obj.emplace_back(std::move(k), Value{});
        if (!parse_value(v.obj.back().second, depth + 1)) return false;
        skip_ws();
        if (pos_ < t_.size() && t_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, true;
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.type = Value::Type::array;
      ++pos_;
      skip_ws();
      if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, true;
      while (true) {
        v.arr.emplace_back();
        if (!parse_value(v.arr.back(), depth + 1)) return false;
        skip_ws();
        if (pos_ < t_.size() && t_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, true;
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type = Value::Type::string;
      return parse_string(v.str);
    }
    if (c == 't') return v.type = Value::Type::boolean, v.b = true, literal("true");
    if (c == 'f') return v.type = Value::Type::boolean, v.b = false, literal("false");
    if (c == 'n') return v.type = Value::Type::null, literal("null");
    size_t start = pos_;
    while (pos_ < t_.size() &&
           (std::string_view("+-.eE0123456789").find(t_[pos_]) != std::string_view::npos))
      ++pos_;
    if (start == pos_) return fail("unexpected character");
    v.type = Value::Type::number;
    auto [p, ec] = std::from_chars(t_.data() + start, t_.data() + pos_, v.num);
    if (ec != std::errc() || p != t_.data() + pos_) return pos_ = start, fail("bad number");
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<Value> parse(std::string_view text, std::string& error) {
  Reader r(text);
  Value v;
  if (!r.document(v)) {
    error = r.error;
    return std::nullopt;
  }
  return v;
}

}  // namespace sluice::load::json
