// Gemini generateContent / streamGenerateContent (SSE with alt=sse, or a JSON array). Each stream
// chunk is a GenerateContentResponse with incremental parts; usageMetadata is cumulative, so the
// last one wins. Gemini function calls often lack ids: they get "<name>#<index of the call within
// the conversation>", which is stable when the conversation is re-sent, so a functionResponse and
// the call it answers carry the same id across requests.
#include <array>
#include <deque>
#include <map>
#include <optional>

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
    static constexpr json_view::Keys<2> kContent{{"role", "parts"}};  // one pass over the members
    const auto [role_v, parts] = content.members(kContent);
    const std::string_view given = role_v.string();  // a view: no string built per content
    const std::string_view role = given == "model" ? "assistant" : given.empty() || given == "function" ? "user" : given;
    Message cur;
    cur.role = role;
    bool used = false;
    if (!parts.is_array()) return;
    parts.for_each([&](const V& p) {
      static constexpr json_view::Keys<6> kPart{{"functionCall",      "function_call", "functionResponse",
                                                                "function_response", "text",          "thought"}};
      const auto [fc_camel, fc_snake, fr_camel, fr_snake, text, thought] = p.members(kPart);
      const V& fc = fc_camel.is_null() ? fc_snake : fc_camel;  // as field(): camelCase unless null
      const V& fr = fr_camel.is_null() ? fr_snake : fr_camel;
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
      } else if (text.is_string()) {
        if (thought.boolean()) cur.reasoning += text.string();
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
    V contents = body.at("contents");
    call.input.reserve(call.input.size() + contents.array_size());  // about one message per content
    contents.for_each([&](const V& c) { reader_.read(c, call.input); });
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
    read_chunk(body, 0, call, false);
  }

  template <class V>
  bool read_event(std::string_view, const V& chunk, UnixNanos arrived, ModelCall& call) {
    return read_chunk(chunk, arrived, call, true);
  }

  bool finish(ModelCall& call, bool) override {
    for (auto& [idx, c] : candidates_) {
      c.message.role = "assistant";
      if (c.any || !c.finish.empty()) call.output.push_back(std::move(c.message));
      if (!c.finish.empty()) call.finish_reasons.push_back(c.finish);
    }
    if (!block_reason_.empty()) call.finish_reasons.push_back(block_reason_);
    if (usage_.present) {
      Usage u;
      u.present = true;
      std::int64_t cached = std::min(usage_.cached, usage_.prompt);
      u.cache_read = cached;
      u.input_uncached = usage_.prompt - cached + usage_.tool_use_prompt;
      u.output = usage_.candidates;
      u.reasoning = usage_.thoughts;
      call.usage = u;
    }
    return terminal_ || !streamed_;
  }

 private:
  // A candidate's output, read chunk by chunk as it arrives (no chunk is kept).
  struct Candidate {
    Message message;
    bool any = false;  // some chunk's content gave a message
    // Continues the request's call numbering (the request is read before the response).
    std::optional<ContentReader> reader;
    std::string finish;
  };
  // The latest usageMetadata (cumulative: the last one wins), the counts finish() reads.
  struct UsageCounts {
    bool present = false;
    std::int64_t prompt = 0, cached = 0, tool_use_prompt = 0, candidates = 0, thoughts = 0;
  };

  template <class V>
  bool read_chunk(const V& chunk, UnixNanos arrived, ModelCall& call, bool streamed) {
    // The members read, in one pass (stream chunks are small; lookups are their cost).
    static constexpr json_view::Keys<6> kChunk{{"error",          "responseId",     "modelVersion",
                                                               "usageMetadata", "promptFeedback", "candidates"}};
    const auto [error, response_id, model_version, usage, feedback, cands] = chunk.members(kChunk);
    if (streamed) {
      if (error.is_object()) {
        extract_error(chunk.to_json(), call);
        call.status = CallStatus::kError;
        return false;
      }
      streamed_ = true;
    }
    // Every chunk repeats them: assigned only when they change.
    auto keep = [](std::string_view v, std::string& out) {
      if (!v.empty() && v != out) out.assign(v);
    };
    keep(response_id.string(), call.response_id);
    keep(model_version.string(), call.response_model);
    if (usage.is_object()) {
      static constexpr json_view::Keys<5> kCounts{{
          "promptTokenCount", "cachedContentTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount",
          "thoughtsTokenCount"}};
      const auto [prompt, cached, tool_use, candidates, thoughts] = usage.members(kCounts);
      usage_ = UsageCounts{true, prompt.i64(), cached.i64(), tool_use.i64(), candidates.i64(), thoughts.i64()};
    }
    std::string_view block = json_view::sv(feedback, "blockReason");
    if (!block.empty()) {
      block_reason_ = block;
      terminal_ = true;
    }
    bool content = false;
    if (!cands.is_array()) return false;
    std::int64_t pos = 0;
    cands.for_each([&](const V& c) {
      static constexpr json_view::Keys<3> kCandidate{{"index", "content", "finishReason"}};
      const auto [index, ct, finish_reason] = c.members(kCandidate);
      Candidate& st = candidates_[!index.is_null() ? index.i64() : pos];
      ++pos;
      if (ct.is_object() && ct.at("parts").array_size() != 0) {
        read_content(ct, arrived, st);
        content = true;
      }
      std::string_view fr = finish_reason.string();
      if (!fr.empty()) {
        st.finish = fr;
        terminal_ = true;
      }
    });
    return content;
  }

  template <class V>
  void read_content(const V& content, UnixNanos arrived, Candidate& st) {
    if (!st.reader) {
      st.reader.emplace();
      st.reader->call_index = reader_.call_index;
    }
    std::vector<Message>& msgs = scratch_;  // reused: a stream reads one per chunk
    msgs.clear();
    st.reader->read(content, msgs);
    // The first text is taken, not copied: a non-streamed body's one long text is 8 MiB of fresh
    // pages when copied.
    auto append = [](std::string& to, std::string& from) {
      if (to.empty()) to.swap(from);
      else to += from;
    };
    for (auto& x : msgs) {
      append(st.message.text, x.text);
      append(st.message.reasoning, x.reasoning);
      for (auto& t : x.tool_calls) {
        t.ready_at = arrived;  // a functionCall is whole in its chunk
        st.message.tool_calls.push_back(std::move(t));
      }
      st.any = true;
    }
  }

  ContentReader reader_;
  std::vector<Message> scratch_;  // read_content's messages of one chunk
  std::map<std::int64_t, Candidate> candidates_;
  UsageCounts usage_;
  std::string block_reason_;
  bool terminal_ = false;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_gemini_parser() { return std::make_unique<GeminiParser>(); }

}  // namespace llmtap
