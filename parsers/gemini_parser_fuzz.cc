// libFuzzer target: one exchange for /v1beta/models/gemini-2.5-pro:streamGenerateContent through ExchangeParser (see fuzz_exchange.h).
#include "parsers/fuzz_exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::fuzz::run_exchange("generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-pro:streamGenerateContent", data, size);
  return 0;
}
