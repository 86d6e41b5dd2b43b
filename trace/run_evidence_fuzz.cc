// libFuzzer target: a tool call's arguments come from the wire; reading their texts never crashes,
// stays bounded (at most 65 keys), and agrees with arguments_carry: the whole arguments always carry
// themselves, and every key found is one the arguments carry.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trace/run_evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmtap::trace;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto keys = argument_text_keys(in);
  if (keys.size() > 65) __builtin_trap();
  if (text_key(in) != 0 && !arguments_carry(in, in)) __builtin_trap();
  (void)carries_output(in, in.substr(0, size / 2));
  return 0;
}
