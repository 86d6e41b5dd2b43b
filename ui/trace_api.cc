#include "ui/trace_api.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "export/span_json.h"
#include "export/sqlite_store.h"
#include "export/traces_query.h"
#include "ui/api_query.h"

namespace llmtap::ui {
namespace {

using nlohmann::json;
using exporting::is_trace_id_prefix;

constexpr std::size_t kMaxSessionsTracked = 100000;
constexpr std::size_t kMaxListedNames = 5;

json cost_json(const std::optional<double>& c) { return c ? json(*c) : json(nullptr); }

// "START_NS:TRACE_ID" of the last trace listed: the next page starts just after it.
struct Cursor {
  UnixNanos start = 0;
  std::string trace_id;
};
std::optional<Cursor> parse_cursor(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  Cursor c;
  char* end = nullptr;
  c.start = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + colon) return std::nullopt;
  c.trace_id = text.substr(colon + 1);
  if (!is_trace_id_prefix(c.trace_id)) return std::nullopt;
  return c;
}

}  // namespace

json overview_json(const report::TraceOverview& t) {
  return {{"trace_id", t.trace_id},
          {"workflow", t.workflow},
          {"user", t.user},
          {"session", t.session},
          {"start_time_unix_nano", t.start_ns},
          {"end_time_unix_nano", t.end_ns},
          {"duration_ms", static_cast<double>(t.end_ns - t.start_ns) / 1e6},
          {"agents", t.agents},
          {"models", t.models},
          {"spans", t.spans},
          {"model_calls", t.model_calls},
          {"tool_calls", t.tool_calls},
          {"errors", t.errors},
          {"input_tokens", t.input_tokens},
          {"output_tokens", t.output_tokens},
          {"cost_usd", cost_json(t.cost_usd)}};
}

ApiResult list_traces(const ApiContext& ctx) {
  ApiResult result;
  auto p = prepare_query(ctx, {"limit", "cursor"}, &result);
  if (!p) return result;
  std::string error;
  auto limit = ctx.params.integer("limit", 50, 1, 1000, &error);
  if (!limit) return api_error(400, error);
  std::optional<Cursor> cursor;
  if (ctx.params.has("cursor")) {
    cursor = parse_cursor(ctx.params.text("cursor"));
    if (!cursor) return api_error(400, "cursor wants the next_cursor of a previous answer (START_NS:TRACE_ID)");
  }
  json rows = json::array();
  bool more = false;
  std::string next;
  {
    auto& sel = p->query.selection;
    sel.newest_first = true;
    if (cursor) sel.until = std::min(sel.until, cursor->start + 1);
    std::string e = for_each_matching(*p, [&](const Trace&, const report::TraceOverview& o) {
      // The store's start time is the earliest span's, as here; ties are ordered by id, descending.
      if (cursor && o.start_ns >= cursor->start && o.trace_id >= cursor->trace_id) return true;  // an earlier page's
      if (static_cast<std::int64_t>(rows.size()) == *limit) {
        more = true;
        return false;
      }
      next = std::to_string(o.start_ns) + ":" + o.trace_id;
      rows.push_back(overview_json(o));
      return true;
    });
    if (!e.empty()) return api_error(500, e);
  }
  return {200, {{"traces", rows}, {"more", more}, {"next_cursor", more ? json(next) : json(nullptr)}, {"store", p->store}}};
}

ApiResult get_trace(const ApiContext& ctx, const std::string& id) {
  if (std::string e = ctx.params.check_known({}); !e.empty()) return api_error(400, e);
  if (!is_trace_id_prefix(id)) return api_error(400, "'" + id + "' is not a trace id (32 hex characters, or a unique prefix of one)");
  std::string error;
  auto source = ctx.store.source(&error);
  if (!source) return api_error(404, "no trace " + id + ": " + error);
  std::string lower = id;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (source->reader().ids_with_prefix(lower, 1).empty()) return api_error(404, "no trace " + lower + " in the store");
  auto found = exporting::find_trace(source->reader(), lower);
  if (!found.trace) return api_error(400, found.error);  // ambiguous prefix
  json spans = json::array();
  for (const auto& s : found.trace->spans) spans.push_back(exporting::span_to_json(s));
  return {200, {{"trace", overview_json(report::overview_of(*found.trace))}, {"spans", spans}}};
}

