// OpenAI Responses API. The response is a list of output items; streams build the same items from
// response.output_item.added/done and the *.delta events, and the terminal event
// (response.completed/incomplete/failed) carries the whole response, which wins when present.
// Output is one assistant message aggregating every item: text, function calls, reasoning.
#include <map>

#include "parsers/api_factories.h"
#include "parsers/hosted_tools.h"
#include "parsers/json_fields.h"
#include "parsers/openai_request.h"
#include "parsers/openai_shared.h"
#include "parsers/simd_json_view.h"

namespace llmtap {
namespace {

using namespace json_fields;

using openai_request::is_call_item;

std::string reasoning_text(const json& item) { return openai_request::reasoning_text(json_view::NlohmannView(item)); }

// The id a tool item is known by in ToolCall::id: call_id for function calls, else the table's.
std::string tool_item_id(const json& item) {
  if (is_call_item(str(item, "type"))) return str(item, "call_id");
  if (auto tc = hosted_tools::responses_item(item)) return tc->id;
  return {};
}

class ResponsesParser : public ApiParser {
 public:
  void parse_request(const json& body, ModelCall& call) override {
    openai_request::read_responses_request(json_view::NlohmannView(body), call);
  }
  bool parse_request_fast(const json_view::SimdView& body, ModelCall& call) override {
    openai_request::read_responses_request(body, call);
    return true;
  }

  void on_json_body(const json& body, ModelCall& call) override { read_response(body, call); }

  bool on_stream_event(std::string_view event, const json& data, UnixNanos arrived, ModelCall& call) override {
    streamed_ = true;
    std::string type = str(data, "type");
    if (type.empty()) type = std::string(event);
    if (type == "response.created" || type == "response.in_progress" || type == "response.queued") {
      read_envelope(at(data, "response"), call);
      return false;
    }
    if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
      terminal_ = true;
      final_ = at(data, "response");
      return false;
    }
    if (type == "error") {
      const json& e = at(data, "error").is_object() ? at(data, "error") : data;
      call.error_type = str(e, "code");
      if (call.error_type.empty() && str(e, "type") != "error") call.error_type = str(e, "type");
      if (call.error_type.empty()) call.error_type = "error";
      call.error_message = str(e, "message");
      call.status = CallStatus::kError;
      terminal_ = true;
      return false;
    }
    std::int64_t oi = i64(data, "output_index");
    if (type == "response.output_item.added" || type == "response.output_item.done") {
      const json& item = at(data, "item");
      if (item.is_object()) items_[oi] = item;
      // A function call item is done: the client can run it before the response completes. A
      // hosted tool item runs on the server from its added event to its done event.
      const std::string tool_id = tool_item_id(item);
      if (tool_id.empty()) return false;
      if (type == "response.output_item.done") call_ready_[tool_id] = arrived;
      else call_started_.emplace(tool_id, arrived);
      return type == "response.output_item.added";
    }
    json& item = items_[oi];
    const std::string delta = str(data, "delta");
    if (type == "response.output_text.delta" || type == "response.refusal.delta") {
      if (!item.is_object()) item = json{{"type", "message"}, {"role", "assistant"}};
      json& content = item["content"];
      if (!content.is_array()) content = json::array();
      std::size_t ci = static_cast<std::size_t>(std::max<std::int64_t>(0, std::min<std::int64_t>(i64(data, "content_index"), 1024)));
      while (content.size() <= ci) content.push_back(json{{"type", "output_text"}, {"text", ""}});
      json& part = content[ci];
      if (!part.is_object()) part = json::object();
      const char* field = type == "response.refusal.delta" ? "refusal" : "text";
      std::string cur = str(part, field);
      part[field] = cur + delta;
      return !delta.empty();
    }
    if (type == "response.function_call_arguments.delta" || type == "response.custom_tool_call_input.delta") {
      if (!item.is_object()) item = json{{"type", "function_call"}};
      const char* field = type == "response.custom_tool_call_input.delta" ? "input" : "arguments";
      item[field] = str(item, field) + delta;
      return true;
    }
    if (type == "response.function_call_arguments.done") {
      if (item.is_object() && at(data, "arguments").is_string()) item["arguments"] = at(data, "arguments");
      return false;
    }
    if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta") {
      if (!item.is_object()) item = json{{"type", "reasoning"}};
      const char* list = type == "response.reasoning_text.delta" ? "content" : "summary";
      json& parts = item[list];
      if (!parts.is_array()) parts = json::array();
      const char* idx = type == "response.reasoning_text.delta" ? "content_index" : "summary_index";
      std::size_t si = static_cast<std::size_t>(std::max<std::int64_t>(0, std::min<std::int64_t>(i64(data, idx), 1024)));
      while (parts.size() <= si) parts.push_back(json{{"type", "summary_text"}, {"text", ""}});
      if (!parts[si].is_object()) parts[si] = json::object();
      parts[si]["text"] = str(parts[si], "text") + delta;
      return !delta.empty();
    }
    if (!item.is_object()) items_.erase(oi);
    return false;  // content_part.added/done, *.done, annotations, ...: no new information
  }

