// Strict TOML reading: every problem is reported as FILE:LINE:COL, unknown keys are errors.
//
// Each module parses its own configuration section with a TableReader, so the keys of a policy
// live next to the policy. Readers only report; callers decide whether to start.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.hpp"

namespace sluice::config {

struct Diagnostic {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void error(const toml::source_region& where, std::string message);
  void error(const toml::node& where, std::string message) {
    error(where.source(), std::move(message));
  }
  void error_at_file(std::string message);  // no position (e.g. file unreadable)
  bool ok() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // One "FILE:LINE:COL: message" line per problem, in file order.
  std::string render() const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
};

// Reads keys of one table; finish() reports the keys that were never asked for.
class TableReader {
 public:
  TableReader(const toml::table& table, Diagnostics& diag, std::string context);
  ~TableReader();
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  const toml::node* node(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  // One of `allowed`; an error lists them.
  std::optional<std::string> choice(std::string_view key,
                                    std::initializer_list<std::string_view> allowed);
  std::optional<Duration> duration(std::string_view key);
  std::optional<uint64_t> size(std::string_view key);  // "64MB" or an integer of bytes
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<bool> boolean(std::string_view key);
  // A string or an array of strings.
  std::optional<std::vector<std::string>> strings(std::string_view key);
  const toml::table* table(std::string_view key);
  const toml::array* array(std::string_view key);

  void finish();
  Diagnostics& diagnostics() { return diag_; }
  const toml::table& raw() const { return table_; }
  const std::string& context() const { return context_; }
  // Reports a problem with the value of `key` (or the table when absent).
  void error(std::string_view key, std::string message);

 private:
  const toml::node* take(std::string_view key);
  const toml::table& table_;
  Diagnostics& diag_;
  std::string context_;
  std::vector<std::string> seen_;
  bool finished_ = false;
};

// Parses `text` (named `file` in messages); nullopt after reporting a syntax error.
std::optional<toml::table> parse_toml(std::string_view text, Diagnostics& diag);
std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diag);
// The whole file, or nullopt after reporting that it cannot be read.
std::optional<std::string> read_config_file(const std::string& path, Diagnostics& diag);

}  // namespace sluice::config
