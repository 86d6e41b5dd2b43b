#pragma once
// Starting the local web viewer (ui/ui_server.h), shared by `llmtap ui` and `llmtap proxy --ui`:
// both print the same `ui URL` line.
#include <memory>
#include <string>

#include "ui/ui_server.h"

namespace llmtap::cli {

// Starts the viewer on LISTEN over the store at STORE_PATH and prints `ui URL` on stdout (the URL
// carries this run's access token unless NO_TOKEN). nullptr and *error on failure.
std::unique_ptr<ui::UiServer> launch_viewer(const std::string& listen, const std::string& store_path, bool no_token,
                                            std::string* error);

}  // namespace llmtap::cli
