#include "parsers/attribution.h"

#include <gtest/gtest.h>

#include "parsers/header_filter.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace llmtap::testing;

const ConnectionInfo kOpenAI{"api.openai.com", 443, true, "proxy", 0};
const ConnectionInfo kAnthropic{"api.anthropic.com", 443, true, "proxy", 0};

std::string metadata_value(const Attribution& a, const std::string& key) {
  for (const auto& [k, v] : a.metadata)
    if (k == key) return v;
  return "<absent>";
}

ModelCall one_call(const ConnectionInfo& conn, const std::string& path, const std::string& body,
                   const std::vector<std::string>& headers = {}, const ParserOptions& opts = {}) {
  auto calls = run_exchange(conn, http_request("POST", path, conn.host, body, headers),
                            http_response(200, "application/json", "{\"id\":\"x\",\"choices\":[]}"), {}, {}, opts);
  EXPECT_EQ(calls.size(), 1u);
  return calls.empty() ? ModelCall{} : calls[0];
}

TEST(Attribution, OpenAIChatBodyFields) {
  ModelCall c = one_call(kOpenAI, "/v1/chat/completions",
                         R"({"model":"gpt-4o","messages":[],"user":"legacy-user","safety_identifier":"safe-1",)"
                         R"("prompt_cache_key":"pck-9","metadata":{"tenant":"acme","n":3}})");
  EXPECT_EQ(c.attribution.user_id, "safe-1");  // safety_identifier replaces the deprecated user
  EXPECT_EQ(c.attribution.prompt_cache_key, "pck-9");
  EXPECT_EQ(metadata_value(c.attribution, "tenant"), "acme");
  EXPECT_EQ(metadata_value(c.attribution, "n"), "<absent>");  // OpenAI metadata values are strings

  ModelCall legacy = one_call(kOpenAI, "/v1/chat/completions", R"({"model":"gpt-4o","messages":[],"user":"u-7"})");
  EXPECT_EQ(legacy.attribution.user_id, "u-7");
}

TEST(Attribution, OpenAIResponsesAndEmbeddings) {
  ModelCall r = one_call(kOpenAI, "/v1/responses", R"({"model":"gpt-4o","input":"hi","safety_identifier":"s-2"})");
  EXPECT_EQ(r.attribution.user_id, "s-2");
  ModelCall e = one_call(kOpenAI, "/v1/embeddings", R"({"model":"text-embedding-3-small","input":"x","user":"e-3"})");
  EXPECT_EQ(e.attribution.user_id, "e-3");
}

TEST(Attribution, AnthropicMetadataUserId) {
  ModelCall c = one_call(kAnthropic, "/v1/messages",
                         R"({"model":"claude-sonnet-4-5","max_tokens":5,"messages":[],"metadata":{"user_id":"anthro-1"}})");
  EXPECT_EQ(c.attribution.user_id, "anthro-1");
}

