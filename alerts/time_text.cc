#include "alerts/time_text.h"

#include <cstdio>
#include <ctime>

namespace llmtap::alerts {
namespace {

constexpr std::int64_t kNs = 1'000'000'000;

std::string utc(UnixNanos ns, const char* format) {
  std::time_t t = static_cast<std::time_t>(ns / kNs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string utc_minutes(UnixNanos ns) { return utc(ns, "%Y-%m-%d %H:%M UTC"); }
std::string utc_seconds(UnixNanos ns) { return utc(ns, "%Y-%m-%d %H:%M:%S UTC"); }

std::string rfc3339_ms(UnixNanos ns) {
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>((ns / 1'000'000) % 1000));
  return utc(ns, "%Y-%m-%dT%H:%M:%S") + ms;
}

std::string duration_text(UnixNanos ns) {
  const std::int64_t s = ns / kNs;
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string usd_text(double v) {
  char buf[48];
  if (v >= 1 || v <= 0) {
    std::snprintf(buf, sizeof buf, "$%.2f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "$%.6f", v);
  std::string out = buf;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out += "00";
  return out;
}

}  // namespace llmtap::alerts
