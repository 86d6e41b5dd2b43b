// libFuzzer target: one exchange for /v1/messages through ExchangeParser (see fuzz_exchange.h).
#include "parsers/fuzz_exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::fuzz::run_exchange("api.anthropic.com", "/v1/messages", data, size);
  return 0;
}