// Claude Code packs its ids into metadata.user_id as a JSON string: the device (the user), the
// account (empty with an API key) and the session. The user must not change with every session.
TEST(Attribution, PackedIdsInAUserFieldAreUnpacked) {
  auto claude_code = [](const std::string& session) {
    return one_call(kAnthropic, "/v1/messages?beta=true",
                    R"({"model":"claude-sonnet-4-5","max_tokens":5,"messages":[],"metadata":{"user_id":)"
                    R"("{\"device_id\":\"1ac33572e0cef08b\",\"account_uuid\":\"\",\"session_id\":\")" + session +
                        R"(\"}"}})");
  };
  ModelCall a = claude_code("00a285a5-4a8a-4e6f-ac5e-069acf5845d4");
  ModelCall b = claude_code("9866112d-0ab7-42a0-806b-7a470fcb4dd4");
  EXPECT_EQ(a.attribution.user_id, "1ac33572e0cef08b");  // the device: no account with an API key
  EXPECT_EQ(b.attribution.user_id, a.attribution.user_id);
  EXPECT_EQ(a.attribution.session_id, "00a285a5-4a8a-4e6f-ac5e-069acf5845d4");
  EXPECT_EQ(b.attribution.session_id, "9866112d-0ab7-42a0-806b-7a470fcb4dd4");
  EXPECT_EQ(metadata_value(a.attribution, "device_id"), "<absent>");  // the ids are not metadata too

  // A logged-in account names the user across devices; other string members become metadata.
  Attribution acct;
  attribution::read_anthropic_body(nlohmann::json::parse(
      R"({"metadata":{"user_id":"{\"device_id\":\"d-1\",\"account_uuid\":\"acct-7\",\"session_id\":\"s-1\",\"org\":\"o-3\",\"n\":4}"}})"),
      acct);
  EXPECT_EQ(acct.user_id, "acct-7");
  EXPECT_EQ(acct.session_id, "s-1");
  EXPECT_EQ(metadata_value(acct, "org"), "o-3");
  EXPECT_EQ(metadata_value(acct, "n"), "<absent>");

  // The header and baggage still come first; a plain or malformed value is the user as sent.
  Attribution bag;
  attribution::read_baggage("session.id=bag-s", bag);
  attribution::read_anthropic_body(nlohmann::json::parse(
      R"({"metadata":{"user_id":"{\"device_id\":\"d-2\",\"session_id\":\"s-2\"}"}})"), bag);
  EXPECT_EQ(bag.session_id, "bag-s");
  EXPECT_EQ(bag.user_id, "d-2");
  for (const char* raw : {"{not json", "{\"session_id\":\"only\"}", "[\"a\"]", "{}"}) {
    Attribution plain;
    attribution::read_anthropic_body(nlohmann::json{{"metadata", {{"user_id", raw}}}}, plain);
    if (std::string(raw) == "{\"session_id\":\"only\"}") {
      EXPECT_EQ(plain.user_id, "");  // a packed value with no user member names no user
      EXPECT_EQ(plain.session_id, "only");
    } else {
      EXPECT_EQ(plain.user_id, raw) << raw;
    }
  }
  // OpenAI's user field may carry the same packing.
  ModelCall o = one_call(kOpenAI, "/v1/chat/completions",
                         R"({"model":"m","messages":[],"user":"{\"user_id\":\"u-9\",\"session_id\":\"s-9\"}"})");
  EXPECT_EQ(o.attribution.user_id, "u-9");
  EXPECT_EQ(o.attribution.session_id, "s-9");
}

TEST(Attribution, BaggageHeader) {
  ModelCall c = one_call(kOpenAI, "/v1/chat/completions", R"({"model":"m","messages":[],"user":"body-user"})",
                         {"baggage: user.id=bag%20user;prop=1, session.id=sess-4,tenant=acme%2Cinc,=bad"});
  EXPECT_EQ(c.attribution.user_id, "bag user");  // the header wins over the body
  EXPECT_EQ(c.attribution.session_id, "sess-4");
  EXPECT_EQ(metadata_value(c.attribution, "tenant"), "acme,inc");
  EXPECT_EQ(c.attribution.metadata.size(), 1u);
}

TEST(Attribution, ConfiguredHeadersWinAndAreReadEvenWhenNotRecorded) {
  ParserOptions opts;
  opts.user_header = "X-End-User";
  opts.session_header = "X-Session-Id";
  ModelCall c = one_call(kOpenAI, "/v1/chat/completions", R"({"model":"m","messages":[],"user":"body-user"})",
                         {"x-end-user: header-user", "X-Session-Id: conv-42", "baggage: user.id=bag,session.id=bag-s"},
                         opts);
  EXPECT_EQ(c.attribution.user_id, "header-user");
  EXPECT_EQ(c.attribution.session_id, "conv-42");
  // A header named like a session is still kept out of the recorded headers.
  EXPECT_EQ(header_value(c.request_headers, "x-session-id"), "");
}

TEST(Attribution, ValuesAndMetadataAreBounded) {
  Attribution a;
  std::string baggage;
  for (int i = 0; i < 100; ++i) baggage += "k" + std::to_string(i) + "=v,";
  attribution::read_baggage(baggage, a);
  EXPECT_EQ(a.metadata.size(), attribution::kMaxMetadataEntries);
  Attribution big;
  attribution::read_baggage("k=" + std::string(2000, 'v') + "," + std::string(100, 'k') + "=v", big);
  ASSERT_EQ(big.metadata.size(), 2u);
  EXPECT_EQ(big.metadata[0].second.size(), attribution::kMaxValueBytes);
  EXPECT_EQ(big.metadata[1].first.size(), attribution::kMaxKeyBytes);
  // The header itself is read up to 8 KiB (the W3C limit), so a huge one costs nothing more.
  Attribution huge;
  attribution::read_baggage(std::string(100000, 'x') + ",user.id=late", huge);
  EXPECT_EQ(huge.user_id, "");
  Attribution u;
  attribution::read_baggage("user.id=" + std::string(5000, 'x'), u);
  EXPECT_EQ(u.user_id.size(), attribution::kMaxValueBytes);
}

}  // namespace
}  // namespace llmtap
