// Requests whose leading messages the parser left out (ModelCall::input_prefix) give the same
// traces as the same requests whole (trace/elided_history.h), and what is kept stays bounded.
#include "trace/elided_history.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {
namespace {

bool same_message(const Message& a, const Message& b) {
  if (a.role != b.role || a.text != b.text || a.reasoning != b.reasoning || a.tool_call_id != b.tool_call_id ||
      a.tool_name != b.tool_name || a.is_error != b.is_error || a.name != b.name ||
      a.tool_calls.size() != b.tool_calls.size())
    return false;
  for (std::size_t i = 0; i < a.tool_calls.size(); ++i)
    if (a.tool_calls[i].id != b.tool_calls[i].id || a.tool_calls[i].name != b.tool_calls[i].name ||
        a.tool_calls[i].arguments != b.tool_calls[i].arguments)
      return false;
  return true;
}

bool is_instruction(const Message& m) { return m.role == "system" || m.role == "developer"; }

// What the parser does on one connection (keys from `first_key` on): every request gets a key; one
// that starts with the previous request's whole input carries only the messages after it, unless
// (as parsers/request_prefix.h rules) those hold instructions the request does not carry on top.
std::vector<ModelCall> elide(std::vector<ModelCall> calls, std::uint64_t first_key = 1000) {
  std::vector<Message> previous;
  std::uint64_t previous_key = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    ModelCall& c = calls[i];
    if (!c.previous_response_id.empty()) {  // never elided (parsers/request_prefix.h)
      previous_key = 0;
      continue;
    }
    const std::vector<Message> whole = c.input;
    c.input_prefix.key = first_key + i;
    const bool extends = previous_key != 0 && !previous.empty() && previous.size() <= whole.size() &&
                         std::equal(previous.begin(), previous.end(), whole.begin(), same_message) &&
                         (!c.system_instructions.empty() ||
                          std::none_of(previous.begin(), previous.end(), is_instruction));
    if (extends) {
      c.input_prefix.elided_key = previous_key;
      c.input_prefix.elided_messages = previous.size();
      c.input.erase(c.input.begin(), c.input.begin() + static_cast<std::ptrdiff_t>(previous.size()));
    }
    previous = whole;
    previous_key = c.input_prefix.key;
  }
  return calls;
}

std::vector<std::string> canonical(const std::vector<Trace>& traces) {
  std::vector<std::string> lines;
  for (const Trace& t : traces) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < t.spans.size(); ++i) index[t.spans[i].span_id] = i;
    lines.push_back(shape(t));
    for (const Span& s : t.spans) {
      std::ostringstream l;
      auto parent = index.find(s.parent_span_id);
      l << s.name << " parent=" << (parent == index.end() ? -1 : static_cast<long>(parent->second)) << ' '
        << s.start_ns << '-' << s.end_ns << " error=" << s.error << ' ' << s.status_message;
      for (const auto& a : s.attributes)
        if (a.key.find("_id") == std::string::npos) l << ' ' << a.key << '=' << a.value.index();
      lines.push_back(l.str());
    }
  }
  return lines;
}

std::vector<std::string> traces_of(const std::vector<ModelCall>& calls) {
  RecordingSink sink;
  TraceBuilder builder(TraceOptions{}, nullptr, sink);
  for (const auto& c : calls) builder.on_model_call(c);
  builder.close_all(kT0 + 3600 * 1000 * kMs);
  return canonical(sink.traces);
}

std::vector<Turn> tool_loop(int turns, UnixNanos start) {
  std::vector<Turn> out;
  for (int i = 0; i < turns; ++i) {
    const std::string id = "toolu_" + std::to_string(i);
    Turn t{"You are a coding agent.", {"Read", "Edit"}, {}, assistant("", {call(id, "Read", "{}")}),
           start + i * 1000 * kMs, start + i * 1000 * kMs + 400 * kMs};
    if (i == 0) t.new_input = {user("Fix the bug in main.cc")};
    else t.new_input = {tool_result("toolu_" + std::to_string(i - 1), "file text " + std::to_string(i))};
    if (i == turns - 1) t.output = assistant("Fixed.");
    out.push_back(std::move(t));
  }
  return out;
}

TEST(ElidedHistory, ToolLoopSameTracesAsWholeRequests) {
  for (Form form : {Form::kAnthropic, Form::kResponses}) {
    const std::vector<ModelCall> whole = render(tool_loop(12, kT0), form);
    const std::vector<ModelCall> elided = elide(whole);
    std::size_t left_out = 0;
    for (const auto& c : elided) left_out += c.input_prefix.elided_messages;
    EXPECT_GT(left_out, 30u) << static_cast<int>(form);
    EXPECT_EQ(traces_of(elided), traces_of(whole)) << static_cast<int>(form);
  }
}

// Two runs of the same agent interleaved, each on its own connection; then, after both closed, a
// late turn of the first (its key is still known: the dormant run resumes as with the whole request).
TEST(ElidedHistory, InterleavedRunsAndALateTurnSameTracesAsWholeRequests) {
  std::vector<Turn> a = tool_loop(6, kT0), b = tool_loop(6, kT0 + 100 * kMs);
  for (auto& t : b) t.new_input.front().text += " (other task)";
  b[0].new_input = {user("Write the docs")};
  std::vector<ModelCall> ra = render(a, Form::kAnthropic, "a"), rb = render(b, Form::kAnthropic, "b");
  for (auto& c : rb) c.connection_id = 2;
  std::vector<ModelCall> ea = elide(ra, 1000), eb = elide(rb, 2000);
  std::vector<ModelCall> whole, elided;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    whole.push_back(ra[i]), whole.push_back(rb[i]);
    elided.push_back(ea[i]), elided.push_back(eb[i]);
  }
  EXPECT_EQ(traces_of(elided), traces_of(whole));
}

TEST(ElidedHistory, AnUnknownKeyReadsTheNewMessagesOnly) {
  std::vector<ModelCall> calls = elide(render(tool_loop(3, kT0), Form::kAnthropic));
  calls[2].input_prefix.elided_key = 987654321;  // not recorded (evicted): joins by its tool result's id
  RecordingSink sink;
  TraceBuilder builder(TraceOptions{}, nullptr, sink);
  for (const auto& c : calls) builder.on_model_call(c);
  builder.close_all(kT0 + 3600 * 1000 * kMs);
  ASSERT_EQ(sink.traces.size(), 1u);
}

TEST(ElidedHistory, BoundedAndOneEntryPerConversation) {
  ElidedHistories h;
  ModelCall c;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    c.input_prefix.key = i;
    h.remember(c, 7, HistoryDigest{}, true, std::nullopt);
  }
  EXPECT_EQ(h.size(), 1u);  // a conversation's newer request replaces its older one
  for (std::uint64_t i = 1; i <= ElidedHistories::kMaxEntries + 50; ++i) {
    c.input_prefix.key = 100 + i;
    h.remember(c, 1000 + i, HistoryDigest{}, true, std::nullopt);
  }
  EXPECT_EQ(h.size(), ElidedHistories::kMaxEntries);
  ModelCall later;
  later.input_prefix.elided_key = 101;  // the oldest: dropped
  bool stable = true;
  EXPECT_FALSE(h.find(later, stable));
  later.input_prefix.elided_key = 100 + ElidedHistories::kMaxEntries + 50;
  EXPECT_TRUE(h.find(later, stable));
  // Computed with call ids: not for a call whose ids are not stable.
  stable = false;
  EXPECT_FALSE(h.find(later, stable));
}

}  // namespace
}  // namespace llmtap::trace::testing
