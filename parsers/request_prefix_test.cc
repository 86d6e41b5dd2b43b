// Resuming a request after the prefix the previous one repeated (parsers/request_prefix.h) reads the
// same ModelCall as parsing the whole body, less the left-out leading messages: over every request
// fixture cut at every element boundary of its array, generated histories, the coding-agent
// conversation of the large-context bench turn after turn, and through ConnectionStitcher at random
// chunk boundaries.
#include "parsers/request_prefix.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/test_source_dir.h"
#include "parsers/agent_conversation_gen.h"
#include "parsers/model_call_diff.h"
#include "parsers/request_body_gen.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using testing::model_call_diff;

constexpr ApiShape kShapes[] = {ApiShape::kChatCompletions, ApiShape::kResponses, ApiShape::kAnthropicMessages,
                                ApiShape::kGemini, ApiShape::kOllamaChat};

ModelCall with_route(ApiShape shape) {
  ModelCall c;
  c.api = "api" + std::to_string(static_cast<int>(shape));
  c.host = "example.test";
  c.path = "/v1/x";
  return c;
}

ModelCall parse(ApiShape shape, const std::string& body, RequestPrefix& prefix) {
  ModelCall c = with_route(shape);
  std::string b = body;
  parse_request_resuming(b, *make_api_parser(shape), c, prefix);
  return c;
}

// The whole parse, then what the resumed one must equal: its input less `elided` leading messages.
ModelCall expected_resumed(ModelCall whole, std::size_t elided, std::uint64_t elided_key) {
  whole.input.erase(whole.input.begin(), whole.input.begin() + static_cast<std::ptrdiff_t>(elided));
  whole.input_prefix.elided_key = elided_key;
  whole.input_prefix.elided_messages = elided;
  return whole;
}

// Where each element of the body's top-level `key` array ends (empty when there is no such array).
std::vector<std::size_t> element_ends(const std::string& body, std::string_view key) {
  std::vector<std::size_t> ends;
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) return ends;
  for (auto f : obj) {
    std::string_view k;
    if (f.unescaped_key().get(k) || k != key) continue;
    simdjson::ondemand::array arr;
    if (f.value().get_array().get(arr)) return {};
    ends.clear();
    for (auto e : arr) {
      simdjson::ondemand::value v;
      simdjson::ondemand::json_type type;
      std::string_view raw;
      if (std::move(e).get(v) || v.type().get(type)) return {};
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object o;
        if (v.get_object().get(o) || o.raw_json().get(raw)) return {};
      } else if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array a;
        if (v.get_array().get(a) || a.raw_json().get(raw)) return {};
      } else {
        raw = v.raw_json_token();
      }
      // raw_json of a scalar runs up to the next token: trim it.
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
        raw.remove_suffix(1);
      ends.push_back(static_cast<std::size_t>(raw.data() + raw.size() - padded.data()));
    }
  }
  return ends;
}

// `body` with its array's elements after the one ending at `cut` removed: an earlier turn.
std::string earlier_turn(const std::string& body, std::size_t cut, std::size_t last_end) {
  return body.substr(0, cut) + body.substr(last_end);
}

// Parses `earlier` then `body` with one RequestPrefix and checks the second against a whole parse.
// Returns whether it was resumed.
bool expect_resumes_identically(ApiShape shape, const std::string& earlier, const std::string& body,
                                const std::string& what) {
  RequestPrefix prefix;
  const ModelCall first = parse(shape, earlier, prefix);
  const RequestPrefix after_first = prefix;
  const ModelCall resumed = parse(shape, body, prefix);
  RequestPrefix fresh;
  const ModelCall whole = parse(shape, body, fresh);
  if (resumed.input_prefix.elided_key == 0) {
    EXPECT_EQ(model_call_diff(resumed, whole), "") << what;
    return false;
  }
  EXPECT_EQ(resumed.input_prefix.elided_key, first.input_prefix.key) << what;
  EXPECT_EQ(resumed.input_prefix.elided_messages, first.input.size()) << what;
  EXPECT_EQ(resumed.input_prefix.elided_messages, after_first.messages) << what;
  EXPECT_EQ(model_call_diff(resumed, expected_resumed(whole, first.input.size(), first.input_prefix.key)), "")
      << what;
  // What the next turn resumes from is the same whichever way this one was read.
  EXPECT_EQ(prefix.key(), fresh.key()) << what;
  EXPECT_EQ(prefix.messages, fresh.messages) << what;
  EXPECT_EQ(prefix.instruction_messages, fresh.instruction_messages) << what;
  return true;
}

