#include "ui/api_query.h"

#include "export/sqlite_store.h"
#include "export/store_aggregates.h"

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
  auto matching = [&](const Trace& trace) {
    auto o = report::overview_of(trace);
    return q.query.filter.matches(o) ? visit(trace, o) : true;
  };
  const auto& f = q.query.filter;
  if (!q.query.selection.trace_ids.empty() || (f.user.empty() && f.session.empty()))
    return q.source->for_each(q.query.selection, matching);
  // A user or session names few traces: their ids from the store's index (trace_stats), in the
  // order a scan gives; the filter still applies to each.
  report::TraceSelection sel = q.query.selection;
  const bool by_user = !f.user.empty();
  if (std::string e = exporting::traces_of(q.source->reader().connection(), by_user ? "user" : "session",
                                           by_user ? f.user : f.session, sel.since, sel.until, sel.newest_first,
                                           &sel.trace_ids);
      !e.empty())
    return e;
  return sel.trace_ids.empty() ? "" : q.source->for_each(sel, matching);
}

}  // namespace llmtap::ui
