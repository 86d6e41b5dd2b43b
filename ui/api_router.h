#pragma once
// Which handler answers an /api/ path (SPEC.md "Viewer API" lists them all).
#include "ui/api_result.h"

namespace llmtap::ui {

ApiResult route_api(const ApiContext& ctx);

}  // namespace llmtap::ui
