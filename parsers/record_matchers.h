#pragma once
// gtest helpers asserting normalized messages field by field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/model_call.h"

namespace llmtap::testing {

inline void expect_message(const Message& m, const std::string& role, const std::string& text,
                           const std::string& reasoning = "", const std::vector<ToolCall>& calls = {},
                           const std::string& tool_call_id = "", const std::string& tool_name = "",
                           bool is_error = false) {
  EXPECT_EQ(m.role, role);
  EXPECT_EQ(m.text, text);
  EXPECT_EQ(m.reasoning, reasoning);
  ASSERT_EQ(m.tool_calls.size(), calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(m.tool_calls[i].id, calls[i].id) << i;
    EXPECT_EQ(m.tool_calls[i].name, calls[i].name) << i;
    EXPECT_EQ(m.tool_calls[i].arguments, calls[i].arguments) << i;
  }
  EXPECT_EQ(m.tool_call_id, tool_call_id);
  EXPECT_EQ(m.tool_name, tool_name);
  EXPECT_EQ(m.is_error, is_error);
}

inline void expect_usage(const Usage& u, std::int64_t uncached, std::int64_t cache_read, std::int64_t write_5m,
                         std::int64_t write_1h, std::int64_t output, std::int64_t reasoning) {
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.input_uncached, uncached);
  EXPECT_EQ(u.cache_read, cache_read);
  EXPECT_EQ(u.cache_write_5m, write_5m);
  EXPECT_EQ(u.cache_write_1h, write_1h);
  EXPECT_EQ(u.output, output);
  EXPECT_EQ(u.reasoning, reasoning);
}

// Stream timings: first content after the first response byte, the end at close.
inline void expect_stream_timings(const ModelCall& c) {
  EXPECT_GE(c.timings.first_content_chunk, c.timings.response_first_byte);
  EXPECT_GT(c.timings.first_content_chunk, 0);
  EXPECT_GE(c.timings.response_end, c.timings.first_content_chunk);
  EXPECT_GE(c.timings.request_end, c.timings.request_start);
}

}  // namespace llmtap::testing
