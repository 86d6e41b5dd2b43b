// A 300-turn coding-agent conversation (parsers/agent_conversation_gen.h), every turn's raw exchange
// through ConnectionStitcher and TraceBuilder: one trace whose spans are the same whether the
// requests were read on the simdjson fast path or the nlohmann reference path, with one generation
// per turn and one tool span per answered call, each turn joined to the conversation.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "parsers/agent_conversation_gen.h"
#include "parsers/connection_stitcher.h"
#include "trace/trace_builder.h"

namespace llmtap {
namespace {

struct Calls : ModelCallSink {
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall c) override { calls.push_back(std::move(c)); }
};

struct Traces : TraceSink {
  std::vector<Trace> traces;
  void on_trace(const Trace& t) override { traces.push_back(t); }
};

std::string value_text(const AttrValue& v) {
  std::ostringstream out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          for (const auto& s : x) out << s << '|';
        } else {
          out << x;
        }
      },
      v);
  return out.str();
}

// The trace with its random ids replaced by span positions: one line per span.
std::vector<std::string> canonical(const Trace& t) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < t.spans.size(); ++i) index[t.spans[i].span_id] = i;
  std::vector<std::string> lines;
  for (const Span& s : t.spans) {
    std::ostringstream l;
    auto parent = index.find(s.parent_span_id);
    l << to_string(s.kind) << ' ' << s.name << " parent=" << (parent == index.end() ? -1 : static_cast<long>(parent->second))
      << ' ' << s.start_ns << '-' << s.end_ns << " error=" << s.error << ' ' << s.status_message;
    for (const auto& a : s.attributes) {
      if (a.key.find("span_id") != std::string::npos || a.key.find("trace_id") != std::string::npos) continue;
      l << ' ' << a.key << '=' << value_text(a.value);
    }
    lines.push_back(l.str());
  }
  return lines;
}

// `elide`: all turns on one keep-alive connection whose requests leave out the repeated history
// (ParserOptions::elide_request_prefix); otherwise a connection per turn, every request read whole.
std::vector<Trace> run_conversation(int turns, std::size_t result_bytes, bool reference, bool capture,
                                    bool elide = false) {
  ParserOptions opts;
  opts.reference_json_only = reference;
  opts.elide_request_prefix = elide;
  Calls kept;
  ConnectionStitcher keep_alive(ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0}, 1, opts, kept);
  TraceOptions topts;
  topts.capture_content = capture;
  Traces traces;
  TraceBuilder builder(topts, nullptr, traces);
  testing::AgentConversation conv(result_bytes);
  UnixNanos t = 1'700'000'000'000'000'000;
  for (int turn = 1; turn <= turns; ++turn) {
    Calls calls;
    {
      ConnectionStitcher st(ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0}, 1, opts, calls);
      ConnectionStitcher& use = elide ? keep_alive : st;
      const std::string req = conv.http_request(conv.request_body()), resp = conv.http_response(turn);
      for (std::size_t i = 0; i < req.size(); i += 16384)
        use.data(Direction::kClientToServer, std::string_view(req).substr(i, 16384), t);
      use.data(Direction::kServerToClient, resp, t + 500'000'000);
      st.close(t + 900'000'000);
      if (elide) {
        calls.calls = std::move(kept.calls);
        kept.calls.clear();
        if (turn > 1 && !calls.calls.empty()) {
          EXPECT_GT(calls.calls[0].input_prefix.elided_messages, 0u) << turn;
        }
      }
    }
    EXPECT_EQ(calls.calls.size(), 1u) << "turn " << turn;
    for (auto& c : calls.calls) builder.on_model_call(std::move(c));
    conv.next_turn(turn);
    t += 2'000'000'000;
  }
  builder.close_all(t);
  return traces.traces;
}

void expect_one_whole_trace(const std::vector<Trace>& traces, int turns) {
  ASSERT_EQ(traces.size(), 1u);
  int generations = 0, tools = 0;
  for (const Span& s : traces[0].spans) {
    generations += s.kind == SpanKind::kGeneration;
    tools += s.kind == SpanKind::kTool;
  }
  EXPECT_EQ(generations, turns);
  EXPECT_EQ(tools, turns);  // every turn's Read: answered by the next request, the last one left open
}

void expect_same_traces(const std::vector<Trace>& a, const std::vector<Trace>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = canonical(a[i]), y = canonical(b[i]);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t k = 0; k < x.size(); ++k) ASSERT_EQ(x[k], y[k]) << "span " << k;
  }
}

TEST(LargeContext, LongConversationSameTraceOnBothParsePaths) {
  constexpr int kTurns = 300;
  for (bool capture : {false, true}) {
    SCOPED_TRACE(capture ? "capture on" : "capture off");
    auto fast = run_conversation(kTurns, 600, false, capture);
    auto reference = run_conversation(kTurns, 600, true, capture);
    expect_one_whole_trace(fast, kTurns);
    expect_same_traces(fast, reference);
  }
}

// With content capture off (when the pipeline elides), a conversation whose requests leave out
// their repeated history gives the same trace as one whose requests were read whole.
TEST(LargeContext, ElidedHistorySameTraceAsWholeRequests) {
  constexpr int kTurns = 120;
  auto whole = run_conversation(kTurns, 600, false, false);
  auto elided = run_conversation(kTurns, 600, false, false, true);
  expect_one_whole_trace(elided, kTurns);
  expect_same_traces(whole, elided);
}

}  // namespace
}  // namespace llmtap
