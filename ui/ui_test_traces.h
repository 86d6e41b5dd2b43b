#pragma once
// The viewer's fixture store: report/'s known traces A, B and C plus trace D, a later turn of A's
// session with captured messages and a tool result (for the chat and JSON views). Every number the
// viewer's tests expect is worked out by hand from these (ui_api_test.cc, tests/ui/).
#include <string>

#include "common/span.h"

namespace llmtap::ui::testing {

// kT0 + 2h, workflow "support", user u1, session s1: Triage asks gpt-4o (captured messages,
// $0.004), runs lookup_order({"id":9}) -> {"status":"shipped"}, answers with gpt-4o ($0.005).
Trace trace_d();

// kT0 + 3h, workflow "live", user u9: one gpt-4o-mini call ($0.001) and an `llmtap.alert` event
// (rule "big", kind trace_cost) on its root. Not in the fixture store: the browser test adds it
// while the page is open (live updates) with `llmtap_ui_fixture DIR --add-live`.
Trace trace_e();

// Writes A, B, C and D to the store at PATH; "" or the store's error.
std::string write_fixture_store(const std::string& path);

}  // namespace llmtap::ui::testing
