#include "ui/api_query.h"

namespace llmtap::ui {

nlohmann::json store_status(const StoreHandle& store, const std::string& error) {
  nlohmann::json j = {{"path", store.path()}, {"present", error.empty()}};
  if (!error.empty()) j["message"] = error;
  return j;
}

std::optional<PreparedQuery> prepare_query(const ApiContext& ctx, std::initializer_list<std::string_view> extra_keys,
                                           ApiResult* result) {
  std::string error = ctx.params.check_known(filter_keys_and(extra_keys));
  std::optional<TraceQuery> q;
  if (error.empty()) q = parse_trace_query(ctx.params, ctx.now, &error);
  if (!q) {
    *result = api_error(400, error);
    return std::nullopt;
  }
  PreparedQuery p{*q, ctx.store.source(&error), nullptr};
  p.store = store_status(ctx.store, p.source ? "" : error);
  return p;
}

std::string for_each_matching(const PreparedQuery& q,
                              const std::function<bool(const Trace&, const report::TraceOverview&)>& visit) {
  if (!q.source) return "";
  return q.source->for_each(q.query.selection, [&](const Trace& trace) {
    auto o = report::overview_of(trace);
    return q.query.filter.matches(o) ? visit(trace, o) : true;
  });
}

}  // namespace llmtap::ui
