#include "config/reader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sluice::config {

void Diagnostics::error(const toml::source_region& where, std::string message) {
  items_.push_back({file_, where.begin.line, where.begin.column, std::move(message)});
}

void Diagnostics::error_at_file(std::string message) {
  items_.push_back({file_, 0, 0, std::move(message)});
}

std::string Diagnostics::render() const {
  auto sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::string out;
  for (const auto& d : sorted) {
    out += d.file;
    if (d.line > 0) out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
    out += ": " + d.message + "\n";
  }
  return out;
}

TableReader::TableReader(const toml::table& table, Diagnostics& diag, std::string context)
    : table_(table), diag_(diag), context_(std::move(context)) {}

TableReader::~TableReader() {
  if (!finished_) finish();
}

const toml::node* TableReader::take(std::string_view key) {
  seen_.emplace_back(key);
  return table_.get(key);
}

const toml::node* TableReader::node(std::string_view key) {
  return take(key);
}

void TableReader::error(std::string_view key, std::string message) {
  std::string where = context_.empty() ? std::string(key) : context_ + "." + std::string(key);
  if (const toml::node* n = table_.get(key))
    diag_.error(*n, where + ": " + message);
  else
    diag_.error(table_, where + ": " + message);
}

std::optional<std::string> TableReader::string(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (auto v = n->value<std::string>()) return *v;
  error(key, "expected a string");
  return std::nullopt;
}

std::optional<std::string> TableReader::choice(std::string_view key,
                                               std::initializer_list<std::string_view> allowed) {
  auto v = string(key);
  if (!v) return std::nullopt;
  for (auto a : allowed)
    if (*v == a) return v;
  std::string list;
  for (auto a : allowed)
    list += (list.empty() ? "" : ", ") + std::string(a);
  error(key, "\"" + *v + "\" is not one of: " + list);
  return std::nullopt;
}

std::optional<Duration> TableReader::duration(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (auto s = n->value<std::string>()) {
    if (auto d = parse_duration(*s); d && d->count() >= 0) return d;
  }
  error(key, "expected a duration such as \"250ms\", \"2s\", \"1m\" or \"1h\"");
  return std::nullopt;
}

std::optional<uint64_t> TableReader::size(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (auto i = n->value<int64_t>(); i && *i >= 0 && n->is_integer())
    return static_cast<uint64_t>(*i);
  if (auto s = n->value<std::string>())
    if (auto b = parse_size(*s)) return b;
  error(key, "expected a size such as \"64KB\", \"512MB\" or a number of bytes");
  return std::nullopt;
}

std::optional<int64_t> TableReader::integer(std::string_view key, int64_t min, int64_t max) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (n->is_integer()) {
    int64_t v = n->as_integer()->get();
    if (v >= min && v <= max) return v;
    error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  error(key, "expected an integer");
  return std::nullopt;
}

std::optional<double> TableReader::number(std::string_view key, double min, double max) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (auto v = n->value<double>()) {
    if (*v >= min && *v <= max) return *v;
    error(key, "is out of range");
    return std::nullopt;
  }
  error(key, "expected a number");
  return std::nullopt;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  if (auto v = n->value<bool>()) return *v;
  error(key, "expected true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return std::nullopt;
  std::vector<std::string> out;
  if (auto s = n->value<std::string>()) {
    out.push_back(*s);
    return out;
  }
  if (const toml::array* a = n->as_array()) {
    for (const auto& e : *a) {
      if (auto s = e.value<std::string>())
        out.push_back(*s);
      else
        diag_.error(e, context_ + "." + std::string(key) + ": expected an array of strings");
    }
    return out;
  }
  error(key, "expected a string or an array of strings");
  return std::nullopt;
}

const toml::table* TableReader::table(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return nullptr;
  if (const toml::table* t = n->as_table()) return t;
  error(key, "expected a table");
  return nullptr;
}

const toml::array* TableReader::array(std::string_view key) {
  const toml::node* n = take(key);
  if (!n) return nullptr;
  if (const toml::array* a = n->as_array()) return a;
  error(key, "expected an array");
  return nullptr;
}

void TableReader::finish() {
  finished_ = true;
  for (const auto& [k, v] : table_) {
    std::string_view key = k.str();
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      std::string where = context_.empty() ? std::string(key) : context_ + "." + std::string(key);
      diag_.error(k.source().begin.line ? k.source() : v.source(), "unknown key \"" + where + "\"");
    }
  }
}

std::optional<toml::table> parse_toml(std::string_view text, Diagnostics& diag) {
  try {
    return toml::parse(text, diag.file());
  } catch (const toml::parse_error& e) {
    diag.error(e.source(), std::string(e.description()));
    return std::nullopt;
  }
}

std::optional<std::string> read_config_file(const std::string& path, Diagnostics& diag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.error_at_file("cannot read the file");
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diag) {
  auto text = read_config_file(path, diag);
  if (!text) return std::nullopt;
  return parse_toml(*text, diag);
}

}  // namespace sluice::config