  bool finish(ModelCall& call, bool) override {
    if (!streamed_) return true;
    finish_output(call);
    for (auto& m : call.output)
      for (auto& tc : m.tool_calls) {
        if (auto it = call_ready_.find(tc.id); it != call_ready_.end()) tc.ready_at = it->second;
        if (auto it = call_started_.find(tc.id); it != call_started_.end() && tc.server_side) tc.started_at = it->second;
      }
    return terminal_;
  }

 private:
  void finish_output(ModelCall& call) {
    if (final_.is_object()) {
      // The terminal event's output wins; items seen only in deltas fill in when it omits them.
      if (!at(final_, "output").is_array() || at(final_, "output").empty()) {
        json out = json::array();
        for (auto& [i, item] : items_) out.push_back(item);
        final_["output"] = std::move(out);
      }
      read_response(final_, call);
    } else {
      read_envelope(json::object(), call);
      json out = json::array();
      for (auto& [i, item] : items_) out.push_back(item);
      read_output(out, call);
    }
  }

  static void read_envelope(const json& r, ModelCall& call) {
    std::string id = str(r, "id");
    if (!id.empty()) call.response_id = id;
    std::string model = str(r, "model");
    if (!model.empty()) call.response_model = model;
    std::string tier = str(r, "service_tier");
    if (!tier.empty()) call.service_tier = tier;
    std::string prev = str(r, "previous_response_id");
    if (!prev.empty() && call.previous_response_id.empty()) call.previous_response_id = prev;
    std::string conv = openai_request::conversation_id(json_view::NlohmannView(at(r, "conversation")));
    if (!conv.empty() && call.conversation_id.empty()) call.conversation_id = conv;
  }

  static void read_output(const json& output, ModelCall& call) {
    Message m;
    m.role = "assistant";
    bool any = false;
    if (output.is_array()) {
      for (const auto& item : output) {
        std::string type = str(item, "type");
        if (type == "message") {
          for (const auto& part : at(item, "content").is_array() ? at(item, "content") : json::array()) {
            std::string t = str(part, "text");
            if (t.empty()) t = str(part, "refusal");
            m.text += t;
          }
          any = true;
        } else if (is_call_item(type)) {
          const json& args = has(item, "arguments") ? at(item, "arguments") : at(item, "input");
          m.tool_calls.push_back(ToolCall{str(item, "call_id"), str(item, "name"), compact_arguments(args)});
          any = true;
        } else if (auto tc = hosted_tools::responses_item(item)) {
          m.tool_calls.push_back(std::move(*tc));
          any = true;
        } else if (type == "reasoning") {
          std::string r = reasoning_text(item);
          if (!m.reasoning.empty() && !r.empty()) m.reasoning.push_back('\n');
          m.reasoning += r;
          any = true;
        }
      }
    }
    if (any) call.output.push_back(std::move(m));
  }

  static void read_response(const json& r, ModelCall& call) {
    read_envelope(r, call);
    read_output(at(r, "output"), call);
    if (at(r, "usage").is_object()) call.usage = openai_shared::usage(at(r, "usage"));
    std::string status = str(r, "status");
    if (status == "incomplete") {
      std::string reason = str(at(r, "incomplete_details"), "reason");
      call.finish_reasons.push_back("incomplete:" + reason);
    } else if (status == "failed") {
      call.finish_reasons.push_back("failed");
      call.status = CallStatus::kError;
      const json& e = at(r, "error");
      call.error_type = str(e, "code");
      if (call.error_type.empty()) call.error_type = "failed";
      call.error_message = str(e, "message");
    } else if (!status.empty()) {
      call.finish_reasons.push_back(status);
    }
  }

  std::map<std::int64_t, json> items_;
  std::map<std::string, UnixNanos> call_ready_;    // tool call id -> its output_item.done
  std::map<std::string, UnixNanos> call_started_;  // tool call id -> its output_item.added
  json final_;
  bool terminal_ = false;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ApiParser> make_responses_parser() { return std::make_unique<ResponsesParser>(); }

}  // namespace llmtap
