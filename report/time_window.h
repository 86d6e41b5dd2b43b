#pragma once
// --since / --until values: a duration back from now ("90s", "30m", "24h", "7d", "2w", "1h30m") or
// a date-time ("2026-11-30", "2026-11-30T08:00", "2026-11-30 08:00:05", local time unless it ends
// in "Z" or "+HH:MM"/"-HH:MM").
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace llmtap::report {

// A duration ("90s", "30m", "24h", "7d", "2w", "1h30m") in nanoseconds; nullopt when TEXT is not one.
std::optional<UnixNanos> parse_duration(std::string_view text);

// The instant TEXT names, relative to NOW; nullopt and *error (naming the value) when it is neither.
std::optional<UnixNanos> parse_time_point(std::string_view text, UnixNanos now, std::string* error);

}  // namespace llmtap::report
