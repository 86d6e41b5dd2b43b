// OpenAI Responses API. The response is a list of output items; streams build the same items from
// response.output_item.added/done and the *.delta events, and the terminal event
// (response.completed/incomplete/failed) carries the whole response, which wins when present.
// Output is one assistant message aggregating every item: text, function calls, reasoning.
#include <array>
#include <map>

#include "parsers/api_factories.h"
#include "parsers/hosted_tools.h"
#include "parsers/json_fields.h"
#include "parsers/openai_request.h"
#include "parsers/openai_shared.h"
#include "parsers/view_api_parser.h"

namespace llmtap {
namespace {

using namespace json_fields;

using openai_request::is_call_item;

// Appends a delta to the string member `field` of `obj` in place (a missing or non-string member
// starts empty): a long streamed output costs its length once, not once per delta.
void append_member(json& obj, const char* field, std::string_view delta) {
  json& f = obj[field];
  if (!f.is_string()) f = std::string();
  f.get_ref<std::string&>().append(delta);
}

// The id a tool item is known by in ToolCall::id: call_id for function calls, else the table's.
template <class V>
std::string tool_item_id(const V& item) {
  const std::string_view type = json_view::sv(item, "type");
  if (is_call_item(type)) return json_view::str(item, "call_id");
  if (hosted_tools::is_responses_tool_item(type))
    if (auto tc = hosted_tools::responses_item(item.to_json())) return tc->id;
  return {};
}

class ResponsesParser : public ViewApiParser<ResponsesParser> {
 public:
  std::string_view resumable_array() const override { return "input"; }  // read_input_item: one item at a time
  template <class V>
  void read_request(const V& body, ModelCall& call) {
    openai_request::read_responses_request(body, call);
  }

  template <class V>
  void read_body(const V& body, ModelCall& call) {
    read_response(body, call);
  }

  template <class V>
  bool read_event(std::string_view event, const V& data, UnixNanos arrived, ModelCall& call) {
    streamed_ = true;
    // The members any event type reads, in one pass (an event is small; lookups are its cost).
    static constexpr json_view::Keys<9> kEvent{{
        "type", "output_index", "delta", "content_index", "summary_index", "item", "arguments", "response", "error"}};
    const auto [type_v, output_index, delta_v, content_index, summary_index, item_v, arguments, response, err] =
        data.members(kEvent);
    std::string_view type = type_v.string();
    if (type.empty()) type = event;
    if (type == "response.created" || type == "response.in_progress" || type == "response.queued") {
      read_envelope(response, call);
      return false;
    }
    if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
      terminal_ = true;
      final_ = response.to_json();
      return false;
    }
    if (type == "error") {
      const V& e = err.is_object() ? err : data;
      call.error_type = json_view::str(e, "code");
      if (call.error_type.empty() && json_view::sv(e, "type") != "error") call.error_type = json_view::str(e, "type");
      if (call.error_type.empty()) call.error_type = "error";
      call.error_message = json_view::str(e, "message");
      call.status = CallStatus::kError;
      terminal_ = true;
      return false;
    }
    std::int64_t oi = output_index.i64();
    if (type == "response.output_item.added" || type == "response.output_item.done") {
      const V& item = item_v;
      if (item.is_object()) items_[oi] = item.to_json();
      // A function call item is done: the client can run it before the response completes. A
      // hosted tool item runs on the server from its added event to its done event.
      const std::string tool_id = tool_item_id(item);
      if (tool_id.empty()) return false;
      if (type == "response.output_item.done") call_ready_[tool_id] = arrived;
      else call_started_.emplace(tool_id, arrived);
      return type == "response.output_item.added";
    }
    json& item = items_[oi];
    const std::string_view delta = delta_v.string();
    if (type == "response.output_text.delta" || type == "response.refusal.delta") {
      if (!item.is_object()) item = json{{"type", "message"}, {"role", "assistant"}};
      json& content = item["content"];
      if (!content.is_array()) content = json::array();
      std::size_t ci = static_cast<std::size_t>(
          std::max<std::int64_t>(0, std::min<std::int64_t>(content_index.i64(), 1024)));
      while (content.size() <= ci) content.push_back(json{{"type", "output_text"}, {"text", ""}});
      json& part = content[ci];
      if (!part.is_object()) part = json::object();
      append_member(part, type == "response.refusal.delta" ? "refusal" : "text", delta);
      return !delta.empty();
    }
    if (type == "response.function_call_arguments.delta" || type == "response.custom_tool_call_input.delta") {
      if (!item.is_object()) item = json{{"type", "function_call"}};
      append_member(item, type == "response.custom_tool_call_input.delta" ? "input" : "arguments", delta);
      return true;
    }
    if (type == "response.function_call_arguments.done") {
      if (item.is_object() && arguments.is_string()) item["arguments"] = std::string(arguments.string());
      return false;
    }
    if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta") {
      if (!item.is_object()) item = json{{"type", "reasoning"}};
      const char* list = type == "response.reasoning_text.delta" ? "content" : "summary";
      json& parts = item[list];
      if (!parts.is_array()) parts = json::array();
      const V& idx = type == "response.reasoning_text.delta" ? content_index : summary_index;
      std::size_t si = static_cast<std::size_t>(std::max<std::int64_t>(0, std::min<std::int64_t>(idx.i64(), 1024)));
      while (parts.size() <= si) parts.push_back(json{{"type", "summary_text"}, {"text", ""}});
      if (!parts[si].is_object()) parts[si] = json::object();
      append_member(parts[si], "text", delta);
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
      read_response(json_view::NlohmannView(final_), call);
    } else {
      json out = json::array();
      for (auto& [i, item] : items_) out.push_back(item);
      read_output(json_view::NlohmannView(out), call);
    }
  }

