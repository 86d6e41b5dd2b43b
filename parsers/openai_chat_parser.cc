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
#include "parsers/view_api_parser.h"

namespace llmtap {
namespace {

using namespace json_fields;

class ChatCompletionsParser : public ViewApiParser<ChatCompletionsParser> {
 public:
  template <class V>
  void read_request(const V& body, ModelCall& call) {
    openai_request::read_chat_request(body, call);
  }

  template <class V>
  void read_body(const V& body, ModelCall& call) {
    read_envelope(body, call);
    V choices = body.at("choices");
    if (!choices.is_array()) return;
    std::map<std::int64_t, V> by_index;
    std::int64_t next = 0;
    choices.for_each([&](const V& c) { by_index.insert_or_assign(json_view::has(c, "index") ? json_view::i64(c, "index") : next++, c); });
    for (const auto& [idx, c] : by_index) {
      Message m = openai_request::chat_message(c.at("message"));
      if (m.role.empty()) m.role = "assistant";
      call.output.push_back(std::move(m));
      std::string_view fr = json_view::sv(c, "finish_reason");
      if (!fr.empty()) call.finish_reasons.emplace_back(fr);
    }
  }

  template <class V>
  bool read_event(std::string_view, const V& chunk, UnixNanos arrived, ModelCall& call) {
    streamed_ = true;
    if (chunk.at("error").is_object()) {
      extract_error(chunk.to_json(), call);
      call.status = CallStatus::kError;
      return false;
    }
    read_envelope(chunk, call);
    bool content = false;
    V choices = chunk.at("choices");
    if (!choices.is_array()) return false;
    choices.for_each([&](const V& c) {
      Choice& st = choices_[json_view::i64(c, "index")];
      V d = c.at("delta");
      json_view::assign_nonempty(d, "role", st.role);
      for (std::string_view f : {"content", "refusal"}) {
        std::string_view v = json_view::sv(d, f);
        if (!v.empty()) {
          st.text.append(v);
          content = true;
        }
      }
      for (std::string_view f : {"reasoning_content", "reasoning"}) {
        std::string_view v = json_view::sv(d, f);
        if (!v.empty()) {
          st.reasoning.append(v);
          content = true;
        }
      }
      d.at("tool_calls").for_each([&](const V& tc) {
        const std::int64_t index =
            json_view::has(tc, "index") ? json_view::i64(tc, "index") : static_cast<std::int64_t>(st.calls.size());
        // Calls stream one after another: a later index means the earlier ones are complete
        // (a delta for a call again, in an interleaving server's stream, reopens it).
        for (auto it = st.calls.begin(); it != st.calls.end() && it->first < index; ++it)
          if (it->second.ready_at == 0) it->second.ready_at = arrived;
        ToolCall& t = st.calls[index];
        t.ready_at = 0;
        json_view::assign_nonempty(tc, "id", t.id);
        V fn = tc.at("function");
        json_view::assign_nonempty(fn, "name", t.name);
        V args = fn.at("arguments");
        if (args.is_string()) t.arguments.append(args.string());
        else if (!args.is_null()) t.arguments.append(args.compact_arguments());
        content = true;
      });
      std::string_view fr = json_view::sv(c, "finish_reason");
      if (!fr.empty()) {
        st.finish.assign(fr);
        for (auto& [i, t] : st.calls)
          if (t.ready_at == 0) t.ready_at = arrived;
      }
    });
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

  template <class V>
  static void read_envelope(const V& body, ModelCall& call) {
    json_view::assign_nonempty(body, "id", call.response_id);
    json_view::assign_nonempty(body, "model", call.response_model);
    json_view::assign_nonempty(body, "service_tier", call.service_tier);
    V u = body.at("usage");
    if (u.is_object()) call.usage = openai_shared::usage(u.to_json());
  }

  std::map<std::int64_t, Choice> choices_;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_chat_completions_parser() { return std::make_unique<ChatCompletionsParser>(); }

}  // namespace llmtap
