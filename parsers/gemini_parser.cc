// Gemini generateContent / streamGenerateContent (SSE with alt=sse, or a JSON array). Each stream
// chunk is a GenerateContentResponse with incremental parts; usageMetadata is cumulative, so the
// last one wins. Gemini function calls often lack ids: they get "<name>#<index of the call within
// the conversation>", which is stable when the conversation is re-sent, so a functionResponse and
// the call it answers carry the same id across requests.
#include <deque>
#include <map>

#include "parsers/api_factories.h"
#include "parsers/json_fields.h"

namespace llmtap {
namespace {

using namespace json_fields;

// Requests accept both proto JSON spellings (camelCase and snake_case).
const json& field(const json& j, std::string_view camel, std::string_view snake) {
  const json& v = at(j, camel);
  return v.is_null() ? at(j, snake) : v;
}

std::string synth_id(const std::string& name, std::int64_t index) { return name + "#" + std::to_string(index); }

// Turns `contents` into messages; `call_index` counts function calls seen so far.
struct ContentReader {
  std::int64_t call_index = 0;
  std::map<std::string, std::deque<std::string>> unanswered;  // name -> call ids, oldest first

  void read(const json& content, std::vector<Message>& out) {
    std::string role = str(content, "role");
    role = role == "model" ? "assistant" : role.empty() || role == "function" ? "user" : role;
    Message cur;
    cur.role = role;
    bool used = false;
    const json& parts = at(content, "parts");
    if (!parts.is_array()) return;
    for (const auto& p : parts) {
      const json& fc = field(p, "functionCall", "function_call");
      const json& fr = field(p, "functionResponse", "function_response");
      if (fc.is_object()) {
        std::string name = str(fc, "name");
        std::string id = str(fc, "id");
        if (id.empty()) id = synth_id(name, call_index);
        ++call_index;
        unanswered[name].push_back(id);
        cur.tool_calls.push_back(ToolCall{id, name, compact_arguments(at(fc, "args"))});
        used = true;
      } else if (fr.is_object()) {
        if (used) out.push_back(std::move(cur));
        cur = Message{};
        cur.role = role;
        used = false;
        Message t;
        t.role = "tool";
        t.tool_name = str(fr, "name");
        t.tool_call_id = str(fr, "id");
        auto& q = unanswered[t.tool_name];
        if (t.tool_call_id.empty() && !q.empty()) t.tool_call_id = q.front();
        if (!q.empty()) q.pop_front();
        t.text = compact_arguments(at(fr, "response"));
        out.push_back(std::move(t));
      } else if (at(p, "text").is_string()) {
        if (boolean(p, "thought")) cur.reasoning += str(p, "text");
        else cur.text += str(p, "text");
        used = true;
      }
    }
    if (used) out.push_back(std::move(cur));
  }
};

std::string mode_to_choice(const json& cfg) {
  std::string mode = str(cfg, "mode");
  const json& allowed = field(cfg, "allowedFunctionNames", "allowed_function_names");
  if (mode == "ANY" && allowed.is_array() && allowed.size() == 1 && allowed[0].is_string()) {
    return allowed[0].get<std::string>();
  }
  if (mode == "ANY") return "required";
  if (mode == "AUTO" || mode == "VALIDATED") return "auto";
  if (mode == "NONE") return "none";
  return {};
}

class GeminiParser : public ApiParser {
 public:
  void parse_request(const json& body, ModelCall& call) override {
    std::string model = str(body, "model");
    if (!model.empty() && call.request_model.empty()) call.request_model = model;
    const json& sys = field(body, "systemInstruction", "system_instruction");
    call.system_instructions = sys.is_string() ? sys.get<std::string>() : content_text(at(sys, "parts"), "\n");
    const json& contents = at(body, "contents");
    if (contents.is_array()) {
      for (const auto& c : contents) reader_.read(c, call.input);
    }
    const json& tools = at(body, "tools");
    if (tools.is_array()) {
      for (const auto& t : tools) {
        const json& decls = field(t, "functionDeclarations", "function_declarations");
        if (decls.is_array()) {
          for (const auto& d : decls) {
            const json& schema = has(d, "parameters") ? at(d, "parameters") : field(d, "parametersJsonSchema", "parameters_json_schema");
            call.tools.push_back(ToolDef{str(d, "name"), schema.is_null() ? std::string() : schema_hash(schema)});
          }
        } else if (t.is_object()) {
          for (auto it = t.begin(); it != t.end(); ++it) call.tools.push_back(ToolDef{it.key(), ""});
        }
      }
    }
    call.tool_choice = mode_to_choice(field(field(body, "toolConfig", "tool_config"), "functionCallingConfig",
                                            "function_calling_config"));
    const json& gen = field(body, "generationConfig", "generation_config");
    std::int64_t n = i64(gen, "candidateCount") + i64(gen, "candidate_count");
    if (n > 0) call.n = static_cast<int>(std::min<std::int64_t>(n, 1 << 20));
  }