  template <class V>
  static void read_envelope(const V& r, ModelCall& call) {
    json_view::assign_nonempty(r, "id", call.response_id);
    json_view::assign_nonempty(r, "model", call.response_model);
    json_view::assign_nonempty(r, "service_tier", call.service_tier);
    std::string_view prev = json_view::sv(r, "previous_response_id");
    if (!prev.empty() && call.previous_response_id.empty()) call.previous_response_id = prev;
    std::string conv = openai_request::conversation_id(r.at("conversation"));
    if (!conv.empty() && call.conversation_id.empty()) call.conversation_id = conv;
  }

  template <class V>
  static void read_output(const V& output, ModelCall& call) {
    Message m;
    m.role = "assistant";
    bool any = false;
    output.for_each([&](const V& item) {
      std::string_view type = json_view::sv(item, "type");
      if (type == "message") {
        item.at("content").for_each([&](const V& part) {
          std::string_view t = json_view::sv(part, "text");
          if (t.empty()) t = json_view::sv(part, "refusal");
          m.text += t;
        });
        any = true;
      } else if (is_call_item(type)) {
        V args = json_view::has(item, "arguments") ? item.at("arguments") : item.at("input");
        m.tool_calls.push_back(
            ToolCall{json_view::str(item, "call_id"), json_view::str(item, "name"), args.compact_arguments()});
        any = true;
      } else if (type == "reasoning") {
        std::string r = openai_request::reasoning_text(item);
        if (!m.reasoning.empty() && !r.empty()) m.reasoning.push_back('\n');
        m.reasoning += r;
        any = true;
      } else if (hosted_tools::is_responses_tool_item(type)) {
        if (auto tc = hosted_tools::responses_item(item.to_json())) {
          m.tool_calls.push_back(std::move(*tc));
          any = true;
        }
      }
    });
    if (any) call.output.push_back(std::move(m));
  }

  template <class V>
  static void read_response(const V& r, ModelCall& call) {
    read_envelope(r, call);
    read_output(r.at("output"), call);
    V u = r.at("usage");
    if (u.is_object()) call.usage = openai_shared::usage_of(u);
    std::string_view status = json_view::sv(r, "status");
    if (status == "incomplete") {
      std::string reason = json_view::str(r.at("incomplete_details"), "reason");
      call.finish_reasons.push_back("incomplete:" + reason);
    } else if (status == "failed") {
      call.finish_reasons.push_back("failed");
      call.status = CallStatus::kError;
      V e = r.at("error");
      call.error_type = json_view::str(e, "code");
      if (call.error_type.empty()) call.error_type = "failed";
      call.error_message = json_view::str(e, "message");
    } else if (!status.empty()) {
      call.finish_reasons.emplace_back(status);
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
