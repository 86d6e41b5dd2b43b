// Per-request noise in instructions is masked; real differences are kept.
#include "trace/volatile_tokens.h"

#include <gtest/gtest.h>

#include "trace/agent_identity.h"

namespace llmtap::trace {
namespace {

TEST(VolatileTokens, MasksEachShape) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"x-anthropic-billing-header: cc_version=2.1.22.f3a; cc_entrypoint=cli; cch=8a3f1;",
       "x-anthropic-billing-header: cc_version=2.1.22.f3a; cc_entrypoint=cli; cch=<v>;"},
      {"request id 123e4567-e89b-12d3-a456-426614174000 here", "request id <uuid> here"},
      {"REQ 123E4567-E89B-12D3-A456-426614174000.", "REQ <uuid>."},
      {"Today's date is 2026-12-01.", "Today's date is <date>."},
      {"Now: 2026-12-01T10:04:05.123Z end", "Now: <date> end"},
      {"at 2026-12-01 10:04:05+01:00 sharp", "at <date> sharp"},
      {"at 2026-12-01T10:04+0100", "at <date>"},
      {"date 2026/12/01 and 01/12/2026", "date <date> and <date>"},
      {"Today is Tuesday, December 1, 2026.", "Today is <date>, <date>."},
      {"on 1 Dec 2026 or Dec. 21st, 2026", "on <date> or <date>"},
      {"It is 10:04 now, or 9:05 PM, or 10:04:05.5", "It is <time> now, or <time>, or <time>"},
      {"epoch 1764583445 or 1764583445.123456 ms", "epoch <n> or <n> ms"},
      {"commit 4f2a9c1e0b and sha256:9f86d081884c7d659a2feaa0c55ad015", "commit <hex> and sha256:<hex>"},
      {"req_8f3a9b2c0d1e", "req_<hex>"},
      {"token dGhpcyBpcyBhIHRlc3QgdG9rZW4x== ok", "token <id> ok"},
      {"msg_01HZX3K9QF7M2N8P4R6T0V", "msg_<id>"},
      {"nonce: abc; timestamp=17; session_id=\"s-42\"; trace-id: t1", "nonce: <v>; timestamp=<v>; session_id=\"<v>\"; trace-id: <v>"},
      {"cache_marker=7 and x-request-id: r9", "cache_marker=<v> and x-request-id: <v>"},
  };
  for (const auto& c : cases) EXPECT_EQ(mask_volatile_tokens(c.in), c.want) << c.in;
}

TEST(VolatileTokens, KeepsWhatReallyDiffers) {
  for (const char* keep : {
           "You are a triage agent. Hand off to billing for invoices.",
           "Answer in at most 5 sentences; retry 3 times; use version 1.2.3 of the API.",
           "Working directory: /home/user/project2/src; platform linux; model gpt-4.1-mini",
           "Use the tool lookup_order for order 1002 questions.",
           "May I help you? March forward. A date with destiny.",
           "Call get_weather_v2 with city=Paris; limit: 10",
           "internationalization localization",
           "deadbeef is a word",  // hex letters only, no digit
           "ratio 3:1 and room 12a",
       })
    EXPECT_EQ(mask_volatile_tokens(keep), keep);
}

TEST(VolatileTokens, OneAgentAcrossRequestsTwoAgentsStayTwo) {
  // Claude Code stamps its first system block with a per-request checksum.
  auto claude = [](const char* cch, const char* date) {
    return std::string("x-anthropic-billing-header: cc_version=2.1.22.f3a; cc_entrypoint=cli; cch=") + cch +
           ";\nYou are Claude Code, Anthropic's official CLI for Claude.\nToday's date is " + date +
           ".\nSession 123e4567-e89b-12d3-a456-426614174000";
  };
  const std::vector<ToolDef> tools = {{"Bash", ""}, {"Read", ""}};
  const std::string a = agent_fingerprint(claude("8a3f1", "2026-12-01"), tools);
  EXPECT_EQ(a, agent_fingerprint(claude("c01d2", "2026-12-02"), tools));
  // Different instructions, or other tools, are other agents.
  EXPECT_NE(a, agent_fingerprint(claude("8a3f1", "2026-12-01") + "\nYou only review code.", tools));
  EXPECT_NE(a, agent_fingerprint(claude("8a3f1", "2026-12-01"), {{"Bash", ""}}));
  EXPECT_NE(agent_fingerprint("You are a billing agent. Refund at most 5 orders.", {}),
            agent_fingerprint("You are a billing agent. Refund at most 50 orders.", {}));
  EXPECT_NE(agent_fingerprint("You are the Triage Agent.", {}), agent_fingerprint("You are the Billing Agent.", {}));
  // Instructions with nothing volatile hash exactly as before (ids in stores stay valid).
  EXPECT_EQ(agent_fingerprint("You are a triage agent.", {}), agent_fingerprint("  You are a triage agent.\n", {}));
}

}  // namespace
}  // namespace llmtap::trace