  void on_json_body(const json& body, ModelCall& call) override { read_chunk(body, 0, call); }

  bool on_stream_event(std::string_view, const json& chunk, UnixNanos arrived, ModelCall& call) override {
    if (at(chunk, "error").is_object()) {
      extract_error(chunk, call);
      call.status = CallStatus::kError;
      return false;
    }
    streamed_ = true;
    return read_chunk(chunk, arrived, call);
  }

  bool finish(ModelCall& call, bool) override {
    for (auto& [idx, c] : candidates_) {
      Message m;
      m.role = "assistant";
      bool any = false;
      ContentReader r;  // continues the conversation's call numbering
      r.call_index = reader_.call_index;
      for (std::size_t k = 0; k < c.contents.size(); ++k) {
        std::vector<Message> msgs;
        r.read(c.contents[k], msgs);
        for (auto& x : msgs) {
          m.text += x.text;
          m.reasoning += x.reasoning;
          for (auto& t : x.tool_calls) {
            t.ready_at = c.arrived[k];
            m.tool_calls.push_back(std::move(t));
          }
          any = true;
        }
      }
      if (any || !c.finish.empty()) call.output.push_back(std::move(m));
      if (!c.finish.empty()) call.finish_reasons.push_back(c.finish);
    }
    if (!block_reason_.empty()) call.finish_reasons.push_back(block_reason_);
    if (usage_.is_object()) {
      Usage u;
      u.present = true;
      std::int64_t prompt = i64(usage_, "promptTokenCount");
      std::int64_t cached = std::min(i64(usage_, "cachedContentTokenCount"), prompt);
      u.cache_read = cached;
      u.input_uncached = prompt - cached + i64(usage_, "toolUsePromptTokenCount");
      u.output = i64(usage_, "candidatesTokenCount");
      u.reasoning = i64(usage_, "thoughtsTokenCount");
      call.usage = u;
    }
    return terminal_ || !streamed_;
  }

 private:
  struct Candidate {
    std::vector<json> contents;  // every chunk's content, in order
    std::vector<UnixNanos> arrived;  // when each content's chunk arrived (a functionCall is whole in it)
    std::string finish;
  };

  bool read_chunk(const json& chunk, UnixNanos arrived, ModelCall& call) {
    std::string id = str(chunk, "responseId");
    if (!id.empty()) call.response_id = id;
    std::string model = str(chunk, "modelVersion");
    if (!model.empty()) call.response_model = model;
    if (at(chunk, "usageMetadata").is_object()) usage_ = at(chunk, "usageMetadata");
    std::string block = str(at(chunk, "promptFeedback"), "blockReason");
    if (!block.empty()) {
      block_reason_ = block;
      terminal_ = true;
    }
    bool content = false;
    const json& cands = at(chunk, "candidates");
    if (!cands.is_array()) return false;
    std::int64_t pos = 0;
    for (const auto& c : cands) {
      Candidate& st = candidates_[has(c, "index") ? i64(c, "index") : pos];
      ++pos;
      const json& ct = at(c, "content");
      if (ct.is_object() && at(ct, "parts").is_array() && !at(ct, "parts").empty()) {
        st.contents.push_back(ct);
        st.arrived.push_back(arrived);
        content = true;
      }
      std::string fr = str(c, "finishReason");
      if (!fr.empty()) {
        st.finish = fr;
        terminal_ = true;
      }
    }
    return content;
  }

  ContentReader reader_;
  std::map<std::int64_t, Candidate> candidates_;
  json usage_;
  std::string block_reason_;
  bool terminal_ = false;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_gemini_parser() { return std::make_unique<GeminiParser>(); }

}  // namespace llmtap
