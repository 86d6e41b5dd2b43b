#include "proxy/timer_anchor.h"

#include <gtest/gtest.h>

#include <memory>

namespace llmtap::proxy {
namespace {

// The anchor fires once a period and arms itself again; destroyed, it leaves nothing behind that
// would keep the io_context running or call into it.
TEST(TimerAnchor, RearmsItselfAndEndsWhenDestroyed) {
  boost::asio::io_context ioc;
  auto anchor = std::make_unique<TimerAnchor>(ioc);
  EXPECT_EQ(ioc.run_one_for(TimerAnchor::kPeriod * 10), 1u);
  EXPECT_EQ(ioc.run_one_for(TimerAnchor::kPeriod * 10), 1u);  // only there because it re-armed
  anchor.reset();
  ioc.restart();
  EXPECT_EQ(ioc.run_for(TimerAnchor::kPeriod * 10), 1u);  // the cancelled wait, and then no work
  EXPECT_TRUE(ioc.stopped());
}

}  // namespace
}  // namespace llmtap::proxy
