#include "parsers/websocket_frame_decoder.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "parsers/header_filter.h"

namespace llmtap {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep`, trimming each piece.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    std::size_t end = s.find(sep, start);
    out.push_back(trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// "15", "\"15\"" or "" (absent value: the default); false when out of 8..15 or not a number.
bool window_bits(std::string_view v, int& bits) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty()) return true;
  if (v.size() > 2 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  int b = 0;
  for (char c : v) b = b * 10 + (c - '0');
  if (b < 8 || b > 15) return false;
  bits = b;
  return true;
}

bool is_control(WebSocketOpcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

constexpr unsigned char kDeflateTail[4] = {0x00, 0x00, 0xff, 0xff};

}  // namespace

WebSocketExtensions negotiate_websocket_extensions(const Headers& response_headers) {
  WebSocketExtensions ext;
  for (const auto& h : response_headers) {
    if (!iequals_ascii(h.name, "sec-websocket-extensions")) continue;
    for (std::string_view offer : split(h.value, ',')) {
      std::vector<std::string_view> params = split(offer, ';');
      if (!iequals_ascii(params[0], "permessage-deflate")) continue;
      WebSocketExtensions e;
      e.client_to_server.enabled = e.server_to_client.enabled = true;
      bool ok = true;
      for (std::size_t i = 1; i < params.size() && ok; ++i) {
        std::string_view p = params[i];
        auto eq = p.find('=');
        const std::string_view name = trim(p.substr(0, eq));
        std::string_view value = eq == std::string_view::npos ? std::string_view() : trim(p.substr(eq + 1));
        if (iequals_ascii(name, "server_no_context_takeover")) {
          e.server_to_client.no_context_takeover = true;
        } else if (iequals_ascii(name, "client_no_context_takeover")) {
          e.client_to_server.no_context_takeover = true;
        } else if (iequals_ascii(name, "server_max_window_bits")) {
          ok = window_bits(value, e.server_to_client.max_window_bits);
        } else if (iequals_ascii(name, "client_max_window_bits")) {
          ok = window_bits(value, e.client_to_server.max_window_bits);
        } else {
          ok = false;  // RFC 7692 7: an unknown parameter declines the offer
        }
      }
      if (ok) return e;  // the server accepts at most one configuration
    }
  }
  return ext;
}

// Raw inflate of one direction's compressed messages. Inflating with the largest window reads a
// stream compressed with any smaller one, so the negotiated window size needs no special case.
struct WebSocketFrameDecoder::Inflater {
  z_stream zs{};
  bool ready = false;
  bool stream_ended = false;  // a final deflate block was seen: the rest of this message is padding
  unsigned char out[16 * 1024];

  Inflater() { ready = inflateInit2(&zs, -15) == Z_OK; }
  ~Inflater() {
    if (ready) inflateEnd(&zs);
  }
  // Inflates `in`, passing output to `sink`; false on corrupt data.
  template <typename Sink>
  bool inflate(std::string_view in, Sink&& sink) {
    if (!ready) return false;
    if (stream_ended) return true;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      zs.next_out = out;
      zs.avail_out = sizeof(out);
      int rc = ::inflate(&zs, Z_SYNC_FLUSH);
      std::size_t produced = sizeof(out) - zs.avail_out;
      if (produced > 0) sink(std::string_view(reinterpret_cast<const char*>(out), produced));
      if (rc == Z_STREAM_END) {
        stream_ended = true;
        return true;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      if (zs.avail_out != 0) return true;  // all input consumed (or more is needed)
    }
  }
  // Next message. With context takeover after a final block the window must survive the reset.
  void reset(bool keep_window) {
    if (!ready) return;
    std::vector<Bytef> window;
    if (keep_window) {
      window.resize(32768);
      uInt n = 0;
      if (inflateGetDictionary(&zs, window.data(), &n) != Z_OK) n = 0;
      window.resize(n);
    }
    inflateReset(&zs);
    if (!window.empty()) inflateSetDictionary(&zs, window.data(), static_cast<uInt>(window.size()));
    stream_ended = false;
  }
};

WebSocketFrameDecoder::WebSocketFrameDecoder(bool from_client, WebSocketDeflate deflate,
                                             std::size_t max_message_bytes)
    : from_client_(from_client), deflate_(deflate), max_message_bytes_(max_message_bytes) {
  header_.reserve(14);
}

WebSocketFrameDecoder::~WebSocketFrameDecoder() = default;

void WebSocketFrameDecoder::fail(std::string why) {
  error_ = std::move(why);
  message_ = WebSocketMessage{};
  std::string().swap(control_payload_);
  std::string().swap(scratch_);
  inflater_.reset();
}

void WebSocketFrameDecoder::feed(std::string_view bytes, UnixNanos ts, std::vector<WebSocketMessage>& out) noexcept {
  if (failed() || closed_) return;
  try {
    feed_impl(bytes, ts, out);
  } catch (...) {
    fail("out of memory");
  }
}

void WebSocketFrameDecoder::feed_impl(std::string_view bytes, UnixNanos ts, std::vector<WebSocketMessage>& out) {
  while (!bytes.empty() && !failed() && !closed_) {
    if (!in_payload_) {
      if (header_.empty()) frame_first_ts_ = ts;
      // 2 bytes tell the header's full size (up to 14).
      std::size_t need = 2;
      if (header_.size() >= 2) {
        const auto b1 = static_cast<std::uint8_t>(header_[1]);
        const std::uint8_t len7 = b1 & 0x7f;
        need += (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
      }
      std::size_t take = std::min(bytes.size(), need - header_.size());
      header_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (header_.size() < need) continue;
      if (need == 2 && header_.size() == 2) {
        const auto b1 = static_cast<std::uint8_t>(header_[1]);
        if ((b1 & 0x7f) >= 126 || (b1 & 0x80)) continue;  // extended length or mask key follows
      }
      if (!parse_header()) return;
      if (remaining_ == 0) end_frame(ts, out);
      continue;
    }
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
    payload(bytes.substr(0, take));
    bytes.remove_prefix(take);
    remaining_ -= take;
    if (remaining_ == 0 && !failed()) end_frame(ts, out);
  }
}

bool WebSocketFrameDecoder::parse_header() {
  const auto b0 = static_cast<std::uint8_t>(header_[0]);
  const auto b1 = static_cast<std::uint8_t>(header_[1]);
  fin_ = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  const std::uint8_t op = b0 & 0x0f;
  masked_ = (b1 & 0x80) != 0;
  std::uint64_t len = b1 & 0x7f;
  std::size_t pos = 2;
  if (len == 126) {
    len = (std::uint64_t{static_cast<std::uint8_t>(header_[2])} << 8) | static_cast<std::uint8_t>(header_[3]);
    pos = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(header_[2 + i]);
    pos = 10;
    if (len >> 63) return fail("64-bit length with the most significant bit set"), false;
  }
  if (masked_) std::memcpy(mask_, header_.data() + pos, 4);
  header_.clear();

  if (b0 & 0x30) return fail("RSV2/RSV3 set without an extension defining them"), false;
  if ((op >= 0x3 && op <= 0x7) || op >= 0xB) return fail("reserved opcode " + std::to_string(op)), false;
  if (masked_ != from_client_)
    return fail(from_client_ ? "unmasked client frame" : "masked server frame"), false;
  opcode_ = static_cast<WebSocketOpcode>(op);
  if (is_control(opcode_)) {
    if (!fin_) return fail("fragmented control frame"), false;
    if (len > 125) return fail("control frame longer than 125 bytes"), false;
    if (rsv1) return fail("RSV1 on a control frame"), false;
    control_payload_.clear();
  } else if (opcode_ == WebSocketOpcode::kContinuation) {
    if (!in_message_) return fail("continuation frame without a message to continue"), false;
    if (rsv1) return fail("RSV1 on a continuation frame"), false;
  } else {
    if (in_message_) return fail("new data frame inside a fragmented message"), false;
    if (rsv1 && !deflate_.enabled) return fail("RSV1 set without permessage-deflate"), false;
    in_message_ = true;
    message_compressed_ = rsv1;
    message_oversized_ = false;
    message_.opcode = opcode_;
    message_.payload.clear();
    message_.first_ts = frame_first_ts_;
    if (message_compressed_ && !inflater_) {
      inflater_ = std::make_unique<Inflater>();
      if (!inflater_->ready) return fail("zlib inflateInit failed"), false;
    }
  }
  remaining_ = len;
  mask_offset_ = 0;
  in_payload_ = true;
  return true;
}

void WebSocketFrameDecoder::payload(std::string_view bytes) {
  if (bytes.empty()) return;
  std::string_view plain = bytes;
  if (masked_) {
    scratch_.assign(bytes);
    for (std::size_t i = 0; i < scratch_.size(); ++i) scratch_[i] ^= static_cast<char>(mask_[(mask_offset_ + i) & 3]);
    mask_offset_ += bytes.size();
    plain = scratch_;
  }
  if (is_control(opcode_)) {
    control_payload_.append(plain);
  } else {
    append_data(plain);
  }
}

void WebSocketFrameDecoder::append_data(std::string_view bytes) {
  auto keep = [this](std::string_view piece) {
    if (message_oversized_) return;
    if (message_.payload.size() + piece.size() > max_message_bytes_) {
      message_oversized_ = true;
      std::string().swap(message_.payload);
      return;
    }
    message_.payload.append(piece);
  };
  if (!message_compressed_) {
    keep(bytes);
    return;
  }
  // A skipped compressed message is still inflated (output dropped): later messages may refer back
  // to it, and a corrupt stream must fail the same way however the bytes were chunked.
  if (!inflater_->inflate(bytes, keep)) fail("permessage-deflate: corrupt compressed data");
}

void WebSocketFrameDecoder::end_frame(UnixNanos ts, std::vector<WebSocketMessage>& out) {
  in_payload_ = false;
  if (is_control(opcode_)) {
    ++stats_.control_frames;
    out.push_back(WebSocketMessage{opcode_, control_payload_, frame_first_ts_, ts});
    control_payload_.clear();
    if (opcode_ == WebSocketOpcode::kClose) closed_ = true;
    return;
  }
  if (!fin_) return;
  if (message_compressed_) {
    // RFC 7692 7.2.2: the sender removed the empty stored block's tail; put it back.
    append_data(std::string_view(reinterpret_cast<const char*>(kDeflateTail), sizeof(kDeflateTail)));
    if (failed()) return;
    if (deflate_.no_context_takeover) {
      inflater_->reset(false);
    } else if (inflater_->stream_ended) {
      inflater_->reset(true);
    }
  }
  in_message_ = false;
  message_.last_ts = ts;
  if (message_oversized_) {
    ++stats_.oversized_skipped;
  } else {
    ++stats_.messages;
    out.push_back(std::move(message_));
  }
  message_ = WebSocketMessage{};
}

}  // namespace llmtap
