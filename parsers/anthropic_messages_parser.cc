// Anthropic Messages API. Content blocks (text, thinking, tool_use, tool_result) map onto
// normalized messages; streams rebuild blocks from content_block_start/delta (text_delta,
// input_json_delta, thinking_delta) and merge message_start usage with message_delta usage, whose
// counts are cumulative (a field present in message_delta replaces the earlier value).
#include <array>
#include <map>

#include "parsers/api_factories.h"
#include "parsers/attribution.h"
#include "parsers/hosted_tools.h"
#include "parsers/json_fields.h"
#include "parsers/view_api_parser.h"

namespace llmtap {
namespace {

using namespace json_fields;

bool is_server_tool_block(std::string_view type) { return type == "server_tool_use" || type == "mcp_tool_use"; }
bool is_tool_block(std::string_view type) { return type == "tool_use" || is_server_tool_block(type); }

// One Anthropic message's content into normalized messages, keeping order: text/thinking/tool_use
// gather in one message of the speaker's role; each tool_result becomes its own "tool" message.
// A template over json_view (parsers/json_view.h): the nlohmann and simdjson paths share it.
template <class V>
void read_content(const std::string& role, const V& content, std::vector<Message>& out) {
  if (content.is_string()) {
    out.push_back(Message{role, std::string(content.string()), "", {}, "", "", false});
    return;
  }
  if (!content.is_array()) return;
  Message cur;
  cur.role = role;
  bool cur_used = false;
  auto flush = [&] {
    if (cur_used) out.push_back(std::move(cur));
    cur = Message{};
    cur.role = role;
    cur_used = false;
  };
  static constexpr json_view::Keys<9> kKeys{{"type", "text",        "thinking", "id",     "name",
                                                            "input", "tool_use_id", "is_error", "content"}};
  content.for_each([&](const V& block) {
    const auto [type_v, text, thinking, id, name, input, tool_use_id, is_error, result] = block.members(kKeys);
    std::string_view type = type_v.string();
    if (type == "text") {
      cur.text += text.string();
      cur_used = true;
    } else if (type == "thinking") {
      cur.reasoning += thinking.string();
      cur_used = true;
    } else if (is_tool_block(type)) {
      ToolCall tc{std::string(id.string()), std::string(name.string()), input.compact_arguments()};
      if (is_server_tool_block(type)) {
        tc.server_side = true;
        tc.tool_type = std::string(hosted_tools::anthropic_tool_type(type, tc.name));
      }
      cur.tool_calls.push_back(std::move(tc));
      cur_used = true;
    } else if (hosted_tools::anthropic_is_server_result(type)) {
      // The server tool's result follows its call in the same assistant turn.
      for (auto& tc : cur.tool_calls)
        if (tc.server_side && tc.id == tool_use_id.string()) hosted_tools::anthropic_apply_result(block.to_json(), tc);
    } else if (type == "tool_result") {
      flush();
      Message t;
      t.role = "tool";
      t.tool_call_id = tool_use_id.string();
      t.is_error = is_error.boolean();
      t.text = json_view::content_text(result, "\n");
      out.push_back(std::move(t));
    }
  });
  flush();
}

template <class V>
void read_message(const V& m, std::vector<Message>& out) {
  read_content(json_view::str(m, "role"), m.at("content"), out);
}

// Read through a view: the fast path reads its simdjson DOM without an nlohmann copy.
template <class V>
Usage anthropic_usage(const V& u) {
  Usage out;
  if (!u.is_object()) return out;
  out.present = true;
  using json_view::has;
  using json_view::i64;
  out.input_uncached = i64(u, "input_tokens");
  out.cache_read = i64(u, "cache_read_input_tokens");
  const V split = u.at("cache_creation");
  if (split.is_object() && (has(split, "ephemeral_5m_input_tokens") || has(split, "ephemeral_1h_input_tokens"))) {
    out.cache_write_5m = i64(split, "ephemeral_5m_input_tokens");
    out.cache_write_1h = i64(split, "ephemeral_1h_input_tokens");
  } else {
    out.cache_write_5m = i64(u, "cache_creation_input_tokens");
  }
  out.output = i64(u, "output_tokens");
  return out;
}

template <class V>
std::string tool_choice(const V& tc) {
  std::string type = json_view::str(tc, "type");
  if (type == "any") return "required";
  if (type == "tool") return json_view::str(tc, "name");
  return type;
}

template <class V>
void read_anthropic_request(const V& body, ModelCall& call) {
  std::string model = json_view::str(body, "model");
  if (!model.empty()) call.request_model = model;
  call.stream = body.at("stream").boolean();
  std::string tier = json_view::str(body, "service_tier");
  if (!tier.empty()) call.service_tier = tier;
  call.system_instructions = json_view::content_text(body.at("system"), "\n");
  body.with_members({"metadata"}, [&](const json& j) { attribution::read_anthropic_body(j, call.attribution); });
  V messages = body.at("messages");
  call.input.reserve(call.input.size() + messages.array_size());
  messages.for_each([&](const V& m) { read_message(m, call.input); });
  body.at("tools").for_each([&](const V& t) {
    std::string name = json_view::str(t, "name");
    if (name.empty()) return;
    V schema = t.at("input_schema");
    call.tools.push_back(ToolDef{name, schema.is_null() ? std::string() : schema.schema_hash()});
  });
  call.tool_choice = tool_choice(body.at("tool_choice"));
}

class AnthropicMessagesParser : public ViewApiParser<AnthropicMessagesParser> {
 public:
  std::string_view resumable_array() const override { return "messages"; }  // read_message: one at a time
  template <class V>
  void read_request(const V& body, ModelCall& call) {
    read_anthropic_request(body, call);
  }

