#pragma once
// What an /api/ handler returns: a status and a JSON body. Errors are {"error":{"status","message"}}.
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "ui/api_params.h"
#include "ui/store_handle.h"

namespace llmtap::ui {

struct ApiResult {
  int status = 200;
  nlohmann::json body;
};

inline ApiResult api_error(int status, const std::string& message) {
  return {status, {{"error", {{"status", status}, {"message", message}}}}};
}

// What a handler is given: the parsed request, the store and the time "now" for relative windows.
struct ApiContext {
  const ApiParams& params;
  StoreHandle& store;
  UnixNanos now;
};

// {"present": bool, "path": ..., "message": why absent}: lists and dashboards on a store that does
// not exist yet answer empty with this, not with an error.
nlohmann::json store_status(const StoreHandle& store, const std::string& error);

}  // namespace llmtap::ui
