// libFuzzer target: one exchange for /api/chat through ExchangeParser (see fuzz_exchange.h).
#include "parsers/fuzz_exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::fuzz::run_exchange("localhost", "/api/chat", data, size);
  return 0;
}
