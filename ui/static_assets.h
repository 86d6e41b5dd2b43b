#pragma once
// The page's files (ui/assets/*), compiled into the binary at build time by embed_assets.cmake:
// the viewer fetches nothing from anywhere else.
#include <cstddef>
#include <string_view>

namespace llmtap::ui {

struct StaticAsset {
  std::string_view path;          // "/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// Defined in the generated ui_assets.cc.
const StaticAsset* static_assets_begin();
const StaticAsset* static_assets_end();

// The asset at PATH ("/" is /index.html), or nullptr.
const StaticAsset* find_asset(std::string_view path);

}  // namespace llmtap::ui