std::vector<std::string> request_fixtures() {
  std::vector<std::string> names;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(llmtap::test_support::source_dir()) + "/parsers/testdata")) {
    std::string n = e.path().filename().string();
    if (n.size() > 9 && n.substr(n.size() - 9) == ".req.json") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every fixture under every API, each cut after each element of its array as the earlier turn.
TEST(RequestPrefix, EveryFixtureCutAtEveryElementResumesIdentically) {
  int resumed = 0;
  for (const auto& n : request_fixtures()) {
    const std::string body = testing::fixture(n);
    for (ApiShape s : kShapes) {
      const std::string_view key = make_api_parser(s)->resumable_array();
      if (key.empty()) {
        // Not resumable: read whole, as before.
        RequestPrefix p;
        parse(s, body, p);
        EXPECT_TRUE(p.empty()) << n;
        EXPECT_FALSE(expect_resumes_identically(s, body, body, n)) << n;
        continue;
      }
      const std::vector<std::size_t> ends = element_ends(body, key);
      for (std::size_t i = 0; i < ends.size(); ++i) {
        // Read whole instead (still identical): bodies continuing a server-side state, and those
        // with system/developer messages but no top-level instructions.
        resumed += expect_resumes_identically(s, earlier_turn(body, ends[i], ends.back()), body,
                                              n + " cut after element " + std::to_string(i));
      }
    }
  }
  EXPECT_GE(resumed, 16);  // the cuts of the Anthropic and Responses fixtures the rules above leave
}

TEST(RequestPrefix, GeneratedHistoriesResumeIdentically) {
  struct Case {
    ApiShape shape;
    std::string body;
  } cases[] = {{ApiShape::kResponses, testing::responses_history_body(64 * 1024)},
               {ApiShape::kAnthropicMessages, testing::anthropic_history_body(64 * 1024)}};
  std::mt19937 rng(7);
  for (const auto& c : cases) {
    const std::vector<std::size_t> ends = element_ends(c.body, make_api_parser(c.shape)->resumable_array());
    ASSERT_GT(ends.size(), 20u);
    for (int k = 0; k < 20; ++k) {
      const std::size_t i = rng() % ends.size();
      EXPECT_TRUE(expect_resumes_identically(c.shape, earlier_turn(c.body, ends[i], ends.back()), c.body,
                                             "cut after " + std::to_string(i)))
          << i;
    }
  }
}

TEST(RequestPrefix, CodingAgentConversationResumesTurnAfterTurn) {
  testing::AgentConversation conv(2000);
  RequestPrefix prefix;
  std::size_t messages = 0;
  for (int turn = 1; turn <= 30; ++turn) {
    const std::string body = conv.request_body();
    const ModelCall resumed = parse(ApiShape::kAnthropicMessages, body, prefix);
    RequestPrefix fresh;
    const ModelCall whole = parse(ApiShape::kAnthropicMessages, body, fresh);
    if (turn == 1) {
      EXPECT_EQ(model_call_diff(resumed, whole), "");
    } else {
      EXPECT_EQ(resumed.input_prefix.elided_messages, messages) << turn;
      EXPECT_EQ(model_call_diff(resumed, expected_resumed(whole, messages, resumed.input_prefix.elided_key)), "")
          << turn;
      EXPECT_EQ(resumed.input.size(), 2u) << turn;  // the assistant's tool call, the tool's result
    }
    messages = whole.input.size();
    conv.next_turn(turn);
  }
}

// What breaks the prefix is read whole: a changed byte in it, a different route, a cut inside an
// element, a request continuing a server-side state.
TEST(RequestPrefix, AnythingButAnExactPrefixIsReadWhole) {
  const std::string body = testing::anthropic_history_body(16 * 1024);
  const std::vector<std::size_t> ends = element_ends(body, "messages");
  ASSERT_GT(ends.size(), 4u);
  const std::string earlier = earlier_turn(body, ends[2], ends.back());
  auto resumes = [&](const std::string& a, const std::string& b, ApiShape sb = ApiShape::kAnthropicMessages) {
    RequestPrefix p;
    parse(ApiShape::kAnthropicMessages, a, p);
    return parse(sb, b, p).input_prefix.elided_messages != 0;
  };
  EXPECT_TRUE(resumes(earlier, body));
  std::string changed = body;
  changed[ends[1] - 3] ^= 1;  // inside the prefix: still valid JSON text, different bytes
  EXPECT_FALSE(resumes(earlier, changed));
  EXPECT_FALSE(resumes(earlier, body, ApiShape::kResponses));
  // The earlier turn ends mid-element in the later body: not a boundary there.
  std::string longer_element = body;
  longer_element.insert(ends[2] - 2, "x");
  EXPECT_FALSE(resumes(earlier, longer_element));

  const std::string r1 = R"({"model":"m","input":[{"role":"user","content":"a"}]})";
  const std::string r2 = R"({"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":"b"}],)"
                         R"("previous_response_id":"resp_1"})";
  RequestPrefix p;
  parse(ApiShape::kResponses, r1, p);
  EXPECT_FALSE(p.empty());
  const ModelCall c = parse(ApiShape::kResponses, r2, p);
  EXPECT_EQ(c.input_prefix.elided_messages, 0u);
  EXPECT_EQ(c.input.size(), 2u);
  EXPECT_TRUE(p.empty());  // nothing to resume from after a previous_response_id

  // System messages among the left-out ones count when there are no top-level instructions.
  const std::string s1 = R"({"input":[{"role":"system","content":"be brief"},{"role":"user","content":"a"}]})";
  const std::string s2 = R"({"input":[{"role":"system","content":"be brief"},{"role":"user","content":"a"},)"
                         R"({"role":"user","content":"b"}]})";
  RequestPrefix q;
  parse(ApiShape::kResponses, s1, q);
  EXPECT_EQ(parse(ApiShape::kResponses, s2, q).input.size(), 3u);
}

// Through the connection's stitcher, at random chunk boundaries: the calls of a connection with
// elision equal those without, less the left-out messages.
TEST(RequestPrefix, StitcherAtRandomChunkBoundaries) {
  testing::AgentConversation conv(1500);
  std::mt19937 rng(11);
  ParserOptions elide;
  elide.elide_request_prefix = true;
  testing::CollectingSink with, without;
  const ConnectionInfo info{"api.anthropic.com", 443, true, "proxy", 0};
  ConnectionStitcher a(info, 1, elide, with), b(info, 1, ParserOptions{}, without);
  UnixNanos t = 1000;
  for (int turn = 1; turn <= 12; ++turn) {
    const std::string req = conv.http_request(conv.request_body());
    const std::string resp = conv.http_response(turn);
    // The same exchanges, cut differently for the two.
    for (ConnectionStitcher* st : {&a, &b}) {
      for (std::size_t i = 0, n = 0; i < req.size(); i += n) {
        n = 1 + rng() % 9000;
        st->data(Direction::kClientToServer, std::string_view(req).substr(i, n), t);
      }
      for (std::size_t i = 0, n = 0; i < resp.size(); i += n) {
        n = 1 + rng() % 700;
        st->data(Direction::kServerToClient, std::string_view(resp).substr(i, n), t + 1);
      }
    }
    conv.next_turn(turn);
    t += 10;
  }
  a.close(t);
  b.close(t);
  ASSERT_EQ(with.calls.size(), 12u);
  ASSERT_EQ(without.calls.size(), 12u);
  std::size_t elided = 0;
  for (std::size_t i = 0; i < with.calls.size(); ++i) {
    ModelCall expect = without.calls[i];
    const InputPrefix& ip = with.calls[i].input_prefix;
    if (i > 0) {
      EXPECT_EQ(ip.elided_messages, without.calls[i - 1].input.size()) << i;
      EXPECT_EQ(ip.elided_key, with.calls[i - 1].input_prefix.key) << i;
    }
    elided += ip.elided_messages;
    expect.input.erase(expect.input.begin(), expect.input.begin() + static_cast<std::ptrdiff_t>(ip.elided_messages));
    expect.input_prefix = ip;
    EXPECT_EQ(model_call_diff(with.calls[i], expect), "") << i;
    EXPECT_NE(ip.key, 0u) << i;
  }
  EXPECT_GT(elided, 50u);
}

}  // namespace
}  // namespace llmtap
