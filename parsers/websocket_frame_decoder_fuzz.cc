// libFuzzer target: arbitrary bytes into the WebSocket frame decoder (either direction, with or
// without permessage-deflate, a small message bound). Decoding must not crash, must stay within
// its bounds (data messages: the message bound; control frames: 125 bytes), and must give the same messages and outcome however the input is chunked.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "parsers/websocket_frame_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool from_client = data[0] & 1;
  llmtap::WebSocketDeflate deflate;
  deflate.enabled = (data[0] & 2) != 0;
  deflate.no_context_takeover = (data[0] & 4) != 0;
  const std::size_t max_message = (data[0] & 8) ? 64 : 1u << 20;
  const std::size_t piece = 1 + data[1] % 32;
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

  llmtap::WebSocketFrameDecoder whole(from_client, deflate, max_message), split(from_client, deflate, max_message);
  std::vector<llmtap::WebSocketMessage> a, b;
  whole.feed(in, 1, a);
  for (std::size_t i = 0; i < in.size(); i += piece) split.feed(in.substr(i, piece), 1, b);
  if (a.size() != b.size() || whole.failed() != split.failed() || whole.closed() != split.closed()) __builtin_trap();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].opcode != b[i].opcode || a[i].payload != b[i].payload) __builtin_trap();
    const bool control = (static_cast<unsigned>(a[i].opcode) & 0x8) != 0;
    if (a[i].payload.size() > (control ? 125 : max_message)) __builtin_trap();
  }
  return 0;
}
