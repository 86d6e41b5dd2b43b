// libFuzzer target: for every JSON text simdjson accepts, dump_like_nlohmann prints exactly what
// nlohmann's dump() prints for the same value (SimdView::to_json()).
#include <cstdio>
#include <string>

#include "parsers/simd_json_view.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  simdjson::dom::parser parser(64 * 1024);
  simdjson::dom::element root;
  if (parser.parse(reinterpret_cast<const char*>(data), size).get(root) != simdjson::SUCCESS) return 0;
  std::string direct;
  llmtap::json_view::dump_like_nlohmann(root, direct);
  const std::string reference =
      llmtap::json_view::SimdView(root).to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (direct != reference) {
    std::fprintf(stderr, "dump differs:\n%s\n%s\n", direct.c_str(), reference.c_str());
    __builtin_trap();
  }
  return 0;
}
