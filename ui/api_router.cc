#include "ui/api_router.h"

#include "common/version.h"
#include "ui/alerts_panel.h"
#include "ui/dashboard_api.h"
#include "ui/trace_api.h"

namespace llmtap::ui {
namespace {

constexpr int kRefreshMs = 2000;  // how often the page polls /api/meta for a changed stamp

ApiResult meta(const ApiContext& ctx) {
  if (std::string e = ctx.params.check_known({}); !e.empty()) return api_error(400, e);
  std::string error;
  auto source = ctx.store.source(&error);
  return {200,
          {{"version", LLMTAP_VERSION},
           {"store", store_status(ctx.store, source ? "" : error)},
           {"stamp", ctx.store.stamp()},
           {"now_unix_nano", ctx.now},
           {"refresh_ms", kRefreshMs},
           {"alerts_table", kAlertsTable}}};
}

}  // namespace

ApiResult route_api(const ApiContext& ctx) {
  const auto& s = ctx.params.segments();  // s[0] == "api"
  const std::size_t n = s.size();
  if (n == 2 && s[1] == "meta") return meta(ctx);
  if (n == 2 && s[1] == "traces") return list_traces(ctx);
  if (n == 3 && s[1] == "traces") return get_trace(ctx, s[2]);
  if (n == 2 && s[1] == "sessions") return list_sessions(ctx);
  if (n == 3 && s[1] == "sessions") return get_session(ctx, s[2]);
  if (n == 2 && s[1] == "report") return report_endpoint(ctx);
  if (n == 3 && s[1] == "dashboards" && s[2] == "health") return health_dashboard(ctx);
  if (n == 3 && s[1] == "dashboards" && s[2] == "tools") return tools_dashboard(ctx);
  if (n == 3 && s[1] == "dashboards" && s[2] == "cost") return cost_dashboard(ctx);
  if (n == 2 && s[1] == "alerts") return alerts_endpoint(ctx);
  return api_error(404,
                   "no such endpoint; see SPEC.md \"Viewer API\": /api/meta, /api/traces, /api/traces/ID, "
                   "/api/sessions, /api/sessions/ID, /api/report, /api/dashboards/health|tools|cost, /api/alerts");
}

}  // namespace llmtap::ui
