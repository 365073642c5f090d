#include "cache/http_date.hpp"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace sluice::cache {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

struct Cursor {
  std::string_view s;
  size_t i = 0;
  void skip_spaces() {
    while (i < s.size() && s[i] == ' ')
      ++i;
  }
  bool literal(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool number(int min_digits, int max_digits, int& out) {
    int n = 0;
    out = 0;
    while (i < s.size() && n < max_digits && s[i] >= '0' && s[i] <= '9') {
      out = out * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    return n >= min_digits;
  }
  bool month(int& out) {
    if (i + 3 > s.size()) return false;
    for (int m = 0; m < 12; ++m)
      if (s.substr(i, 3) == kMonths[m]) {
        out = m;
        i += 3;
        return true;
      }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return number(2, 2, h) && literal(':') && number(2, 2, m) && literal(':') && number(2, 2, sec);
  }
};

std::optional<int64_t> to_unix(int year, int month, int day, int h, int m, int s) {
  if (month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::optional<int64_t> parse_http_date_uncached(std::string_view text);

std::optional<int64_t> parse_http_date(std::string_view text) {
  // Responses of the same second carry the same Date: remember the last one parsed.
  thread_local char last_text[40];
  thread_local size_t last_size = 0;
  thread_local std::optional<int64_t> last_value;
  if (text.size() == last_size && text == std::string_view(last_text, last_size)) return last_value;
  std::optional<int64_t> value = parse_http_date_uncached(text);
  if (!text.empty() && text.size() <= sizeof last_text) {
    std::memcpy(last_text, text.data(), text.size());
    last_size = text.size();
    last_value = value;
  }
  return value;
}

std::optional<int64_t> parse_http_date_uncached(std::string_view text) {
  Cursor c{text};
  size_t comma = text.find(',');
  int day = 0, month = 0, year = 0, h = 0, m = 0, s = 0;
  if (comma != std::string_view::npos) {
    c.i = comma + 1;
    c.skip_spaces();
    if (!c.number(1, 2, day)) return std::nullopt;
    if (c.literal('-')) {  // RFC 850: 06-Nov-94
      if (!c.month(month) || !c.literal('-') || !c.number(2, 4, year)) return std::nullopt;
      if (year < 100) year += year < 70 ? 2000 : 1900;
    } else {
      c.skip_spaces();
      if (!c.month(month)) return std::nullopt;
      c.skip_spaces();
      if (!c.number(4, 4, year)) return std::nullopt;
    }
    c.skip_spaces();
    if (!c.time(h, m, s)) return std::nullopt;
    c.skip_spaces();
    if (text.substr(c.i, 3) != "GMT") return std::nullopt;
  } else {  // asctime: Sun Nov  6 08:49:37 1994
    c.i = 3;
    c.skip_spaces();
    if (!c.month(month)) return std::nullopt;
    c.skip_spaces();
    if (!c.number(1, 2, day)) return std::nullopt;
    c.skip_spaces();
    if (!c.time(h, m, s)) return std::nullopt;
    c.skip_spaces();
    if (!c.number(4, 4, year)) return std::nullopt;
  }
  return to_unix(year, month, day, h, m, s);
}

size_t format_http_date(int64_t unix_seconds, char* out, size_t cap) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int n =
      std::snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                    kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return n < 0 ? 0 : static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : cap - 1;
}

}  // namespace sluice::cache
