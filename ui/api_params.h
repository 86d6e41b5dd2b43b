#pragma once
// The query string of an /api/ request, read strictly: every key must be one the endpoint knows,
// every value must parse, and the error says which parameter and why (a 400 with a JSON error).
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "report/trace_overview.h"
#include "report/trace_source.h"

namespace llmtap::ui {

class ApiParams {
 public:
  // Splits TARGET ("/api/traces?limit=5") into its decoded path and parameters; nullopt and *error
  // when the target is malformed or a key repeats.
  static std::optional<ApiParams> parse(std::string_view target, std::string* error);

  // Percent-decoded path segments ("/api/sessions/a%2Fb" -> api, sessions, a/b).
  const std::vector<std::string>& segments() const { return segments_; }
  // "" when every key is in KNOWN, else the error naming the first unknown one.
  std::string check_known(const std::vector<std::string_view>& known) const;
  bool has(std::string_view key) const { return values_.count(std::string(key)) != 0; }
  std::string text(std::string_view key) const;  // "" when absent

  // Typed reads: the value (or FALLBACK when absent); nullopt and *error when it does not parse.
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max,
                                      std::string* error) const;
  std::optional<std::optional<double>> number(std::string_view key, std::string* error) const;  // >= 0
  // since/until: durations back from NOW or date-times (report/time_window.h).
  std::optional<UnixNanos> time(std::string_view key, UnixNanos fallback, UnixNanos now, std::string* error) const;

 private:
  std::vector<std::string> segments_;
  std::map<std::string, std::string, std::less<>> values_;
};

// The filters every list and dashboard takes (since, until, workflow, agent, model, user, session,
// errors = any|only|none, min_cost, max_cost), followed by MORE.
std::vector<std::string_view> filter_keys_and(std::initializer_list<std::string_view> more);

struct TraceQuery {
  report::TraceSelection selection;  // window, workflow, agent
  report::TraceFilter filter;        // the rest
};
std::optional<TraceQuery> parse_trace_query(const ApiParams& params, UnixNanos now, std::string* error);

}  // namespace llmtap::ui
