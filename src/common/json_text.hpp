// Writing JSON strings: the one escaping routine shared by logs, metrics and reports.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// Appends `s` escaped for the inside of a JSON string (no quotes added).
void append_json_escaped(std::string& out, std::string_view s);

// Appends `s` as a quoted JSON string.
inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

}  // namespace sluice
