#include "export/traces_query.h"

#include <cctype>
#include <ctime>

#include "common/terminal_text.h"
#include "export/tree_renderer.h"

namespace llmtap::exporting {
namespace {

// Terminal columns of UTF-8 text (one per code point: good enough for names and arrows).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string fit(const std::string& s, std::size_t max) {
  if (width(s) <= max) return s;
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > max - 1) break;
    out.push_back(s[i]);
  }
  return out + "…";
}

std::string pad(const std::string& s, std::size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }
std::string rpad(const std::string& s, std::size_t w) { return std::string(w > width(s) ? w - width(s) : 0, ' ') + s; }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

std::string format_time(UnixNanos ns, bool utc) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  if (utc) gmtime_r(&t, &tm);
  else localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

bool is_trace_id_prefix(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string resolve_trace_id(const TraceStoreReader& store, const std::string& id_or_prefix, std::string* error) {
  std::string id;
  for (char c : id_or_prefix) id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!is_trace_id_prefix(id)) {
    *error = "'" + id_or_prefix + "' is not a trace id (32 hex characters, or a unique prefix of one)";
    return "";
  }
  auto matches = store.ids_with_prefix(id, 6);
  if (matches.empty()) {
    *error = "no trace " + id + " in the store (see `llmtap traces list`)";
    return "";
  }
  if (matches.size() > 1 && matches.front() != id) {
    *error = "trace id prefix " + id + " is ambiguous: it matches " + join(matches, ", ") +
             (matches.size() == 6 ? ", ..." : "");
    return "";
  }
  return matches.front();
}

TraceLookup find_trace(const TraceStoreReader& store, const std::string& id_or_prefix) {
  TraceLookup out;
  const std::string id = resolve_trace_id(store, id_or_prefix, &out.error);
  if (!id.empty()) {
    out.trace = store.get(id);
    if (!out.trace) out.error = "trace " + id + " has no spans";
  }
  return out;
}

std::string format_trace_list(const std::vector<TraceSummary>& traces) {
  struct Row { std::string id, time, workflow, agents, spans, duration, cost, errors; };
  std::vector<Row> rows;
  rows.push_back({"TRACE ID", "TIME", "WORKFLOW", "AGENTS", "SPANS", "DURATION", "COST", "ERRORS"});
  for (const auto& t : traces) {
    // Names come from the wire: escaped before they are cut to fit the column.
    rows.push_back({terminal_safe(t.trace_id), format_time(t.start_ns),
                    fit(t.workflow.empty() ? "-" : terminal_safe(t.workflow), 28),
                    fit(t.agents.empty() ? "-" : terminal_safe(join(t.agents, ", ")), 36), std::to_string(t.span_count),
                    TreeRenderer::format_duration(t.end_ns - t.start_ns),
                    t.cost_usd ? TreeRenderer::format_cost(*t.cost_usd) : "-",
                    t.error_count ? std::to_string(t.error_count) : "-"});
  }
  std::size_t w[8] = {};
  for (const auto& r : rows) {
    const std::string* cols[8] = {&r.id, &r.time, &r.workflow, &r.agents, &r.spans, &r.duration, &r.cost, &r.errors};
    for (int i = 0; i < 8; ++i) w[i] = std::max(w[i], width(*cols[i]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line = pad(r.id, w[0]) + "  " + pad(r.time, w[1]) + "  " + pad(r.workflow, w[2]) + "  " +
                       pad(r.agents, w[3]) + "  " + rpad(r.spans, w[4]) + "  " + rpad(r.duration, w[5]) + "  " +
                       rpad(r.cost, w[6]) + "  " + rpad(r.errors, w[7]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

nlohmann::json trace_list_json(const std::vector<TraceSummary>& traces) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : traces) {
    out.push_back({{"trace_id", t.trace_id},
                   {"start_time_unix_nano", t.start_ns},
                   {"end_time_unix_nano", t.end_ns},
                   {"duration_ms", static_cast<double>(t.end_ns - t.start_ns) / 1e6},
                   {"workflow", t.workflow},
                   {"agents", t.agents},
                   {"span_count", t.span_count},
                   {"cost_usd", t.cost_usd ? nlohmann::json(*t.cost_usd) : nlohmann::json(nullptr)},
                   {"error_count", t.error_count}});
  }
  return out;
}

}  // namespace llmtap::exporting
