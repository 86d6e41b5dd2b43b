// libFuzzer target: one exchange for /v1/responses through ExchangeParser (see fuzz_exchange.h).
#include "parsers/fuzz_exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::fuzz::run_exchange("api.openai.com", "/v1/responses", data, size);
  return 0;
}
