#include "ui/api_params.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <boost/url/parse.hpp>

#include "report/time_window.h"

namespace llmtap::ui {

std::optional<ApiParams> ApiParams::parse(std::string_view target, std::string* error) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    *error = "the request target is not a valid path and query";
    return std::nullopt;
  }
  ApiParams p;
  for (auto seg : url->segments()) p.segments_.emplace_back(seg);
  if (!p.segments_.empty() && p.segments_.back().empty()) p.segments_.pop_back();  // "/api/traces/"
  for (auto param : url->params()) {
    std::string key(param.key);
    if (p.values_.count(key)) {
      *error = "parameter '" + key + "' is given twice";
      return std::nullopt;
    }
    p.values_.emplace(std::move(key), param.has_value ? std::string(param.value) : std::string());
  }
  return p;
}

std::vector<std::string_view> filter_keys_and(std::initializer_list<std::string_view> more) {
  std::vector<std::string_view> keys = {"since", "until", "workflow", "agent", "model",
                                        "user", "session", "errors", "min_cost", "max_cost"};
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::string ApiParams::check_known(const std::vector<std::string_view>& known) const {
  for (const auto& [key, value] : values_) {
    bool ok = false;
    for (auto k : known) ok |= k == key;
    if (ok) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return "unknown parameter '" + key + "'" + (list.empty() ? " (this endpoint takes none)" : " (known: " + list + ")");
  }
  return "";
}

std::string ApiParams::text(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string() : it->second;
}

std::optional<std::int64_t> ApiParams::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                               std::int64_t max, std::string* error) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& v = it->second;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || n < min || n > max) {
    *error = std::string(key) + " wants a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
             ", not '" + v + "'";
    return std::nullopt;
  }
  return n;
}

std::optional<std::optional<double>> ApiParams::number(std::string_view key, std::string* error) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::optional<double>();
  const std::string& v = it->second;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || errno || !std::isfinite(d) || d < 0) {
    *error = std::string(key) + " wants a number of US dollars (0 or more), not '" + v + "'";
    return std::nullopt;
  }
  return std::optional<double>(d);
}

std::optional<UnixNanos> ApiParams::time(std::string_view key, UnixNanos fallback, UnixNanos now,
                                         std::string* error) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return fallback;
  std::string e;
  auto t = report::parse_time_point(it->second, now, &e);
  if (!t) *error = std::string(key) + ": " + e;
  return t;
}

std::optional<TraceQuery> parse_trace_query(const ApiParams& params, UnixNanos now, std::string* error) {
  TraceQuery q;
  auto since = params.time("since", 0, now, error);
  if (!since) return std::nullopt;
  auto until = params.time("until", q.selection.until, now, error);
  if (!until) return std::nullopt;
  if (*until <= *since) {
    *error = "the window is empty: until must be later than since";
    return std::nullopt;
  }
  q.selection.since = *since;
  q.selection.until = *until;
  q.selection.workflow = params.text("workflow");
  q.selection.agent = params.text("agent");
  q.filter.model = params.text("model");
  q.filter.user = params.text("user");
  q.filter.session = params.text("session");
  const std::string errors = params.text("errors");
  if (errors == "only") q.filter.errors = report::TraceFilter::Errors::kOnly;
  else if (errors == "none") q.filter.errors = report::TraceFilter::Errors::kNone;
  else if (!errors.empty() && errors != "any") {
    *error = "errors wants any, only or none, not '" + errors + "'";
    return std::nullopt;
  }
  auto min_cost = params.number("min_cost", error);
  if (!min_cost) return std::nullopt;
  auto max_cost = params.number("max_cost", error);
  if (!max_cost) return std::nullopt;
  q.filter.min_cost = *min_cost;
  q.filter.max_cost = *max_cost;
  return q;
}

}  // namespace llmtap::ui
