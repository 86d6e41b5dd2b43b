// OpenAI Chat Completions and every server that speaks it (Azure, OpenRouter, Groq, Together,
// DeepSeek, Mistral, vLLM, Ollama /v1). Streams: choices[].delta accumulated per choice index,
// tool_calls deltas grouped by their index; usage from any chunk that has it (the include_usage
// chunk has empty choices, some servers put it on the last choice chunk).
#include <array>
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

  // Each object's members are looked up in one pass (members()): a stream is mostly small chunks
  // whose cost is the lookups.
  template <class V>
  bool read_event(std::string_view, const V& chunk, UnixNanos arrived, ModelCall& call) {
    streamed_ = true;
    static constexpr json_view::Keys<6> kChunk{{"error", "id", "model", "service_tier", "usage",
                                                               "choices"}};
    const auto [error, id, model, tier, usage, choices] = chunk.members(kChunk);
    if (error.is_object()) {
      extract_error(chunk.to_json(), call);
      call.status = CallStatus::kError;
      return false;
    }
    read_envelope(id, model, tier, usage, call);
    bool content = false;
    if (!choices.is_array()) return false;
    choices.for_each([&](const V& c) {
      static constexpr json_view::Keys<3> kChoice{{"index", "delta", "finish_reason"}};
      const auto [index, d, finish_reason] = c.members(kChoice);
      Choice& st = choices_[index.i64()];
      static constexpr json_view::Keys<6> kDelta{{"role",      "content",   "refusal",
                                                                 "reasoning_content", "reasoning", "tool_calls"}};
      const auto [role, text, refusal, reasoning_content, reasoning, tool_calls] = d.members(kDelta);
      if (!role.string().empty()) st.role.assign(role.string());
      for (const V* f : {&text, &refusal}) {
        std::string_view v = f->string();
        if (!v.empty()) {
          st.text.append(v);
          content = true;
        }
      }
      for (const V* f : {&reasoning_content, &reasoning}) {
        std::string_view v = f->string();
        if (!v.empty()) {
          st.reasoning.append(v);
          content = true;
        }
      }
      tool_calls.for_each([&](const V& tc) {
        static constexpr json_view::Keys<3> kCall{{"index", "id", "function"}};
        const auto [tc_index, tc_id, fn] = tc.members(kCall);
        const std::int64_t index = !tc_index.is_null() ? tc_index.i64() : static_cast<std::int64_t>(st.calls.size());
        // Calls stream one after another: a later index means the earlier ones are complete
        // (a delta for a call again, in an interleaving server's stream, reopens it).
        for (auto it = st.calls.begin(); it != st.calls.end() && it->first < index; ++it)
          if (it->second.ready_at == 0) it->second.ready_at = arrived;
        ToolCall& t = st.calls[index];
        t.ready_at = 0;
        if (!tc_id.string().empty()) t.id.assign(tc_id.string());
        static constexpr json_view::Keys<2> kFunction{{"name", "arguments"}};
        const auto [name, args] = fn.members(kFunction);
        if (!name.string().empty()) t.name.assign(name.string());
        if (args.is_string()) t.arguments.append(args.string());
        else if (!args.is_null()) t.arguments.append(args.compact_arguments());
        content = true;
      });
      std::string_view fr = finish_reason.string();
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
    read_envelope(body.at("id"), body.at("model"), body.at("service_tier"), body.at("usage"), call);
  }
  template <class V>
  static void read_envelope(const V& id, const V& model, const V& tier, const V& usage, ModelCall& call) {
    if (!id.string().empty()) call.response_id.assign(id.string());
    if (!model.string().empty()) call.response_model.assign(model.string());
    if (!tier.string().empty()) call.service_tier.assign(tier.string());
    if (usage.is_object()) call.usage = openai_shared::usage_of(usage);
  }

  std::map<std::int64_t, Choice> choices_;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_chat_completions_parser() { return std::make_unique<ChatCompletionsParser>(); }

}  // namespace llmtap
