// Test helpers: a reader of the Prometheus text format and a strict JSON syntax checker.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::metrics::exposition {

struct TextSample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

struct TextExposition {
  std::map<std::string, std::string> help;  // unescaped
  std::map<std::string, std::string> type;
  std::vector<TextSample> samples;
  // The value of the sample with exactly these labels.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

// Parses the text format 0.0.4 strictly; on a malformed line returns nullopt and sets `error`.
std::optional<TextExposition> parse_text(const std::string& text, std::string& error);

// True when `text` is one complete JSON value.
bool valid_json(const std::string& text);

}  // namespace sluice::metrics::exposition
