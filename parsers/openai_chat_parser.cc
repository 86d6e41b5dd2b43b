// OpenAI Chat Completions and every server that speaks it (Azure, OpenRouter, Groq, Together,
// DeepSeek, Mistral, vLLM, Ollama /v1). Streams: choices[].delta accumulated per choice index,
// tool_calls deltas grouped by their index; usage from any chunk that has it (the include_usage
// chunk has empty choices, some servers put it on the last choice chunk).
#include <map>

#include "parsers/api_parser.h"
#include "parsers/json_fields.h"
#include "parsers/api_factories.h"
#include "parsers/openai_request.h"
#include "parsers/openai_shared.h"
#include "parsers/simd_json_view.h"

namespace llmtap {
namespace {

using namespace json_fields;

class ChatCompletionsParser : public ApiParser {
 public:
  void parse_request(const json& body, ModelCall& call) override {
    openai_request::read_chat_request(json_view::NlohmannView(body), call);
  }
  bool parse_request_fast(const json_view::SimdView& body, ModelCall& call) override {
    openai_request::read_chat_request(body, call);
    return true;
  }

  void on_json_body(const json& body, ModelCall& call) override {
    read_envelope(body, call);
    const json& choices = at(body, "choices");
    if (!choices.is_array()) return;
    std::map<std::int64_t, const json*> by_index;
    std::int64_t next = 0;
    for (const auto& c : choices) by_index[has(c, "index") ? i64(c, "index") : next++] = &c;
    for (const auto& [idx, c] : by_index) {
      Message m = openai_shared::chat_message(at(*c, "message"));
      if (m.role.empty()) m.role = "assistant";
      call.output.push_back(std::move(m));
      std::string fr = str(*c, "finish_reason");
      if (!fr.empty()) call.finish_reasons.push_back(fr);
    }
  }

  bool on_stream_event(std::string_view, const json& chunk, UnixNanos arrived, ModelCall& call) override {
    streamed_ = true;
    if (at(chunk, "error").is_object()) {
      extract_error(chunk, call);
      call.status = CallStatus::kError;
      return false;
    }
    read_envelope(chunk, call);
    bool content = false;
    const json& choices = at(chunk, "choices");
    if (!choices.is_array()) return false;
    for (const auto& c : choices) {
      Choice& st = choices_[i64(c, "index")];
      const json& d = at(c, "delta");
      std::string role = str(d, "role");
      if (!role.empty()) st.role = role;
      for (const char* f : {"content", "refusal"}) {
        const json& v = at(d, f);
        if (v.is_string() && !v.get_ref<const std::string&>().empty()) {
          st.text.append(v.get_ref<const std::string&>());
          content = true;
        }
      }
      for (const char* f : {"reasoning_content", "reasoning"}) {
        const json& v = at(d, f);
        if (v.is_string() && !v.get_ref<const std::string&>().empty()) {
          st.reasoning.append(v.get_ref<const std::string&>());
          content = true;
        }
      }
      const json& calls = at(d, "tool_calls");
      if (calls.is_array()) {
        for (const auto& tc : calls) {
          const std::int64_t index = has(tc, "index") ? i64(tc, "index") : static_cast<std::int64_t>(st.calls.size());
          // Calls stream one after another: a later index means the earlier ones are complete
          // (a delta for a call again, in an interleaving server's stream, reopens it).
          for (auto it = st.calls.begin(); it != st.calls.end() && it->first < index; ++it)
            if (it->second.ready_at == 0) it->second.ready_at = arrived;
          ToolCall& t = st.calls[index];
          t.ready_at = 0;
          std::string id = str(tc, "id");
          if (!id.empty()) t.id = id;
          const json& fn = at(tc, "function");
          std::string name = str(fn, "name");
          if (!name.empty()) t.name = name;
          const json& args = at(fn, "arguments");
          if (args.is_string()) t.arguments.append(args.get_ref<const std::string&>());
          else if (!args.is_null()) t.arguments.append(compact_arguments(args));
          content = true;
        }
      }
      std::string fr = str(c, "finish_reason");
      if (!fr.empty()) {
        st.finish = fr;
        for (auto& [i, t] : st.calls)
          if (t.ready_at == 0) t.ready_at = arrived;
      }
    }
    return content;
  }

  bool finish(ModelCall& call, bool done_marker) override {
    if (!streamed_) return true;
    bool all_finished = !choices_.empty();
    for (auto& [idx, st] : choices_) {
      Message m;
      m.role = st.role.empty() ? "assistant" : st.role;
      m.text = std::move(st.text);
      m.reasoning = std::move(st.reasoning);
      for (auto& [i, t] : st.calls) m.tool_calls.push_back(std::move(t));
      call.output.push_back(std::move(m));
      if (st.finish.empty()) all_finished = false;
      else call.finish_reasons.push_back(st.finish);
    }
    return done_marker || all_finished;
  }

 private:
  struct Choice {
    std::string role, text, reasoning, finish;
    std::map<std::int64_t, ToolCall> calls;
  };

  static void read_envelope(const json& body, ModelCall& call) {
    std::string id = str(body, "id");
    if (!id.empty()) call.response_id = id;
    std::string model = str(body, "model");
    if (!model.empty()) call.response_model = model;
    std::string tier = str(body, "service_tier");
    if (!tier.empty()) call.service_tier = tier;
    if (at(body, "usage").is_object()) call.usage = openai_shared::usage(at(body, "usage"));
  }

  std::map<std::int64_t, Choice> choices_;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_chat_completions_parser() { return std::make_unique<ChatCompletionsParser>(); }

}  // namespace llmtap
