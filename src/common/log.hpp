// Error log: one line per event on stderr, with a level. Rare events only; never per request.
#pragma once

#include <string_view>

namespace sluice::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view text, Level& out);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace sluice::log

#define SLUICE_LOG(lvl, ...)                                        \
  do {                                                              \
    if (::sluice::log::level() <= ::sluice::log::Level::lvl)        \
      ::sluice::log::write(::sluice::log::Level::lvl, __VA_ARGS__); \
  } while (0)
#define LOG_DEBUG(...) SLUICE_LOG(debug, __VA_ARGS__)
#define LOG_INFO(...) SLUICE_LOG(info, __VA_ARGS__)
#define LOG_WARN(...) SLUICE_LOG(warn, __VA_ARGS__)
#define LOG_ERROR(...) SLUICE_LOG(error, __VA_ARGS__)
