#pragma once
// /api/traces, /api/traces/{id}, /api/sessions, /api/sessions/{id} (SPEC.md "Viewer API").
#include <string>

#include <nlohmann/json.hpp>

#include "report/trace_overview.h"
#include "ui/api_result.h"

namespace llmtap::ui {

nlohmann::json overview_json(const report::TraceOverview& t);

ApiResult list_traces(const ApiContext& ctx);
ApiResult get_trace(const ApiContext& ctx, const std::string& id);
ApiResult list_sessions(const ApiContext& ctx);
ApiResult get_session(const ApiContext& ctx, const std::string& session);

}  // namespace llmtap::ui
