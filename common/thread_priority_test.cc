#include "common/thread_priority.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace llmtap {
namespace {

int nice_of_this_thread() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

struct SeenByThread {
  bool ok = false;
  int nice = -100;
  int policy = -1;
  char name[16] = {};
};

// Starts a thread that becomes a background thread and reports what it saw.
SeenByThread run_background(const char* name) {
  SeenByThread seen;
  std::thread([&] {
    seen.ok = enter_background_thread(name);
    seen.nice = nice_of_this_thread();
    seen.policy = sched_getscheduler(0);
    pthread_getname_np(pthread_self(), seen.name, sizeof seen.name);
  }).join();
  return seen;
}

TEST(ThreadPriority, BackgroundThreadRunsTheIncrementBelowTheThreadThatConfiguredIt) {
  const int base = nice_of_this_thread();
  if (base > kMaxBackgroundNice - 5) GTEST_SKIP() << "the test runs at nice " << base;
  set_background_nice(5);
  EXPECT_EQ(background_nice(), 5);
  SeenByThread seen = run_background("llmtap-bgtest");
  EXPECT_TRUE(seen.ok);
  EXPECT_EQ(seen.nice, base + 5);
  EXPECT_STREQ(seen.name, "llmtap-bgtest");
  EXPECT_EQ(nice_of_this_thread(), base) << "only the background thread is lowered";
}

TEST(ThreadPriority, ABackgroundThreadStartedByAnotherIsNotLoweredTwice) {
  const int base = nice_of_this_thread();
  if (base > kMaxBackgroundNice - 4) GTEST_SKIP() << "the test runs at nice " << base;
  set_background_nice(4);
  int inner = -100;
  std::thread([&] {
    enter_background_thread("llmtap-outer");
    std::thread([&] {  // inherits nice base+4 from its creator
      enter_background_thread("llmtap-inner");
      inner = nice_of_this_thread();
    }).join();
  }).join();
  EXPECT_EQ(inner, base + 4);
}

TEST(ThreadPriority, ZeroKeepsTheConfiguringThreadsPriorityAndLargeIncrementsAreClamped) {
  const int base = nice_of_this_thread();
  set_background_nice(0);
  EXPECT_EQ(run_background("llmtap-bgzero").nice, base);
  set_background_nice(kMaxBackgroundNice);
  EXPECT_EQ(run_background("llmtap-bgmax").nice, kMaxBackgroundNice);
  EXPECT_EQ(run_background("llmtap-bgmax").policy, SCHED_OTHER);
  set_background_nice(100);
  EXPECT_EQ(background_nice(), kBackgroundIdle);
  set_background_nice(-3);
  EXPECT_EQ(background_nice(), 0);
  set_background_nice(kDefaultBackgroundNice);
}

TEST(ThreadPriority, IdleRunsBackgroundThreadsUnderTheIdlePolicyAndLeavesTheOthersAlone) {
  const int base = nice_of_this_thread();
  set_background_nice(kBackgroundIdle);
  SeenByThread seen = run_background("llmtap-bgidle");
  EXPECT_TRUE(seen.ok);
  EXPECT_EQ(seen.policy, SCHED_IDLE);
  EXPECT_EQ(seen.nice, base);
  EXPECT_STREQ(seen.name, "llmtap-bgidle");
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER) << "only the background thread is moved";
  // A thread it starts inherits the policy and may enter it again.
  int inner = -1;
  std::thread([&] {
    enter_background_thread("llmtap-outer");
    std::thread([&] {
      EXPECT_TRUE(enter_background_thread("llmtap-inner"));
      inner = sched_getscheduler(0);
    }).join();
  }).join();
  EXPECT_EQ(inner, SCHED_IDLE);
  set_background_nice(kDefaultBackgroundNice);
}

}  // namespace
}  // namespace llmtap