ApiResult list_sessions(const ApiContext& ctx) {
  ApiResult result;
  auto p = prepare_query(ctx, {"limit"}, &result);
  if (!p) return result;
  std::string error;
  auto limit = ctx.params.integer("limit", 50, 1, 1000, &error);
  if (!limit) return api_error(400, error);
  struct Session {
    std::int64_t traces = 0, failed = 0, model_calls = 0;
    UnixNanos first = 0, last = 0;
    double cost = 0;
    bool priced = false;
    std::vector<std::string> users, workflows;
  };
  std::map<std::string, Session> sessions;
  bool truncated = false;
  auto note = [](std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && v.size() < kMaxListedNames && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  {
    std::string e = for_each_matching(*p, [&](const Trace&, const report::TraceOverview& o) {
      if (o.session.empty()) return true;
      auto it = sessions.find(o.session);
      if (it == sessions.end()) {
        if (sessions.size() >= kMaxSessionsTracked) {
          truncated = true;
          return true;
        }
        it = sessions.emplace(o.session, Session{}).first;
        it->second.first = o.start_ns;
      }
      Session& s = it->second;
      ++s.traces;
      s.failed += o.errors ? 1 : 0;
      s.model_calls += o.model_calls;
      s.first = std::min(s.first, o.start_ns);
      s.last = std::max(s.last, o.end_ns);
      if (o.cost_usd) s.cost += *o.cost_usd, s.priced = true;
      note(s.users, o.user);
      note(s.workflows, o.workflow);
      return true;
    });
    if (!e.empty()) return api_error(500, e);
  }
  std::vector<std::pair<const std::string*, const Session*>> order;
  for (const auto& [id, s] : sessions) order.emplace_back(&id, &s);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.second->last != b.second->last) return a.second->last > b.second->last;
    return *a.first < *b.first;
  });
  json rows = json::array();
  for (std::size_t i = 0; i < order.size() && static_cast<std::int64_t>(i) < *limit; ++i) {
    const Session& s = *order[i].second;
    rows.push_back({{"session", *order[i].first},
                    {"traces", s.traces},
                    {"failed_traces", s.failed},
                    {"model_calls", s.model_calls},
                    {"first_start_unix_nano", s.first},
                    {"last_end_unix_nano", s.last},
                    {"cost_usd", s.priced ? json(s.cost) : json(nullptr)},
                    {"users", s.users},
                    {"workflows", s.workflows}});
  }
  return {200, {{"sessions", rows}, {"total", sessions.size()}, {"truncated", truncated}, {"store", p->store}}};
}

ApiResult get_session(const ApiContext& ctx, const std::string& session) {
  ApiResult result;
  auto p = prepare_query(ctx, {"limit"}, &result);
  if (!p) return result;
  if (ctx.params.has("session")) return api_error(400, "the session is named by the path, not by ?session=");
  std::string error;
  auto limit = ctx.params.integer("limit", 200, 1, 1000, &error);
  if (!limit) return api_error(400, error);
  p->query.filter.session = session;
  json rows = json::array();
  bool more = false;
  double cost = 0;
  bool priced = false;
  {
    std::string e = for_each_matching(*p, [&](const Trace&, const report::TraceOverview& o) {
      if (static_cast<std::int64_t>(rows.size()) == *limit) {
        more = true;
        return false;
      }
      if (o.cost_usd) cost += *o.cost_usd, priced = true;
      rows.push_back(overview_json(o));
      return true;
    });
    if (!e.empty()) return api_error(500, e);
  }
  if (rows.empty() && p->source) return api_error(404, "no traces of session '" + session + "' in this window");
  return {200, {{"session", session}, {"traces", rows}, {"more", more}, {"cost_usd", priced ? json(cost) : json(nullptr)},
                {"store", p->store}}};
}

}  // namespace llmtap::ui
