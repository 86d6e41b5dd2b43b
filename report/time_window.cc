#include "report/time_window.h"

#include <cctype>
#include <ctime>

namespace llmtap::report {
namespace {
constexpr UnixNanos kSecond = 1'000'000'000;
}  // namespace

std::optional<UnixNanos> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  UnixNanos total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (n > 1'000'000'000) return std::nullopt;
      n = n * 10 + (s[i++] - '0');
      ++digits;
    }
    if (digits == 0 || i >= s.size()) return std::nullopt;
    UnixNanos unit = 0;
    switch (s[i++]) {
      case 's': unit = kSecond; break;
      case 'm': unit = 60 * kSecond; break;
      case 'h': unit = 3600 * kSecond; break;
      case 'd': unit = 86400 * kSecond; break;
      case 'w': unit = 7 * 86400 * kSecond; break;
      default: return std::nullopt;
    }
    // More than a century back, in one part or summed over all ("90000d90000d"), is no window.
    constexpr UnixNanos kCentury = 100LL * 365 * 86400 * kSecond;
    if (n > kCentury / unit || total > kCentury - n * unit) return std::nullopt;
    total += n * unit;
  }
  return total;
}

namespace {

std::optional<UnixNanos> parse_date_time(std::string_view s) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::size_t used = 0;
  std::string str(s);
  int n = std::sscanf(str.c_str(), "%4d-%2d-%2d%zn", &y, &mo, &d, &used);
  if (n < 3 || used != 10) return std::nullopt;
  std::string_view rest = s.substr(used);
  if (!rest.empty() && (rest[0] == 'T' || rest[0] == ' ')) {
    std::string r(rest.substr(1));
    std::size_t u2 = 0;
    if (std::sscanf(r.c_str(), "%2d:%2d%zn", &h, &mi, &u2) < 2 || u2 != 5) return std::nullopt;
    rest = rest.substr(1 + u2);
    if (!rest.empty() && rest[0] == ':') {
      std::string r3(rest.substr(1));
      std::size_t u3 = 0;
      if (std::sscanf(r3.c_str(), "%2d%zn", &sec, &u3) < 1 || u3 != 2) return std::nullopt;
      rest = rest.substr(3);
    }
  }
  bool utc = false;
  long offset = 0;
  if (rest == "Z" || rest == "z") {
    utc = true;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    std::string r(rest.substr(1));
    if (std::sscanf(r.c_str(), "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    utc = true;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
  } else if (!rest.empty()) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  tm.tm_isdst = -1;
  std::time_t t = utc ? timegm(&tm) - offset : std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1) && !(y == 1969)) return std::nullopt;
  return static_cast<UnixNanos>(t) * kSecond;
}

}  // namespace

std::optional<UnixNanos> parse_time_point(std::string_view text, UnixNanos now, std::string* error) {
  if (auto d = parse_duration(text)) return now - *d;
  if (auto t = parse_date_time(text)) return *t;
  if (error)
    *error = "'" + std::string(text) +
             "' is neither a duration (e.g. 30m, 24h, 7d, 1h30m) nor a date-time (e.g. 2026-11-30, "
             "2026-11-30T08:00, 2026-11-30T08:00:00Z)";
  return std::nullopt;
}

}  // namespace llmtap::report
