#pragma once
// How alerts write times, durations and amounts in messages and JSON.
#include <string>

#include "common/clock.h"

namespace llmtap::alerts {

std::string utc_minutes(UnixNanos ns);  // "2026-12-01 13:00 UTC"
std::string utc_seconds(UnixNanos ns);  // "2026-12-01 13:00:05 UTC"
std::string rfc3339_ms(UnixNanos ns);   // "2026-12-01T13:00:05.123Z"
std::string duration_text(UnixNanos ns);  // "1h", "15m", "1d", "90s" (the largest whole unit)
// "$4.21" from $1 up; below, up to six decimals without trailing zeros ("$0.023", "$0.000038"), so
// per-call amounts do not all read as $0.00.
std::string usd_text(double usd);

}  // namespace llmtap::alerts
