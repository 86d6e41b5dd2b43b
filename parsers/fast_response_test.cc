// The simdjson fast path and the nlohmann reference path give the same ModelCall for whole
// exchanges (request, non-streamed body, SSE / JSON-array / NDJSON streams; parsers/fast_request.h):
// every response fixture under every API with a fast path, fed whole, at random chunk boundaries,
// chunked and compressed; generated large bodies and streams of every API; random mutations.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/test_source_dir.h"
#include "parsers/model_call_diff.h"
#include "parsers/response_body_gen.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

struct ApiTarget {
  const char* name;
  const char* host;
  const char* json_target;    // non-streamed (and SSE, when the body is an event stream)
  const char* stream_target;  // a JSON-array / NDJSON stream by its path
};

constexpr ApiTarget kTargets[] = {
    {"chat", "api.openai.com", "/v1/chat/completions", "/v1/chat/completions"},
    {"responses", "api.openai.com", "/v1/responses", "/v1/responses"},
    {"anthropic", "api.anthropic.com", "/v1/messages", "/v1/messages"},
    {"gemini", "generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-flash:generateContent",
     "/v1beta/models/gemini-2.5-flash:streamGenerateContent"},
};

bool is_event_stream(const std::string& body) {
  return body.rfind("data:", 0) == 0 || body.rfind("event:", 0) == 0 || body.rfind(":", 0) == 0;
}

// One exchange under both paths with the same cuts; fails on the first difference.
void expect_paths_agree(const ApiTarget& t, const std::string& request_body, const std::string& response_body,
                        const std::string& kind, std::mt19937& rng, const std::string& what) {
  const bool sse = kind == "sse" || (kind.empty() && is_event_stream(response_body));
  const bool seq = kind == "array" || kind == "ndjson";
  const std::string content_type = sse ? "text/event-stream" : kind == "ndjson" ? "application/x-ndjson" : "application/json";
  const ConnectionInfo conn{t.host, 443, true, "proxy", 0};
  const std::string req = http_request("POST", seq ? t.stream_target : t.json_target, t.host, request_body);
  auto compare = [&](const std::string& label, const std::string& resp, const std::vector<std::size_t>& cuts) {
    if (::testing::Test::HasFailure()) return;
    ParserOptions fast_opts, ref_opts;
    ref_opts.reference_json_only = true;
    auto fast = run_exchange(conn, req, resp, cuts, cuts, fast_opts);
    auto ref = run_exchange(conn, req, resp, cuts, cuts, ref_opts);
    ASSERT_EQ(fast.size(), ref.size()) << what << " " << label;
    for (std::size_t i = 0; i < fast.size(); ++i)
      EXPECT_EQ(model_call_diff(fast[i], ref[i]), "") << t.name << " " << what << " " << label;
  };
  const std::string plain = http_response(200, content_type, response_body);
  compare("whole", plain, {});
  for (int round = 0; round < 6; ++round) {
    std::vector<std::size_t> cuts;
    const std::size_t max_piece = round % 2 ? 7 : 400;
    for (std::size_t p = 0; p < plain.size();) cuts.push_back(p += 1 + rng() % max_piece);
    compare("random cuts " + std::to_string(round), plain, cuts);
  }
  compare("chunked", http_response(200, content_type, response_body, "", 37), {});
  compare("gzip", http_response(200, content_type, compress("gzip", response_body), "gzip"), {});
}

// The exchange fed whole under both paths, each record compared; the fast path's records.
std::vector<ModelCall> fast_agrees_whole(const ConnectionInfo& conn, const std::string& req, const std::string& resp,
                                         const std::string& what) {
  ParserOptions ref_opts;
  ref_opts.reference_json_only = true;
  auto fast = run_exchange(conn, req, resp, {}, {}, {});
  auto ref = run_exchange(conn, req, resp, {}, {}, ref_opts);
  EXPECT_EQ(fast.size(), ref.size()) << what;
  for (std::size_t i = 0; i < fast.size() && i < ref.size(); ++i) EXPECT_EQ(model_call_diff(fast[i], ref[i]), "") << what;
  return fast;
}

