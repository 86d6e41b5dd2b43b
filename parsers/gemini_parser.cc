// Gemini generateContent / streamGenerateContent (SSE with alt=sse, or a JSON array). Each stream
// chunk is a GenerateContentResponse with incremental parts; usageMetadata is cumulative, so the
// last one wins. Gemini function calls often lack ids: they get "<name>#<index of the call within
// the conversation>", which is stable when the conversation is re-sent, so a functionResponse and
// the call it answers carry the same id across requests.
#include <deque>
#include <map>

#include "parsers/api_factories.h"
#include "parsers/json_fields.h"
#include "parsers/view_api_parser.h"

namespace llmtap {
namespace {

using namespace json_fields;

// Requests accept both proto JSON spellings (camelCase and snake_case).
template <class V>
V field(const V& j, std::string_view camel, std::string_view snake) {
  V v = j.at(camel);
  return v.is_null() ? j.at(snake) : v;
}

std::string synth_id(const std::string& name, std::int64_t index) { return name + "#" + std::to_string(index); }

// Turns `contents` into messages; `call_index` counts function calls seen so far.
struct ContentReader {
  std::int64_t call_index = 0;
  std::map<std::string, std::deque<std::string>> unanswered;  // name -> call ids, oldest first

  template <class V>
  void read(const V& content, std::vector<Message>& out) {
    std::string role = json_view::str(content, "role");
    role = role == "model" ? "assistant" : role.empty() || role == "function" ? "user" : role;
    Message cur;
    cur.role = role;
    bool used = false;
    V parts = content.at("parts");
    if (!parts.is_array()) return;
    parts.for_each([&](const V& p) {
      V fc = field(p, "functionCall", "function_call");
      V fr = field(p, "functionResponse", "function_response");
      if (fc.is_object()) {
        std::string name = json_view::str(fc, "name");
        std::string id = json_view::str(fc, "id");
        if (id.empty()) id = synth_id(name, call_index);
        ++call_index;
        unanswered[name].push_back(id);
        cur.tool_calls.push_back(ToolCall{id, name, fc.at("args").compact_arguments()});
        used = true;
      } else if (fr.is_object()) {
        if (used) out.push_back(std::move(cur));
        cur = Message{};
        cur.role = role;
        used = false;
        Message t;
        t.role = "tool";
        t.tool_name = json_view::str(fr, "name");
        t.tool_call_id = json_view::str(fr, "id");
        auto& q = unanswered[t.tool_name];
        if (t.tool_call_id.empty() && !q.empty()) t.tool_call_id = q.front();
        if (!q.empty()) q.pop_front();
        t.text = fr.at("response").compact_arguments();
        out.push_back(std::move(t));
      } else if (V text = p.at("text"); text.is_string()) {
        if (p.at("thought").boolean()) cur.reasoning += text.string();
        else cur.text += text.string();
        used = true;
      }
    });
    if (used) out.push_back(std::move(cur));
  }
};

template <class V>
std::string mode_to_choice(const V& cfg) {
  std::string_view mode = json_view::sv(cfg, "mode");
  V allowed = field(cfg, "allowedFunctionNames", "allowed_function_names");
  if (mode == "ANY" && allowed.array_size() == 1) {
    std::string only;
    bool is_string = false;
    allowed.for_each([&](const V& a) {
      is_string = a.is_string();
      only = a.string();
    });
    if (is_string) return only;
  }
  if (mode == "ANY") return "required";
  if (mode == "AUTO" || mode == "VALIDATED") return "auto";
  if (mode == "NONE") return "none";
  return {};
}

class GeminiParser : public ViewApiParser<GeminiParser> {
 public:
  template <class V>
  void read_request(const V& body, ModelCall& call) {
    std::string_view model = json_view::sv(body, "model");
    if (!model.empty() && call.request_model.empty()) call.request_model = model;
    V sys = field(body, "systemInstruction", "system_instruction");
    call.system_instructions = sys.is_string() ? std::string(sys.string()) : json_view::content_text(sys.at("parts"), "\n");
    body.at("contents").for_each([&](const V& c) { reader_.read(c, call.input); });
    body.at("tools").for_each([&](const V& t) {
      V decls = field(t, "functionDeclarations", "function_declarations");
      if (decls.is_array()) {
        decls.for_each([&](const V& d) {
          V schema = json_view::has(d, "parameters") ? d.at("parameters")
                                                     : field(d, "parametersJsonSchema", "parameters_json_schema");
          call.tools.push_back(ToolDef{json_view::str(d, "name"), schema.is_null() ? std::string() : schema.schema_hash()});
        });
      } else if (t.is_object()) {
        // Built-in tools ({"googleSearch":{}}, ...) by their key, in nlohmann's order (sorted, last wins).
        const nlohmann::json& tj = t.to_json();
        for (auto it = tj.begin(); it != tj.end(); ++it) call.tools.push_back(ToolDef{it.key(), ""});
      }
    });
    call.tool_choice = mode_to_choice(field(field(body, "toolConfig", "tool_config"), "functionCallingConfig",
                                            "function_calling_config"));
    V gen = field(body, "generationConfig", "generation_config");
    std::int64_t n = json_view::i64(gen, "candidateCount") + json_view::i64(gen, "candidate_count");
    if (n > 0) call.n = static_cast<int>(std::min<std::int64_t>(n, 1 << 20));
  }

  template <class V>
  void read_body(const V& body, ModelCall& call) {
    read_chunk(body, 0, call);
  }

  template <class V>
  bool read_event(std::string_view, const V& chunk, UnixNanos arrived, ModelCall& call) {
    if (chunk.at("error").is_object()) {
      extract_error(chunk.to_json(), call);
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
        r.read(json_view::NlohmannView(c.contents[k]), msgs);
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

  template <class V>
  bool read_chunk(const V& chunk, UnixNanos arrived, ModelCall& call) {
    json_view::assign_nonempty(chunk, "responseId", call.response_id);
    json_view::assign_nonempty(chunk, "modelVersion", call.response_model);
    V usage = chunk.at("usageMetadata");
    if (usage.is_object()) usage_ = usage.to_json();
    std::string_view block = json_view::sv(chunk.at("promptFeedback"), "blockReason");
    if (!block.empty()) {
      block_reason_ = block;
      terminal_ = true;
    }
    bool content = false;
    V cands = chunk.at("candidates");
    if (!cands.is_array()) return false;
    std::int64_t pos = 0;
    cands.for_each([&](const V& c) {
      Candidate& st = candidates_[json_view::has(c, "index") ? json_view::i64(c, "index") : pos];
      ++pos;
      V ct = c.at("content");
      if (ct.is_object() && ct.at("parts").array_size() != 0) {
        st.contents.push_back(ct.to_json());
        st.arrived.push_back(arrived);
        content = true;
      }
      std::string_view fr = json_view::sv(c, "finishReason");
      if (!fr.empty()) {
        st.finish = fr;
        terminal_ = true;
      }
    });
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
