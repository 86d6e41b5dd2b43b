#include "export/store_rows.h"

#include <algorithm>
#include <unordered_map>

#include "export/store_file.h"

namespace llmtap::exporting {
namespace {

SpanKind kind_from_string(std::string_view s) {
  for (auto k : {SpanKind::kWorkflow, SpanKind::kAgent, SpanKind::kGeneration, SpanKind::kTool, SpanKind::kHandoff,
                 SpanKind::kGuardrail})
    if (to_string(k) == s) return k;
  return SpanKind::kGeneration;
}

// Root workflow first (Trace's contract), the rest stay in start order.
void root_first(Trace& trace, std::size_t from) {
  auto begin = trace.spans.begin() + static_cast<std::ptrdiff_t>(from);
  auto root = std::find_if(begin, trace.spans.end(), [](const Span& s) { return s.kind == SpanKind::kWorkflow; });
  if (root != trace.spans.end()) std::rotate(begin, root, root + 1);
}

bool decode_into(std::string_view blob, KeyTable& keys, std::vector<std::pair<std::uint64_t, Attribute>>& out) {
  std::uint64_t unknown = 0;
  const std::size_t before = out.size();
  if (codec::decode_attributes(blob, &keys.dictionary(), out, &unknown)) return true;
  // Another process may have added keys since this connection read the table.
  if (keys.dictionary().key(unknown) != nullptr || !keys.load()) return false;
  out.resize(before);
  return codec::decode_attributes(blob, &keys.dictionary(), out);
}

}  // namespace

const std::vector<std::string>& content_keys() {
  static const std::vector<std::string> keys = {"gen_ai.input.messages", "gen_ai.output.messages",
                                                "gen_ai.system_instructions", "gen_ai.tool.call.result"};
  return keys;
}

bool is_content_key(std::string_view key) {
  const auto& keys = content_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool encode_span_attributes(const Span& span, KeyTable& keys, std::string& attrs, std::string& content) {
  return encode_span_attributes(span, [&](std::string_view k) { return keys.id_for(k); }, attrs, content);
}

bool encode_span_attributes(const Span& span, const std::function<std::int64_t(std::string_view)>& key_id,
                            std::string& attrs, std::string& content) {
  attrs.clear();
  content.clear();
  for (std::size_t i = 0; i < span.attributes.size(); ++i) {
    const Attribute& a = span.attributes[i];
    std::int64_t id = key_id(a.key);
    if (id < 0) return false;
    codec::append_attribute(is_content_key(a.key) ? content : attrs, i, id, a);
  }
  return true;
}

std::string spans_of_trace_sql(bool with_content, bool by_trace_id) {
  return std::string("SELECT span_id,parent_span_id,name,kind,start_ns,end_ns,error,status_message,attrs") +
         (with_content ? ",content" : "") +
         (by_trace_id ? " FROM spans WHERE trace_id=?1" : " FROM spans WHERE trace_row=(SELECT id FROM traces WHERE trace_id=?1)") +
         " ORDER BY start_ns, seq";
}

bool spans_name_trace_id(sqlite3* db) {
  sql::Stmt probe(db, "SELECT trace_id FROM spans LIMIT 0");
  return probe.ok();
}

std::string read_spans(sql::Stmt& spans, const std::string& trace_id, bool with_content,
                       const std::vector<std::string>& skip, KeyTable& keys, Trace& out) {
  const std::size_t first = out.spans.size();
  std::vector<std::pair<std::uint64_t, Attribute>> attrs;
  std::string error;
  int rc;
  spans.bind(1, std::string_view(trace_id));
  while ((rc = spans.step()) == SQLITE_ROW) {
    Span s;
    s.trace_id = trace_id;
    s.span_id = spans.text(0);
    s.parent_span_id = spans.text(1);
    s.name = spans.text(2);
    s.kind = kind_from_string(spans.view(3));
    s.start_ns = spans.i64(4);
    s.end_ns = spans.i64(5);
    s.error = spans.i64(6) != 0;
    s.status_message = spans.text(7);
    attrs.clear();
    bool ok = decode_into(spans.blob(8), keys, attrs);
    if (ok && with_content && !spans.is_null(9)) ok = decode_into(spans.blob(9), keys, attrs);
    if (!ok) {
      error = "span " + s.span_id + " of trace " + trace_id + " has attributes that do not decode";
      break;
    }
    // The two blobs interleave: restore the order the attributes were recorded in.
    std::stable_sort(attrs.begin(), attrs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    s.attributes.reserve(attrs.size());
    for (auto& [pos, a] : attrs)
      if (skip.empty() || std::find(skip.begin(), skip.end(), a.key) == skip.end())
        s.attributes.push_back(std::move(a));
    out.spans.push_back(std::move(s));
  }
  if (error.empty() && rc != SQLITE_ROW && rc != SQLITE_DONE) error = sqlite_reason(sqlite3_db_handle(spans.handle()), rc);
  spans.reset();
  root_first(out, first);
  return error;
}

const char* events_of_trace_sql() {
  return "SELECT span_id,time_ns,name,attrs FROM span_events WHERE trace_id=?1 ORDER BY span_id, seq";
}

std::string read_events(sql::Stmt& events, Trace& out) {
  std::unordered_map<std::string_view, Span*> by_id;
  std::vector<std::pair<std::uint64_t, Attribute>> attrs;
  std::string error;
  int rc;
  events.bind(1, std::string_view(out.trace_id));
  while ((rc = events.step()) == SQLITE_ROW) {
    if (by_id.empty())
      for (auto& s : out.spans) by_id.emplace(s.span_id, &s);
    auto it = by_id.find(events.view(0));
    if (it == by_id.end()) continue;  // an event of a span not stored (cannot happen in one write)
    SpanEvent e;
    e.time_ns = events.i64(1);
    e.name = events.text(2);
    attrs.clear();
    if (!codec::decode_attributes(events.blob(3), nullptr, attrs)) {
      error = "span " + it->second->span_id + " of trace " + out.trace_id + " has events that do not decode";
      break;
    }
    for (auto& [pos, a] : attrs) e.attributes.push_back(std::move(a));
    it->second->events.push_back(std::move(e));
  }
  if (error.empty() && rc != SQLITE_ROW && rc != SQLITE_DONE) error = sqlite_reason(sqlite3_db_handle(events.handle()), rc);
  events.reset();
  return error;
}

}  // namespace llmtap::exporting
