// Parsing of the human units used in configuration and on the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

using Duration = std::chrono::nanoseconds;

// "250ms", "2s", "1.5m", "1h", "100us". A bare number is rejected: the unit is part of the value.
std::optional<Duration> parse_duration(std::string_view text);

// "512MB", "64KB", "1GB", "100" (bytes). Units are powers of 1024; "KiB" spellings accepted.
std::optional<uint64_t> parse_size(std::string_view text);

// "10ms", "1.25s": a short human form for reports and logs.
std::string format_duration(Duration d);

}  // namespace sluice
