// Writes the viewer's fixture store (ui_test_traces.h) to DIR/traces.db, for the browser test.
// Usage: llmtap_ui_fixture DIR [--add-live]   (--add-live: only trace E, to a store that exists)
#include <cstdio>

#include <string>

#include "report/report_test_traces.h"
#include "ui/ui_test_traces.h"

int main(int argc, char** argv) {
  const bool live = argc == 3 && std::string(argv[2]) == "--add-live";
  if (argc != 2 && !live) {
    std::fprintf(stderr, "usage: llmtap_ui_fixture DIR [--add-live]\n");
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/traces.db";
  std::string error = live ? llmtap::report::testing::write_store(path, {llmtap::ui::testing::trace_e()})
                           : llmtap::ui::testing::write_fixture_store(path);
  if (!error.empty()) {
    std::fprintf(stderr, "llmtap_ui_fixture: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