  template <class V>
  void read_body(const V& body, ModelCall& call) {
    read_envelope(body, call);
    std::vector<Message> msgs;
    read_content("assistant", body.at("content"), msgs);
    aggregate(msgs, call);
    std::string_view stop = json_view::sv(body, "stop_reason");
    if (!stop.empty()) call.finish_reasons.emplace_back(stop);
    V u = body.at("usage");
    if (u.is_object()) {
      call.usage = anthropic_usage(u);
      read_tier(u, call);
    }
  }

  template <class V>
  bool read_event(std::string_view event, const V& data, UnixNanos arrived, ModelCall& call) {
    streamed_ = true;
    // The members any event type reads, in one pass (an event is small; lookups are its cost).
    static constexpr json_view::Keys<7> kEvent{{"type",  "index", "delta",  "message",
                                                               "content_block", "usage", "error"}};
    const auto [type_v, index, delta, message, content_block, usage, error] = data.members(kEvent);
    std::string_view type = type_v.string();
    if (type.empty()) type = event;
    if (type == "content_block_delta") {
      Block& b = blocks_[index.i64()];
      static constexpr json_view::Keys<4> kDelta{{"type", "text", "partial_json", "thinking"}};
      const auto [dt_v, text, partial_json, thinking] = delta.members(kDelta);
      std::string_view dt = dt_v.string();
      if (dt == "text_delta") {
        b.text += text.string();
        return true;
      }
      if (dt == "input_json_delta") {
        b.partial_json += partial_json.string();
        b.has_partial = true;
        return true;
      }
      if (dt == "thinking_delta") {
        b.thinking += thinking.string();
        return true;
      }
      return false;  // signature_delta, citations_delta
    }
    if (type == "message_start") {
      read_envelope(message, call);
      merge_usage(message.at("usage"));
      return false;
    }
    if (type == "content_block_start") {
      Block& b = blocks_[index.i64()];
      if (content_block.is_object()) b.block = content_block.to_json();
      else b.block = json::object();
      b.started_at = arrived;
      return false;
    }
    if (type == "message_delta") {
      json_view::assign_nonempty(delta, "stop_reason", stop_reason_);
      merge_usage(usage);
      return false;
    }
    if (type == "message_stop") {
      stopped_ = true;
      return false;
    }
    if (type == "error") {
      const V& e = error;
      call.error_type = json_view::str(e, "type");
      if (call.error_type.empty()) call.error_type = "error";
      call.error_message = json_view::str(e, "message");
      call.status = CallStatus::kError;
      return false;
    }
    if (type == "content_block_stop") {
      // A tool_use block is complete here: the client can start the tool before the message ends.
      if (auto it = blocks_.find(index.i64()); it != blocks_.end()) it->second.stopped_at = arrived;
      return false;
    }
    return false;  // ping, unknown events
  }

