// libFuzzer target: each line of the input (an SSE `data:` prefix dropped) is read by one FlatJson
// in turn, so later lines are matched against the layouts earlier ones taught it. Whatever it
// accepts, simdjson accepts too, and its values are exactly nlohmann's.
#include <cstdio>
#include <string>

#include <simdjson.h>

#include "parsers/flat_json.h"

namespace {

void check(llmtap::json_view::FlatJson& doc, std::string_view line) {
  std::string padded(line);
  padded.append(llmtap::json_view::FlatJson::kPadding, '\x7f');
  if (!doc.parse(std::string_view(padded.data(), line.size()))) return;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const nlohmann::json reference = nlohmann::json::parse(line, nullptr, false);
  if (parser.parse(line.data(), line.size()).get(root) != simdjson::SUCCESS || reference.is_discarded() ||
      llmtap::json_view::FlatView(doc).to_json() != reference) {
    std::fprintf(stderr, "FlatJson accepted, the reference differs:\n%.*s\n", static_cast<int>(line.size()), line.data());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::json_view::FlatJson doc;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    const std::size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    if (line.substr(0, 5) == "data:") line.remove_prefix(line.size() > 5 && line[5] == ' ' ? 6 : 5);
    check(doc, line);
  }
  return 0;
}
