#include "trace/trace_test_util.h"

namespace llmtap::trace::testing {

namespace {

// Responses API presents each function_call as its own item, after the message text.
std::vector<Message> split_items(const Message& m) {
  std::vector<Message> out;
  if (m.role != "assistant") return {m};
  if (!m.text.empty() || m.tool_calls.empty()) out.push_back(assistant(m.text));
  for (const auto& tc : m.tool_calls) out.push_back(assistant("", {tc}));
  return out;
}

}  // namespace

std::vector<ModelCall> render(const std::vector<Turn>& turns, Form form, const std::string& run_tag) {
  std::vector<ModelCall> calls;
  std::vector<Message> history;
  std::map<std::string, std::string> call_names;  // id -> tool name (Gemini results carry names)
  for (std::size_t k = 0; k < turns.size(); ++k) {
    const Turn& turn = turns[k];
    for (const auto& m : turn.new_input) history.push_back(m);
    ModelCall c;
    c.request_model = c.response_model = turn.model;
    c.operation = form == Form::kGemini ? "generate_content" : "chat";
    c.connection_id = 7;
    for (const auto& t : turn.tools) c.tools.push_back({t, "h"});
    c.timings.request_start = turn.start;
    c.timings.request_end = turn.start + 1;
    c.timings.response_first_byte = turn.end - 2;
    c.timings.response_end = turn.end;
    c.usage.present = true;
    c.usage.input_uncached = turn.in_tokens;
    c.usage.output = turn.out_tokens;
    c.finish_reasons = {turn.output.tool_calls.empty() ? "stop" : "tool_calls"};
    Message out = turn.output;
    switch (form) {
      case Form::kChat:
        c.provider = "openai";
        c.api = "chat_completions";
        c.input.push_back(system_msg(turn.instructions));
        c.input.insert(c.input.end(), history.begin(), history.end());
        c.output = {out};
        break;
      case Form::kResponses:
      case Form::kResponsesChained: {
        c.provider = "openai";
        c.api = "responses";
        c.system_instructions = turn.instructions;
        c.response_id = "resp_" + run_tag + std::to_string(k);
        const auto& src = form == Form::kResponses ? history : turn.new_input;
        for (const auto& m : src)
          for (auto& piece : split_items(m)) c.input.push_back(piece);
        if (form == Form::kResponsesChained && k > 0) c.previous_response_id = "resp_" + run_tag + std::to_string(k - 1);
        c.output = split_items(out);
        break;
      }
      case Form::kAnthropic:
        c.provider = "anthropic";
        c.api = "anthropic_messages";
        c.system_instructions = turn.instructions;
        c.input = history;
        c.output = {out};
        break;
      case Form::kGemini: {
        c.provider = "gemini";
        c.api = "gemini";
        c.system_instructions = turn.instructions;
        // The parser synthesizes call ids; they need not survive the round trip.
        std::size_t n = 0;
        for (auto m : history) {
          for (auto& tc : m.tool_calls) tc.id = "gemini-hist-" + std::to_string(n++);
          if (m.role == "tool") {
            m.tool_name = call_names[m.tool_call_id];
            m.tool_call_id.clear();
          }
          c.input.push_back(m);
        }
        for (auto& tc : out.tool_calls) tc.id = "gemini-out-" + std::to_string(k) + "-" + std::to_string(n++);
        c.output = {out};
        break;
      }
    }
    for (const auto& tc : turn.output.tool_calls) call_names[tc.id] = tc.name;
    history.push_back(turn.output);
    calls.push_back(std::move(c));
  }
  return calls;
}

}  // namespace llmtap::trace::testing
