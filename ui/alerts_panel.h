#pragma once
// /api/alerts: the rows alerting (alerts/) writes into the store, newest first, read as they are
// (column name -> value) so the panel does not depend on that table's exact columns. Kept apart
// from the trace queries: the table belongs to alerts/, and may not exist.
#include "ui/api_result.h"

namespace llmtap::ui {

inline constexpr const char* kAlertsTable = "alerts";

ApiResult alerts_endpoint(const ApiContext& ctx);

}  // namespace llmtap::ui
