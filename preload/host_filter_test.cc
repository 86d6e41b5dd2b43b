#include "preload/host_filter.h"

#include <gtest/gtest.h>

namespace llmtap::preload {
namespace {

TEST(HostFilterTest, ProviderHostsAlwaysSelected) {
  HostFilter f("");
  EXPECT_TRUE(f.selected("api.openai.com"));
  EXPECT_TRUE(f.selected("API.Anthropic.com"));
  EXPECT_TRUE(f.selected("myres.openai.azure.com"));
  EXPECT_TRUE(f.selected("chatgpt.com"));
  EXPECT_FALSE(f.selected("example.com"));
  EXPECT_FALSE(f.selected(""));
  EXPECT_FALSE(f.selected("127.0.0.1"));
  EXPECT_TRUE(f.selected("api.openai.com."));  // fully qualified SNI
  EXPECT_TRUE(f.selected("API.OPENAI.COM."));
}

TEST(HostFilterTest, ExtraHostsExactAndSuffix) {
  HostFilter f(" 127.0.0.1, localhost ,*.corp.example,,.internal ");
  EXPECT_TRUE(f.selected("127.0.0.1"));
  EXPECT_TRUE(f.selected("LOCALHOST"));
  EXPECT_TRUE(f.selected("llm.corp.example"));
  EXPECT_FALSE(f.selected("corp.example"));
  EXPECT_TRUE(f.selected("a.internal"));
  EXPECT_FALSE(f.selected("127.0.0.2"));
  EXPECT_FALSE(f.selected("localhost.evil"));
}

}  // namespace
}  // namespace llmtap::preload
