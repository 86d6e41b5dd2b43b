#include "ui/static_assets.h"

namespace llmtap::ui {

const StaticAsset* find_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const StaticAsset* a = static_assets_begin(); a != static_assets_end(); ++a)
    if (a->path == path) return a;
  return nullptr;
}

}  // namespace llmtap::ui
