// A request target comes from any local process: parsing it (path, query, filters) must never
// crash, and a target that parses must give the same segments when parsed again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ui/api_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string target(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto params = llmtap::ui::ApiParams::parse(target, &error);
  if (!params) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  auto again = llmtap::ui::ApiParams::parse(target, &error);
  if (!again || again->segments() != params->segments()) std::abort();
  (void)params->check_known(llmtap::ui::filter_keys_and({"limit", "cursor"}));
  (void)llmtap::ui::parse_trace_query(*params, 1'800'000'000'000'000'000, &error);
  (void)params->integer("limit", 50, 1, 1000, &error);
  return 0;
}
