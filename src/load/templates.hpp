// Request templates with dynamic values: ${randint:1:100}, ${zipf:20000:1.1}, ${pick:a|b},
// ${line:FILE}, ${uuid}, ${env:NAME} or ${NAME}. Environment values are fixed when the template
// is compiled, so a template that only uses them renders once, before the run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::load {

// xoshiro256** seeded from splitmix64: fast, per thread, no locking.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  uint64_t s_[4];
};

// Zipf over 1..n with exponent s, by inverse CDF over a precomputed table.
class Zipf {
 public:
  Zipf(uint64_t n, double s);
  uint64_t sample(Rng& rng) const;
  uint64_t n() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

class Template {
 public:
  // `base_dir` resolves ${line:FILE}; on error returns nullopt with a message.
  static std::optional<Template> compile(std::string_view text, const std::string& base_dir,
                                         std::string& error);
  bool constant() const { return constant_; }
  const std::string& literal() const { return literal_; }
  void render(std::string& out, Rng& rng) const;

 private:
  enum class Kind { literal, randint, zipf, pick, line, uuid };
  struct Part {
    Kind kind = Kind::literal;
    std::string text;
    int64_t lo = 0, hi = 0;
    std::shared_ptr<const Zipf> zipf;
    std::shared_ptr<const std::vector<std::string>> choices;
  };
  std::vector<Part> parts_;
  bool constant_ = true;
  std::string literal_;
};

}  // namespace sluice::load
