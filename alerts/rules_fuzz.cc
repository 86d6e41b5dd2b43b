// The rules parser on arbitrary text: it must answer with rules or an error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "alerts/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  std::string error;
  auto rules = llmtap::alerts::parse_rules(std::string(reinterpret_cast<const char*>(data), size), "fuzz", &error);
  if (!rules && error.empty()) __builtin_trap();
  return 0;
}
