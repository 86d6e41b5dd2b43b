#include "report/time_window.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace llmtap::report {
namespace {

constexpr UnixNanos kS = 1'000'000'000;
constexpr UnixNanos kNow = 1'795'939'200LL * kS;  // 2026-11-29T08:00:00Z

TEST(TimeWindow, Durations) {
  std::string e;
  EXPECT_EQ(parse_time_point("24h", kNow, &e), kNow - 86400 * kS);
  EXPECT_EQ(parse_time_point("90s", kNow, &e), kNow - 90 * kS);
  EXPECT_EQ(parse_time_point("1h30m", kNow, &e), kNow - 5400 * kS);
  EXPECT_EQ(parse_time_point("7d", kNow, &e), kNow - 7 * 86400 * kS);
  EXPECT_EQ(parse_time_point("2w", kNow, &e), kNow - 14 * 86400 * kS);
}

// Found by api_params_fuzz (?until=...): parts each under a century summed past INT64_MAX.
TEST(TimeWindow, PartsSummingPastACenturyAreRefused) {
  std::string e;
  EXPECT_FALSE(parse_time_point("90000d90000d", kNow, &e));
  EXPECT_NE(e.find("'90000d90000d'"), std::string::npos) << e;
  EXPECT_FALSE(parse_time_point("5000w5000w", kNow, &e));
  EXPECT_EQ(parse_time_point("3000d3000d", kNow, &e), kNow - 6000 * 86400 * kS);
}

TEST(TimeWindow, DateTimes) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  std::string e;
  EXPECT_EQ(parse_time_point("2026-11-29T08:00:00Z", 0, &e), kNow);
  EXPECT_EQ(parse_time_point("2026-11-29T09:30:00+01:30", 0, &e), kNow);
  EXPECT_EQ(parse_time_point("2026-11-29 08:00", 0, &e), kNow);  // local (TZ=UTC here)
  EXPECT_EQ(parse_time_point("2026-11-29", 0, &e), kNow - 8 * 3600 * kS);
}

TEST(TimeWindow, BadValuesNameThemselves) {
  for (const char* bad : {"", "24", "h", "24x", "-5m", "2026-13-01", "2026-11-29T25:00", "yesterday", "5m junk"}) {
    std::string e;
    EXPECT_FALSE(parse_time_point(bad, kNow, &e)) << bad;
    EXPECT_NE(e.find(std::string("'") + bad + "'"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace llmtap::report
