// The simdjson fast path and the nlohmann reference path read every request fixture, generated
// agent histories and random mutations of them into the same ModelCall (parsers/fast_request.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/test_source_dir.h"
#include "parsers/api_parser.h"
#include "parsers/fast_request.h"
#include "parsers/model_call_diff.h"
#include "parsers/response_body_gen.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using testing::fixture;
using testing::model_call_diff;

constexpr ApiShape kShapes[] = {ApiShape::kChatCompletions, ApiShape::kResponses, ApiShape::kAnthropicMessages,
                                ApiShape::kGemini, ApiShape::kEmbeddings, ApiShape::kGeminiEmbeddings,
                                ApiShape::kOllamaChat};

bool has_fast_path(ApiShape s) {
  return s == ApiShape::kChatCompletions || s == ApiShape::kResponses || s == ApiShape::kAnthropicMessages ||
         s == ApiShape::kGemini;
}

// Both paths on `body` for `shape`; returns the path kAuto took. Fails the test on any difference.
RequestParsedBy expect_same(ApiShape shape, const std::string& body, const std::string& what) {
  ModelCall fast, reference;
  std::string a = body, b = body;
  RequestParsedBy by = parse_request_body(a, *make_api_parser(shape), fast, RequestParsePath::kAuto);
  parse_request_body(b, *make_api_parser(shape), reference, RequestParsePath::kReference);
  std::string diff = model_call_diff(fast, reference);
  EXPECT_EQ(diff, "") << what << " shape " << static_cast<int>(shape);
  return by;
}

std::vector<std::string> request_fixtures() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(llmtap::test_support::source_dir()) + "/parsers/testdata")) {
    std::string n = e.path().filename().string();
    if (n.size() > 9 && n.substr(n.size() - 9) == ".req.json") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FastRequest, EveryFixtureIdenticalUnderEveryShape) {
  auto names = request_fixtures();
  ASSERT_GT(names.size(), 15u);
  int fast = 0;
  for (const auto& n : names) {
    std::string body = fixture(n);
    for (ApiShape s : kShapes) {
      RequestParsedBy by = expect_same(s, body, n);
      if (by == RequestParsedBy::kFast) ++fast;
      if (!has_fast_path(s)) {
        EXPECT_EQ(by, RequestParsedBy::kReference) << n;
      }
    }
  }
  // Well-formed fixtures take the fast path for Chat, Responses, Anthropic and Gemini (all but the bad-UTF-8 one).
  EXPECT_GE(fast, 4 * (static_cast<int>(names.size()) - 1));
}

TEST(FastRequest, GeneratedAgentHistoriesIdenticalAndFast) {
  std::string chat = testing::chat_history_body(256 * 1024);
  std::string responses = testing::responses_history_body(256 * 1024);
  EXPECT_EQ(expect_same(ApiShape::kChatCompletions, chat, "chat history"), RequestParsedBy::kFast);
  EXPECT_EQ(expect_same(ApiShape::kResponses, responses, "responses history"), RequestParsedBy::kFast);
  EXPECT_EQ(expect_same(ApiShape::kAnthropicMessages, testing::anthropic_history_body(256 * 1024), "anthropic history"),
            RequestParsedBy::kFast);
  EXPECT_EQ(expect_same(ApiShape::kGemini, testing::gemini_history_body(256 * 1024), "gemini history"),
            RequestParsedBy::kFast);
  ModelCall c;
  std::string body = chat;
  parse_request_body(body, *make_api_parser(ApiShape::kChatCompletions), c);
  EXPECT_GT(c.input.size(), 300u);
  EXPECT_EQ(c.tools.size(), 2u);
  EXPECT_EQ(c.attribution.metadata.size(), 2u);
}

// The cases where the two parsers could part ways: each must either agree or take the reference.
TEST(FastRequest, EdgeCasesAgree) {
  const std::string cases[] = {
      R"({"model":"a","model":"b","messages":[{"role":"user","content":"x","content":[{"text":"y"}]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"b":-0,"a":[1.0,-0.0,1e2,18446744073709551615,-9223372036854775808]}}}]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"x":1e400}}}]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"x":123456789012345678901234567890}}}]}]})",
      R"({"messages":[{"role":"user","content":"\ud800"}]})",
      R"({"messages":[{"role":"user","content":"\udc00"}]})",
      R"({"messages":[{"role":"user","content":"\ud83d\ude00 \u0000 \u00e9"}]})",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"tab\there\"}]}",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff\xfe utf8\"}]}",
      R"({"\u006dodel":"escaped-key","n":3.9,"stream":true,"messages":[]})",
      R"({"n":18446744073709551615,"messages":[]})",
      R"({"n":-1,"tools":[{"type":"function","function":{"name":"t","parameters":{"b":1,"a":{"d":[],"c":{}}}}}]})",
      R"({"messages":[]} trailing)",
      R"({"messages":[1,2,]})",
      R"([{"messages":[]}])",
      R"({"input":"hello","instructions":[{"text":"a"},"b",{"x":1}],"metadata":{"k":"v","k":"w","n":1}})",
      R"({"input":[{"type":"function_call","call_id":"c","name":"n","input":{"z":null,"a":true}}]})",
  };
  for (const auto& body : cases)
    for (ApiShape s : kShapes) expect_same(s, body, body);
  std::string deep = R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":)";
  for (int d : {50, 70, 127, 128, 129, 200}) {
    std::string b = deep + std::string(d, '[') + std::string(d, ']') + "}}]}]}";
    for (ApiShape s : kShapes) expect_same(s, b, "depth " + std::to_string(d));
  }
}

// Random byte edits of every fixture and of a generated history: both paths agree on each.
TEST(FastRequest, RandomMutationsAgree) {
  std::mt19937 rng(20261201);
  std::vector<std::string> seeds;
  for (const auto& n : request_fixtures()) seeds.push_back(fixture(n));
  seeds.push_back(testing::chat_history_body(8 * 1024));
  seeds.push_back(testing::responses_history_body(8 * 1024));
  seeds.push_back(testing::anthropic_history_body(8 * 1024));
  seeds.push_back(testing::gemini_history_body(8 * 1024));
  const std::string alphabet = "{}[]\",:\\0123456789.-eE+tfnul \xc3\xa9\xff\x01";
  for (const auto& seed : seeds) {
    for (int round = 0; round < 300; ++round) {
      std::string m = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        std::size_t pos = rng() % m.size();
        switch (rng() % 4) {
          case 0: m[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: m.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: m.erase(pos, 1 + rng() % 8); break;
          default: {  // duplicate a slice (repeated keys, repeated items)
            std::size_t len = 1 + rng() % 64;
            m.insert(pos, m.substr(rng() % m.size(), len));
          }
        }
      }
      for (ApiShape s : {ApiShape::kChatCompletions, ApiShape::kResponses, ApiShape::kAnthropicMessages, ApiShape::kGemini})
        expect_same(s, m, m.substr(0, 300));
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace llmtap
