// Ollama native /api/chat: chat-style messages (reused from the OpenAI shape), a response that is
// one JSON object or, when streaming (the default), NDJSON objects ending with "done": true,
// which carries prompt_eval_count/eval_count. Tool calls have no ids: "<name>#<index within the
// conversation>" as for Gemini, and a tool result answers the oldest unanswered call of its name.
#include <deque>
#include <map>

#include "parsers/api_factories.h"
#include "parsers/json_fields.h"
#include "parsers/openai_shared.h"

namespace llmtap {
namespace {

using namespace json_fields;

class OllamaChatParser : public ApiParser {
 public:
  void parse_request(const json& body, ModelCall& call) override {
    openai_shared::read_common_request(body, call);
    call.stream = !at(body, "stream").is_boolean() || boolean(body, "stream");  // streams by default
    openai_shared::read_chat_messages(at(body, "messages"), call);
    // Results carry only the tool's name: each answers the oldest unanswered call of that name.
    std::map<std::string, std::deque<std::string>> unanswered;
    for (auto& m : call.input) {
      for (auto& t : m.tool_calls) {
        if (t.id.empty()) t.id = t.name + "#" + std::to_string(calls_);
        ++calls_;
        unanswered[t.name].push_back(t.id);
      }
      if (m.role == "tool" && m.tool_call_id.empty()) {
        auto& q = unanswered[m.tool_name];
        if (!q.empty()) {
          m.tool_call_id = q.front();
          q.pop_front();
        }
      }
    }
  }

  void on_json_body(const json& body, ModelCall& call) override { on_stream_event("", body, 0, call); }

  bool on_stream_event(std::string_view, const json& chunk, UnixNanos arrived, ModelCall& call) override {
    if (has(chunk, "error")) {
      extract_error(chunk, call);
      call.status = CallStatus::kError;
      return false;
    }
    std::string model = str(chunk, "model");
    if (!model.empty()) call.response_model = model;
    const json& m = at(chunk, "message");
    bool content = false;
    if (m.is_object()) {
      Message part = openai_shared::chat_message(m);
      out_.text += part.text;
      out_.reasoning += part.reasoning;
      for (auto& t : part.tool_calls) {
        if (t.id.empty()) t.id = t.name + "#" + std::to_string(calls_);
        ++calls_;
        t.ready_at = arrived;  // a call arrives whole in one chunk
        out_.tool_calls.push_back(std::move(t));
      }
      content = !part.text.empty() || !part.reasoning.empty() || !part.tool_calls.empty();
    }
    if (boolean(chunk, "done")) {
      done_ = true;
      std::string reason = str(chunk, "done_reason");
      if (!reason.empty()) call.finish_reasons.push_back(reason);
      Usage u;
      u.present = has(chunk, "prompt_eval_count") || has(chunk, "eval_count");
      u.input_uncached = i64(chunk, "prompt_eval_count");
      u.output = i64(chunk, "eval_count");
      if (u.present) call.usage = u;
    }
    return content;
  }

  bool finish(ModelCall& call, bool) override {
    out_.role = "assistant";
    call.output.push_back(std::move(out_));
    return done_;
  }

 private:
  Message out_;
  std::int64_t calls_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_ollama_chat_parser() { return std::make_unique<OllamaChatParser>(); }

}  // namespace llmtap
