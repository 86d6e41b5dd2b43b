// Redaction cost on the export path: MB/s of Redactor::redact_free_text (every built-in class, as the
// RedactingSink runs it on content attributes) and Redactor::redact (ids, names, header values) on
// realistic captured content, with and without secrets. Printed, never asserted.
// Usage: redactor_bench [MEGABYTES per case, default 16]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "export/redactor.h"

namespace {

using llmtap::exporting::Redactor;

// One chat turn as gen_ai.input.messages carries it: JSON, escaped quotes, code, prose, ids.
std::string realistic_chunk(bool with_secrets, int i) {
  std::string s =
      "{\"role\":\"user\",\"content\":\"Order #" + std::to_string(100000 + i) +
      " arrived damaged on 2026-11-0" + std::to_string(i % 9 + 1) +
      ". Can you check the refund policy and tell me how long it takes? The box said "
      "\\\"handle with care\\\" but the courier left it in the rain.\"},"
      "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_7fQ2mX9aLp3Rt8Kz\",\"type\":\"function\","
      "\"function\":{\"name\":\"lookup_order\",\"arguments\":\"{\\\"order_id\\\":\\\"" +
      std::to_string(100000 + i) + "\\\",\\\"include\\\":[\\\"shipping\\\",\\\"payments\\\"]}\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"call_7fQ2mX9aLp3Rt8Kz\",\"content\":\"status: delivered; carrier: "
      "UPS; weight 2.4 kg; items: 3 (mug, kettle, 12 filters); total 48.90 USD; paid 2026-10-28\"},"
      "{\"role\":\"assistant\",\"content\":\"```python\\ndef refund(order, amount):\\n    return "
      "api.refunds.create(order=order, amount=amount)\\n```\\nRefunds usually take 5-7 business days.\"}";
  if (with_secrets)
    s += ",{\"role\":\"user\",\"content\":\"my email is jane.doe@example.com, call +1 415-555-0132, card 4111 "
         "1111 1111 1111, key AKIAIOSFODNN7EXAMPLE, token=ghp_" + std::string(36, 'x') +
         ", password=hunter22\"}";
  return s;
}

void run(const char* name, const std::vector<std::string>& chunks, std::size_t megabytes, bool free_text) {
  Redactor r;
  std::size_t bytes = 0, sink = 0;
  const std::size_t target = megabytes << 20;
  auto start = std::chrono::steady_clock::now();
  while (bytes < target) {
    for (const auto& c : chunks) {
      std::string out = free_text ? r.redact_free_text(c) : r.redact(c);
      sink += out.size();
      bytes += c.size();
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-34s %8.1f MB/s  (%zu MB, %zu output bytes)\n", name, static_cast<double>(bytes) / 1e6 / s,
              bytes >> 20, sink);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mb = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 16;
  if (mb == 0) mb = 16;
  std::vector<std::string> clean, dirty;
  for (int i = 0; i < 64; ++i) {
    clean.push_back(realistic_chunk(false, i));
    dirty.push_back(realistic_chunk(true, i));
  }
  std::printf("redactor_bench: %zu-byte chunks (clean), %zu-byte chunks (with secrets)\n", clean[0].size(),
              dirty[0].size());
  run("free text, no secrets", clean, mb, true);
  run("free text, every chunk with secrets", dirty, mb, true);
  run("ids/names (secrets only), no secrets", clean, mb, false);
  run("ids/names, with secrets", dirty, mb, false);
  return 0;
}
