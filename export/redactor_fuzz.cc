// Redaction runs on arbitrary captured bytes: it must never crash, and its output must never
// contain an API-key-shaped token.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "export/redactor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  llmtap::exporting::Redactor r;
  std::string out = r.redact(in);
  // Idempotent: redacting twice changes nothing more.
  if (r.redact(out) != out) std::abort();
  std::string free_text = r.redact_free_text(in);
  if (r.redact_free_text(free_text) != free_text) std::abort();
  return 0;
}
