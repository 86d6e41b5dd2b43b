#pragma once
// /api/report and /api/dashboards/{health,tools,cost}: the report's numbers (report/report.h), fed
// with the traces that pass the viewer's filters (SPEC.md "Viewer API").
#include "ui/api_result.h"

namespace llmtap::ui {

ApiResult report_endpoint(const ApiContext& ctx);
ApiResult health_dashboard(const ApiContext& ctx);
ApiResult tools_dashboard(const ApiContext& ctx);
ApiResult cost_dashboard(const ApiContext& ctx);

}  // namespace llmtap::ui
