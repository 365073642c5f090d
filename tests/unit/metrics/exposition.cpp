#include "exposition.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace sluice::metrics::exposition {
namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

bool parse_value(const std::string& s, double& out) {
  if (s == "+Inf")
    out = 1.0 / 0.0;
  else if (s == "-Inf")
    out = -1.0 / 0.0;
  else if (s == "NaN")
    out = 0.0 / 0.0;
  else {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size();
  }
  return true;
}

bool parse_sample(const std::string& line, TextSample& out) {
  size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0))
    ++i;
  if (i == 0) return false;
  out.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && name_char(line[i], i == start) && line[i] != ':')
        ++i;
      std::string label = line.substr(start, i - start);
      if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
        return false;
      i += 2;
      std::string value;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\') {
          if (++i >= line.size()) return false;
          if (line[i] == 'n')
            value += '\n';
          else if (line[i] == '\\' || line[i] == '"')
            value += line[i];
          else
            return false;
        } else if (line[i] == '\n') {
          return false;
        } else {
          value += line[i];
        }
        ++i;
      }
      if (i >= line.size()) return false;
      ++i;  // closing quote
      if (!out.labels.emplace(label, value).second) return false;
      if (i < line.size() && line[i] == ',')
        ++i;
      else if (i < line.size() && line[i] != '}')
        return false;
    }
    if (i >= line.size()) return false;
    ++i;  // closing brace
  }
  if (i >= line.size() || line[i] != ' ') return false;
  return parse_value(line.substr(i + 1), out.value);
}

std::string unescape_help(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Json {
  const std::string& s;
  size_t i = 0;
  int depth = 0;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
      ++i;
  }
  bool lit(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s.compare(i, n, w) != 0) return false;
    i += n;
    return true;
  }
  bool string() {
    if (i >= s.size() || s[i] != '"') return false;
    for (++i; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i >= s.size()) return false;
        char e = s[i];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k)
            if (++i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
        } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    if (s[i] == '0')
      ++i;
    else
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    if (i < s.size() && s[i] == '.') {
      if (++i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    }
    return i > start;
  }
  bool value() {
    if (++depth > 64) return false;
    ws();
    bool ok = false;
    if (i >= s.size())
      ok = false;
    else if (s[i] == '{')
      ok = object();
    else if (s[i] == '[')
      ok = array();
    else if (s[i] == '"')
      ok = string();
    else if (s[i] == 't')
      ok = lit("true");
    else if (s[i] == 'f')
      ok = lit("false");
    else if (s[i] == 'n')
      ok = lit("null");
    else
      ok = number();
    --depth;
    ws();
    return ok;
  }
  bool object() {
    ++i;
    ws();
    if (i < s.size() && s[i] == '}') return ++i, true;
    while (true) {
      ws();
      if (!string()) return false;
      ws();
      if (i >= s.size() || s[i] != ':') return false;
      ++i;
      if (!value()) return false;
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') return ++i, true;
      return false;
    }
  }
  bool array() {
    ++i;
    ws();
    if (i < s.size() && s[i] == ']') return ++i, true;
    while (true) {
      if (!value()) return false;
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') return ++i, true;
      return false;
    }
  }
};

}  // namespace

std::optional<double> TextExposition::value(
    const std::string& name, const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples)
    if (s.name == name && s.labels == labels) return s.value;
  return std::nullopt;
}

std::optional<TextExposition> parse_text(const std::string& text, std::string& error) {
  TextExposition out;
  if (!text.empty() && text.back() != '\n') {
    error = "no final newline";
    return std::nullopt;
  }
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      size_t sp = line.find(' ', 7);
      if (sp == std::string::npos) sp = line.size();
      out.help[line.substr(7, sp - 7)] = sp < line.size() ? unescape_help(line.substr(sp + 1)) : "";
    } else if (line.rfind("# TYPE ", 0) == 0) {
      size_t sp = line.find(' ', 7);
      std::string type = sp == std::string::npos ? "" : line.substr(sp + 1);
      if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
          type != "untyped") {
        error = "bad TYPE line: " + line;
        return std::nullopt;
      }
      out.type[line.substr(7, sp - 7)] = type;
    } else {
      TextSample s;
      if (!parse_sample(line, s)) {
        error = "bad sample line: " + line;
        return std::nullopt;
      }
      out.samples.push_back(std::move(s));
    }
  }
  return out;
}

bool valid_json(const std::string& text) {
  Json j{text};
  return j.value() && j.i == text.size();
}

}  // namespace sluice::metrics::exposition
