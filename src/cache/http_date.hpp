// HTTP-date (RFC 9110 5.6.7) parsing and formatting, in whole seconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::cache {

// Accepts IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").
std::optional<int64_t> parse_http_date(std::string_view text);

// Writes the IMF-fixdate form (29 bytes) into `out`; returns the number of bytes written.
size_t format_http_date(int64_t unix_seconds, char* out, size_t cap);

}  // namespace sluice::cache