  bool finish(ModelCall& call, bool) override {
    if (!streamed_) return true;
    json content = json::array();
    std::vector<const Block*> tool_blocks;  // per tool_use / server tool block, in order
    std::map<std::string, UnixNanos> result_done;  // server tool call id -> its result block's end
    for (auto& [i, b] : blocks_) {
      json block = b.block;
      std::string type = str(block, "type");
      if (is_tool_block(type)) tool_blocks.push_back(&b);
      if (hosted_tools::anthropic_is_server_result(type)) result_done[str(block, "tool_use_id")] = b.stopped_at;
      if (type == "text") block["text"] = str(block, "text") + b.text;
      if (type == "thinking") block["thinking"] = str(block, "thinking") + b.thinking;
      if (is_tool_block(type) && b.has_partial) {
        json input = parse(b.partial_json);
        if (!input.is_discarded()) block["input"] = std::move(input);
        else block["input"] = b.partial_json;  // cut mid-arguments: keep the raw text
      }
      content.push_back(std::move(block));
    }
    std::vector<Message> msgs;
    read_message(json_view::NlohmannView(json{{"role", "assistant"}, {"content", std::move(content)}}), msgs);
    aggregate(msgs, call);
    if (!call.output.empty()) {
      auto& calls = call.output.back().tool_calls;
      for (std::size_t k = 0; k < calls.size() && k < tool_blocks.size(); ++k) {
        ToolCall& tc = calls[k];
        tc.ready_at = tool_blocks[k]->stopped_at;
        if (!tc.server_side) continue;
        // A server tool runs from its call block's start until its result block is complete.
        tc.started_at = tool_blocks[k]->started_at;
        if (auto it = result_done.find(tc.id); it != result_done.end() && it->second != 0) tc.ready_at = it->second;
      }
    }
    if (!stop_reason_.empty()) call.finish_reasons.push_back(stop_reason_);
    if (!usage_.is_null()) {
      call.usage = anthropic_usage(json_view::NlohmannView(usage_));
      read_tier(json_view::NlohmannView(usage_), call);
    }
    return stopped_;
  }

 private:
  struct Block {
    json block;
    std::string text, thinking, partial_json;
    bool has_partial = false;
    UnixNanos started_at = 0;  // content_block_start
    UnixNanos stopped_at = 0;  // content_block_stop
  };

  static void aggregate(std::vector<Message>& msgs, ModelCall& call) {
    if (msgs.empty()) return;
    Message all;
    all.role = "assistant";
    // Moved while nothing precedes them: a body's one text block is not copied again.
    auto gather = [](std::string& into, std::string& from) {
      if (into.empty())
        into = std::move(from);
      else
        into += from;
    };
    for (auto& m : msgs) {
      gather(all.text, m.text);
      gather(all.reasoning, m.reasoning);
      for (auto& t : m.tool_calls) all.tool_calls.push_back(std::move(t));
    }
    call.output.push_back(std::move(all));
  }

  template <class V>
  static void read_envelope(const V& msg, ModelCall& call) {
    json_view::assign_nonempty(msg, "id", call.response_id);
    json_view::assign_nonempty(msg, "model", call.response_model);
  }

  template <class V>
  static void read_tier(const V& usage, ModelCall& call) {
    json_view::assign_nonempty(usage, "service_tier", call.service_tier);
  }

  template <class V>
  void merge_usage(const V& usage) {
    if (!usage.is_object()) return;
    if (!usage_.is_object()) usage_ = json::object();
    const json& u = usage.to_json();
    for (auto it = u.begin(); it != u.end(); ++it) {
      if (!it.value().is_null()) usage_[it.key()] = it.value();
    }
  }

  std::map<std::int64_t, Block> blocks_;
  json usage_;
  std::string stop_reason_;
  bool stopped_ = false;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_anthropic_messages_parser() { return std::make_unique<AnthropicMessagesParser>(); }

}  // namespace llmtap
