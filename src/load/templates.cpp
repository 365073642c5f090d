#include "load/templates.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace sluice::load {

namespace {
uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

template <class T>
bool to_number(std::string_view s, T& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool is_env_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return !(s[0] >= '0' && s[0] <= '9');
}

constexpr uint64_t kMaxZipf = 10'000'000;
}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_)
    s = splitmix(seed);
}

uint64_t Rng::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Zipf::Zipf(uint64_t n, double s) : cdf_(n) {
  double total = 0;
  for (uint64_t k = 0; k < n; ++k)
    total += 1.0 / std::pow(static_cast<double>(k + 1), s);
  double acc = 0;
  for (uint64_t k = 0; k < n; ++k) {
    acc += 1.0 / std::pow(static_cast<double>(k + 1), s) / total;
    cdf_[k] = acc;
  }
  cdf_.back() = 1.0;
}

uint64_t Zipf::sample(Rng& rng) const {
  double u = rng.uniform();
  size_t lo = 0, hi = cdf_.size() - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cdf_[mid] < u)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo + 1;
}

std::optional<Template> Template::compile(std::string_view text, const std::string& base_dir,
                                          std::string& error) {
  Template t;
  auto add_literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (!t.parts_.empty() && t.parts_.back().kind == Kind::literal)
      t.parts_.back().text += s;
    else
      t.parts_.push_back(Part{Kind::literal, std::string(s)});
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t d = text.find('$', i);
    if (d == std::string_view::npos) {
      add_literal(text.substr(i));
      break;
    }
    add_literal(text.substr(i, d - i));
    if (d + 1 < text.size() && text[d + 1] == '$') {  // "$$" is a literal '$'
      add_literal("$");
      i = d + 2;
      continue;
    }
    if (d + 1 >= text.size() || text[d + 1] != '{') {
      add_literal("$");
      i = d + 1;
      continue;
    }
    size_t close = text.find('}', d);
    if (close == std::string_view::npos) {
      error = "unterminated ${ in '" + std::string(text) + "'";
      return std::nullopt;
    }
    std::string_view expr = text.substr(d + 2, close - d - 2);
    i = close + 1;
    size_t colon = expr.find(':');
    std::string_view fn = expr.substr(0, colon);
    std::string_view args = colon == std::string_view::npos ? "" : expr.substr(colon + 1);
    auto bad = [&](const char* usage) -> std::optional<Template> {
      error = "bad template ${" + std::string(expr) + "}: expected " + usage;
      return std::nullopt;
    };
    Part p;
    if (fn == "randint" || fn == "int") {
      auto a = split(args, ':');
      if (a.size() != 2 || !to_number(a[0], p.lo) || !to_number(a[1], p.hi) || p.lo > p.hi)
        return bad("${randint:LO:HI}");
      p.kind = Kind::randint;
    } else if (fn == "zipf") {
      auto a = split(args, ':');
      uint64_t n = 0;
      double s = 1.0;
      if (a.empty() || a.size() > 2 || !to_number(a[0], n) || n == 0 || n > kMaxZipf ||
          (a.size() == 2 && (!to_number(a[1], s) || s <= 0)))
        return bad("${zipf:N} or ${zipf:N:EXPONENT} with 1 <= N <= 10000000");
      p.kind = Kind::zipf;
      p.zipf = std::make_shared<Zipf>(n, s);
    } else if (fn == "pick") {
      auto a = split(args, '|');
      if (args.empty()) return bad("${pick:a|b|c}");
      auto v = std::make_shared<std::vector<std::string>>();
      for (auto x : a)
        v->emplace_back(x);
      p.kind = Kind::pick;
      p.choices = std::move(v);
    } else if (fn == "line") {
      if (args.empty()) return bad("${line:FILE}");
      std::string path(args);
      if (path[0] != '/' && !base_dir.empty()) path = base_dir + "/" + path;
      std::ifstream in(path);
      if (!in) {
        error = "cannot read data file " + path;
        return std::nullopt;
      }
      auto v = std::make_shared<std::vector<std::string>>();
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) v->push_back(std::move(line));
      }
      if (v->empty()) {
        error = "data file " + path + " has no lines";
        return std::nullopt;
      }
      p.kind = Kind::line;
      p.choices = std::move(v);
    } else if (fn == "uuid" && args.empty()) {
      p.kind = Kind::uuid;
    } else if ((fn == "env" && is_env_name(args)) ||
               (colon == std::string_view::npos && is_env_name(fn))) {
      std::string name(fn == "env" ? args : fn);
      const char* value = std::getenv(name.c_str());
      if (!value) {
        error = "environment variable " + name + " is not set";
        return std::nullopt;
      }
      add_literal(value);
      continue;
    } else {
      return bad("randint, zipf, pick, line, uuid, env or an environment variable name");
    }
    t.constant_ = false;
    t.parts_.push_back(std::move(p));
  }
  if (t.constant_) {
    for (auto& p : t.parts_)
      t.literal_ += p.text;
  }
  return t;
}

void Template::render(std::string& out, Rng& rng) const {
  char num[24];
  for (const auto& p : parts_) {
    switch (p.kind) {
      case Kind::literal:
        out += p.text;
        break;
      case Kind::randint: {
        uint64_t span = static_cast<uint64_t>(p.hi - p.lo) + 1;
        int64_t v = p.lo + static_cast<int64_t>(span ? rng.below(span) : rng.next());
        auto [e, ec] = std::to_chars(num, num + sizeof num, v);
        out.append(num, e);
        break;
      }
      case Kind::zipf: {
        auto [e, ec] = std::to_chars(num, num + sizeof num, p.zipf->sample(rng));
        out.append(num, e);
        break;
      }
      case Kind::pick:
      case Kind::line:
        out += (*p.choices)[rng.below(p.choices->size())];
        break;
      case Kind::uuid: {
        uint64_t a = rng.next(), b = rng.next();
        a = (a & ~0xF000ULL) | 0x4000ULL;                         // version 4
        b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
        char buf[40];
        std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                      static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xFFFF),
                      static_cast<unsigned>(a & 0xFFFF), static_cast<unsigned>(b >> 48),
                      static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
        out += buf;
        break;
      }
    }
  }
}

}  // namespace sluice::load