std::vector<std::string> fixtures_with(const std::vector<std::string>& suffixes) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(llmtap::test_support::source_dir()) + "/parsers/testdata")) {
    std::string n = e.path().filename().string();
    for (const auto& s : suffixes)
      if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string suffix_of(const std::string& name) { return name.substr(name.rfind('.') + 1); }

// The request fixture of the same exchange, else a small one.
std::string request_for(const std::string& response_name) {
  std::string base = response_name.substr(0, response_name.rfind('.'));
  if (std::filesystem::exists(std::string(llmtap::test_support::source_dir()) + "/parsers/testdata/" + base + ".req.json"))
    return fixture(base + ".req.json");
  return R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
}

TEST(FastResponse, EveryResponseFixtureIdenticalUnderEveryApi) {
  auto names = fixtures_with({".resp", ".sse", ".array", ".ndjson"});
  ASSERT_GT(names.size(), 20u);
  std::mt19937 rng(7);
  for (const auto& n : names) {
    const std::string body = fixture(n), req = request_for(n), kind = suffix_of(n);
    for (const ApiTarget& t : kTargets) expect_paths_agree(t, req, body, kind == "resp" ? "" : kind, rng, n);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(FastResponse, GeneratedBodiesAndStreamsIdentical) {
  std::mt19937 rng(11);
  const std::size_t kBytes = 64 * 1024;
  struct Case {
    const ApiTarget& target;
    std::string request, body, stream;
  } cases[] = {
      {kTargets[0], chat_history_body(kBytes), chat_json_body(kBytes), chat_stream_body(kBytes)},
      {kTargets[1], responses_history_body(kBytes), responses_json_body(kBytes), responses_stream_body(kBytes)},
      {kTargets[2], anthropic_history_body(kBytes), anthropic_json_body(kBytes), anthropic_stream_body(kBytes)},
      {kTargets[3], gemini_history_body(kBytes), gemini_json_body(kBytes), gemini_stream_body(kBytes)},
  };
  for (const auto& c : cases) {
    expect_paths_agree(c.target, c.request, c.body, "", rng, "generated body");
    expect_paths_agree(c.target, c.request, c.stream, "sse", rng, "generated stream");
    // The record is the real one, not two equal empty ones.
    auto calls = run_exchange(ConnectionInfo{c.target.host, 443, true, "proxy", 0},
                              http_request("POST", c.target.json_target, c.target.host, c.request),
                              http_response(200, "text/event-stream", c.stream), {}, {});
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].status, CallStatus::kComplete) << c.target.name;
    EXPECT_GT(calls[0].input.size(), 50u) << c.target.name;
    ASSERT_FALSE(calls[0].output.empty()) << c.target.name;
    EXPECT_GT(calls[0].output[0].text.size(), kBytes / 64) << c.target.name;  // streams are mostly envelope
  }
}

// Random edits of every stream and body fixture: invalid events, odd types, repeated keys. Both
// paths must still agree (the fast one falling back where simdjson is stricter).
TEST(FastResponse, MutatedFixturesAgree) {
  std::mt19937 rng(1234);
  const std::string alphabet = "{}[]\",:\\0123456789.-eE+tfnul \n\xc3\xa9\xff\x01";
  for (const auto& n : fixtures_with({".resp", ".sse", ".array"})) {
    const std::string seed = fixture(n), req = request_for(n), kind = suffix_of(n) == "resp" ? "" : suffix_of(n);
    for (int round = 0; round < 40; ++round) {
      std::string m = seed;
      for (int e = 1 + static_cast<int>(rng() % 4); e > 0 && !m.empty(); --e) {
        std::size_t pos = rng() % m.size();
        switch (rng() % 4) {
          case 0: m[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: m.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          case 2: m.erase(pos, 1 + rng() % 8); break;
          default: m.insert(pos, m.substr(rng() % m.size(), 1 + rng() % 64));  // repeated keys, items
        }
      }
      for (const ApiTarget& t : kTargets) {
        const ConnectionInfo conn{t.host, 443, true, "proxy", 0};
        const bool seq = kind == "array";
        const std::string content_type = kind == "sse" || (kind.empty() && is_event_stream(m)) ? "text/event-stream" : "application/json";
        const std::string r = http_request("POST", seq ? t.stream_target : t.json_target, t.host, req);
        const std::string resp = http_response(200, content_type, m);
        fast_agrees_whole(conn, r, resp, std::string(t.name) + " " + n + " round " + std::to_string(round) + ": " + m.substr(0, 400));
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}


// A chunk's events are read through one parse_many (StreamUnitBatch): an ill-formed event at any place
// among well-formed ones, the whole stream fed at once, must give what each event read alone gives.
TEST(FastResponse, BatchedEventsAgreeAroundAnIllFormedOne) {
  const std::string deep = "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}";
  const std::vector<std::string> bad = {
      "{\"type\":\"content_block_delta\",\"x\":\"unclosed}",  // its string runs into the next event
      "{\"a\":1}{\"b\":2}",                                     // two documents in one event
      "{\"a\":1} {\"type\":\"message_stop\"}",
      "{\"a\":{\"b\":1}",                                       // an object left open
      "{\"t\":\"\xff\"}",                                       // ill-formed UTF-8
      "{\"s\":\"a\x01" "b\"}",                                  // a control character in a string
      "{\"n\":1e999}",                                          // a number simdjson refuses
      deep,                                                     // deeper than the fast path's 64
      "{\"type\":\"x\",\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"k\"}}",
      "{}",
  };
  std::mt19937 rng(5);
  struct Stream {
    const ApiTarget& target;
    std::string body;
    std::string sep;
  } streams[] = {
      {kTargets[0], chat_stream_body(3000), "\n\n"},
      {kTargets[1], responses_stream_body(3000), "\n\n"},
      {kTargets[2], anthropic_stream_body(3000), "\n\n"},
      {kTargets[3], gemini_stream_body(3000), "\r\n\r\n"},
  };
  for (const auto& st : streams) {
    std::vector<std::size_t> ends;  // just past each event
    for (std::size_t p = st.body.find(st.sep); p != std::string::npos; p = st.body.find(st.sep, p + 1))
      ends.push_back(p + st.sep.size());
    ASSERT_GT(ends.size(), 10u) << st.target.name;
    for (const std::string& b : bad) {
      for (std::size_t at : {ends[0], ends[ends.size() / 2], ends[ends.size() - 2]}) {
        std::string m = st.body;
        m.insert(at, "data: " + b + st.sep);
        const ConnectionInfo conn{st.target.host, 443, true, "proxy", 0};
        const std::string r = http_request("POST", st.target.json_target, st.target.host, request_for(""));
        const std::string resp = http_response(200, "text/event-stream", m);
        const auto fast = fast_agrees_whole(conn, r, resp, std::string(st.target.name) + " at " + std::to_string(at) + ": " + b);
        ASSERT_FALSE(fast.empty());
        EXPECT_FALSE(fast[0].output.empty()) << st.target.name << ": the events around the bad one were read";
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace llmtap
