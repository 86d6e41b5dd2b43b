#pragma once
// The shared front half of every list and dashboard endpoint: check the parameters, parse the
// filters, find the store; then visit the traces that pass the filters.
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>

#include "report/trace_overview.h"
#include "ui/api_result.h"

namespace llmtap::ui {

struct PreparedQuery {
  TraceQuery query;
  std::shared_ptr<const report::StoreTraceSource> source;  // null: no store yet (answers are empty)
  nlohmann::json store;                                    // store_status()
};

// The filters plus EXTRA_KEYS are allowed; nullopt with *RESULT set to the 400 otherwise.
std::optional<PreparedQuery> prepare_query(const ApiContext& ctx, std::initializer_list<std::string_view> extra_keys,
                                           ApiResult* result);

// Calls VISIT with each selected trace that passes the filter (and its overview); "" or the error.
std::string for_each_matching(const PreparedQuery& q,
                              const std::function<bool(const Trace&, const report::TraceOverview&)>& visit);

}  // namespace llmtap::ui
