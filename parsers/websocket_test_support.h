#pragma once
// Test helpers: RFC 6455 frames built byte by byte (masked client frames, unmasked server frames)
// and an RFC 7692 permessage-deflate compressor (zlib), with and without context takeover.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::testing {

struct WsFrameSpec {
  std::uint8_t opcode = 0x1;
  bool fin = true;
  bool rsv1 = false;
  bool masked = false;
  std::uint32_t mask_key = 0x37fa213d;
  int length_form = 0;  // 0: shortest; 7, 16 or 64: force that length encoding
};

inline std::string ws_frame(std::string_view payload, const WsFrameSpec& f = {}) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | (f.opcode & 0x0f)));
  const std::uint8_t mask_bit = f.masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  int form = f.length_form != 0 ? f.length_form : n < 126 ? 7 : n <= 0xffff ? 16 : 64;
  if (form == 7) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (form == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  if (!f.masked) return out + std::string(payload);
  const unsigned char key[4] = {static_cast<unsigned char>(f.mask_key >> 24), static_cast<unsigned char>(f.mask_key >> 16),
                                static_cast<unsigned char>(f.mask_key >> 8), static_cast<unsigned char>(f.mask_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ key[i & 3]));
  return out;
}

// One sender's permessage-deflate compressor.
class WsDeflater {
 public:
  explicit WsDeflater(bool context_takeover, int window_bits = 15) : takeover_(context_takeover) {
    deflateInit2(&zs_, 6, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY);
  }
  ~WsDeflater() { deflateEnd(&zs_); }
  WsDeflater(const WsDeflater&) = delete;
  WsDeflater& operator=(const WsDeflater&) = delete;

  // A message's compressed payload, without the trailing 0x00 0x00 0xff 0xff (RFC 7692 7.2.1).
  std::string compress(std::string_view message) {
    if (!takeover_) deflateReset(&zs_);
    std::string out(deflateBound(&zs_, message.size()) + 64, '\0');
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    zs_.avail_in = static_cast<uInt>(message.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    deflate(&zs_, Z_SYNC_FLUSH);
    out.resize(out.size() - zs_.avail_out);
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string("\x00\x00\xff\xff", 4)) == 0) out.resize(out.size() - 4);
    return out;
  }

 private:
  z_stream zs_{};
  bool takeover_;
};

// A whole message as frames: `pieces` frames (the payload split evenly), the first carrying the
// opcode (and RSV1 when compressed), the rest continuations.
inline std::string ws_message(std::string_view payload, std::uint8_t opcode, bool masked, std::size_t pieces = 1,
                              bool compressed = false) {
  std::string out;
  if (pieces == 0) pieces = 1;
  const std::size_t step = payload.size() / pieces + 1;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < pieces; ++i) {
    std::string_view part = i + 1 == pieces ? payload.substr(std::min(pos, payload.size()))
                                            : payload.substr(std::min(pos, payload.size()), step);
    pos += part.size();
    WsFrameSpec f;
    f.opcode = i == 0 ? opcode : 0x0;
    f.fin = i + 1 == pieces;
    f.rsv1 = compressed && i == 0;
    f.masked = masked;
    f.mask_key = 0x11223344u + static_cast<std::uint32_t>(i) * 0x01010101u;
    out += ws_frame(part, f);
  }
  return out;
}

}  // namespace llmtap::testing
