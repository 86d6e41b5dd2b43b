// Writes the viewer's fixture store (ui_test_traces.h) to DIR/traces.db, for the browser test.
// Usage: llmtap_ui_fixture DIR
#include <cstdio>

#include "ui/ui_test_traces.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: llmtap_ui_fixture DIR\n");
    return 2;
  }
  std::string error = llmtap::ui::testing::write_fixture_store(std::string(argv[1]) + "/traces.db");
  if (!error.empty()) {
    std::fprintf(stderr, "llmtap_ui_fixture: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
