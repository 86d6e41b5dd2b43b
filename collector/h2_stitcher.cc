#include "collector/h2_stitcher.h"

#include <nghttp2/nghttp2.h>

#include <cstdlib>
#include <map>
#include <string>
#include <utility>

namespace llmtap {
namespace {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kFrameHeaderLen = 9;
constexpr std::size_t kMaxOpenStreams = 4096;  // garbage input must not grow state without bound
// Upper bound for the dynamic table size an encoder may switch to; the real limit is negotiated in
// SETTINGS, which only ever constrain the encoder, so a generous bound here decodes any valid peer.
constexpr std::size_t kMaxHeaderTable = 1u << 20;

enum FrameType : std::uint8_t {
  kData = 0x0, kHeaders = 0x1, kRstStream = 0x3, kPushPromise = 0x5, kContinuation = 0x9,
};
enum FrameFlag : std::uint8_t {
  kEndStream = 0x1, kEndHeaders = 0x4, kPadded = 0x8, kPriority = 0x20,
};

bool strip_padding(std::uint8_t flags, std::string_view& payload) {
  if ((flags & kPadded) == 0) return true;
  if (payload.empty()) return false;
  const std::size_t pad = static_cast<std::uint8_t>(payload[0]);
  if (pad + 1 > payload.size()) return false;
  payload = payload.substr(1, payload.size() - 1 - pad);
  return true;
}

}  // namespace

struct H2Stitcher::Impl {
  struct Side {
    std::string buf;
    nghttp2_hd_inflater* inflater = nullptr;
    bool preface_pending = false;
    // A header block being collected across HEADERS/PUSH_PROMISE + CONTINUATION frames.
    bool in_block = false;
    std::uint8_t block_type = 0;
    std::int32_t block_stream = 0;
    bool block_end_stream = false;
    std::string block;
  };
  struct Stream {
    std::unique_ptr<ExchangeParser> parser;
    bool response_started = false;
  };

  Impl(const ConnectionInfo& i, std::uint64_t id, const ParserOptions& o, ModelCallSink& s)
      : info(i), conn_id(id), opts(o), sink(s) {
    sides[0].preface_pending = true;
    for (Side& side : sides) {
      if (nghttp2_hd_inflate_new(&side.inflater) != 0) {
        side.inflater = nullptr;
        dead = true;
      } else {
        nghttp2_hd_inflate_change_table_size(side.inflater, kMaxHeaderTable);
      }
    }
  }
  ~Impl() {
    for (Side& side : sides) {
      if (side.inflater != nullptr) nghttp2_hd_inflate_del(side.inflater);
    }
  }

  void feed(Direction dir, std::string_view bytes, UnixNanos ts) {
    if (dead) return;
    Side& side = sides[static_cast<int>(dir)];
    side.buf.append(bytes);
    std::size_t pos = 0;
    if (side.preface_pending) {
      if (side.buf.size() < kClientPreface.size()) {
        if (kClientPreface.compare(0, side.buf.size(), side.buf) != 0) fail(ts, false);
        return;
      }
      if (side.buf.compare(0, kClientPreface.size(), kClientPreface) != 0) return fail(ts, false);
      side.preface_pending = false;
      pos = kClientPreface.size();
    }
    while (!dead && side.buf.size() - pos >= kFrameHeaderLen) {
      const auto* h = reinterpret_cast<const unsigned char*>(side.buf.data() + pos);
      const std::size_t len = (std::size_t{h[0]} << 16) | (std::size_t{h[1]} << 8) | h[2];
      if (side.buf.size() - pos < kFrameHeaderLen + len) break;
      const std::uint8_t type = h[3];
      const std::uint8_t flags = h[4];
      const std::int32_t stream = static_cast<std::int32_t>(
          ((std::uint32_t{h[5]} << 24) | (std::uint32_t{h[6]} << 16) | (std::uint32_t{h[7]} << 8) | h[8]) &
          0x7fffffffu);
      frame(dir, type, flags, stream, std::string_view(side.buf).substr(pos + kFrameHeaderLen, len), ts);
      pos += kFrameHeaderLen + len;
    }
    if (dead) {
      side.buf.clear();
    } else {
      side.buf.erase(0, pos);
    }
  }

  void frame(Direction dir, std::uint8_t type, std::uint8_t flags, std::int32_t stream,
             std::string_view payload, UnixNanos ts) {
    Side& side = sides[static_cast<int>(dir)];
    if (side.in_block && (type != kContinuation || stream != side.block_stream)) return fail(ts, false);
    switch (type) {
      case kData: {
        if (!strip_padding(flags, payload)) return fail(ts, false);
        auto it = streams.find(stream);
        if (it == streams.end()) return;
        if (dir == Direction::kClientToServer) {
          if (!payload.empty()) it->second.parser->request_body(payload, ts);
          if (flags & kEndStream) it->second.parser->request_end(ts);
        } else {
          if (!payload.empty()) it->second.parser->response_body(payload, ts);
          if (flags & kEndStream) finish(it, ts, true, false);
        }
        return;
      }
      case kHeaders:
      case kPushPromise: {
        if (!strip_padding(flags, payload)) return fail(ts, false);
        const std::size_t skip = type == kPushPromise ? 4 : ((flags & kPriority) ? 5 : 0);
        if (payload.size() < skip) return fail(ts, false);
        side.in_block = true;
        side.block_type = type;
        side.block_stream = stream;
        side.block_end_stream = type == kHeaders && (flags & kEndStream);
        side.block.assign(payload.substr(skip));
        if (flags & kEndHeaders) end_block(dir, ts);
        return;
      }
      case kContinuation:
        if (!side.in_block) return fail(ts, false);
        side.block.append(payload);
        if (flags & kEndHeaders) end_block(dir, ts);
        return;
      case kRstStream: {
        auto it = streams.find(stream);
        if (it != streams.end()) finish(it, ts, false, false);
        return;
      }
      default:
        return;  // SETTINGS, PING, GOAWAY, WINDOW_UPDATE, PRIORITY: nothing for the exchange
    }
  }

  // Decodes the collected block (always, to keep the HPACK table in step) and applies it.
  void end_block(Direction dir, UnixNanos ts) {
    Side& side = sides[static_cast<int>(dir)];
    side.in_block = false;
    Headers headers;
    std::string method, path, authority;
    int status = 0;
    auto* in = reinterpret_cast<const std::uint8_t*>(side.block.data());
    std::size_t left = side.block.size();
    for (;;) {
      nghttp2_nv nv;
      int inflate_flags = 0;
      const ssize_t used = nghttp2_hd_inflate_hd2(side.inflater, &nv, &inflate_flags, in, left, 1);
      if (used < 0) return fail(ts, false);
      in += used;
      left -= static_cast<std::size_t>(used);
      if (inflate_flags & NGHTTP2_HD_INFLATE_EMIT) {
        std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
        std::string_view value(reinterpret_cast<const char*>(nv.value), nv.valuelen);
        if (name == ":method") {
          method = value;
        } else if (name == ":path") {
          path = value;
        } else if (name == ":authority") {
          authority = value;
        } else if (name == ":status") {
          status = std::atoi(std::string(value).c_str());
        } else if (!name.empty() && name[0] != ':') {
          headers.push_back(Header{std::string(name), std::string(value)});
        }
      }
      if (inflate_flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(side.inflater);
        break;
      }
      if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) return fail(ts, false);
    }
    if (side.block_type == kPushPromise) return;  // server push: not an exchange the client made
    const std::int32_t id = side.block_stream;
    const bool end_stream = side.block_end_stream;
    side.block.clear();

    if (dir == Direction::kClientToServer) {
      auto it = streams.find(id);
      if (it == streams.end()) {
        if (streams.size() >= kMaxOpenStreams) return;
        bool has_host = false;
        for (const Header& hd : headers) has_host = has_host || hd.name == "host";
        if (!has_host && !authority.empty()) headers.insert(headers.begin(), Header{"host", authority});
        Stream s;
        s.parser = std::make_unique<ExchangeParser>(info, conn_id, opts);
        it = streams.emplace(id, std::move(s)).first;
        it->second.parser->request_head(RequestHead{std::move(method), std::move(path), std::move(headers)}, ts);
      }
      if (end_stream) it->second.parser->request_end(ts);  // with the head, or trailers
      return;
    }
    auto it = streams.find(id);
    if (it == streams.end()) return;
    Stream& s = it->second;
    if (!s.response_started) {
      if (status >= 100 && status < 200 && !end_stream) return;  // informational (100 Continue)
      s.response_started = true;
      s.parser->response_head(ResponseHead{status, std::move(headers)}, ts);
    }
    if (end_stream) finish(it, ts, true, false);
  }

  void finish(std::map<std::int32_t, Stream>::iterator it, UnixNanos ts, bool complete, bool gap) {
    ModelCall call = it->second.parser->finish(ts, complete);
    const bool records = it->second.parser->records();
    streams.erase(it);
    if (!records) return;
    if (gap) call.capture_gap = true;
    try {
      sink.on_model_call(std::move(call));
    } catch (...) {
      // A failing sink must not take the decoder down with it.
    }
  }

  // Frame sync or HPACK state is lost: end every exchange in flight and ignore the rest.
  void fail(UnixNanos ts, bool gap) {
    end_all(ts, gap);
    dead = true;
    for (Side& side : sides) {
      side.buf.clear();
      side.block.clear();
    }
  }

  void end_all(UnixNanos ts, bool gap) {
    while (!streams.empty()) finish(streams.begin(), ts, false, gap);
  }

  ConnectionInfo info;
  std::uint64_t conn_id;
  ParserOptions opts;
  ModelCallSink& sink;
  Side sides[2];
  std::map<std::int32_t, Stream> streams;
  bool dead = false;
};

H2Stitcher::H2Stitcher(const ConnectionInfo& info, std::uint64_t conn_id, const ParserOptions& opts,
                       ModelCallSink& sink)
    : impl_(std::make_unique<Impl>(info, conn_id, opts, sink)) {}

H2Stitcher::~H2Stitcher() = default;

void H2Stitcher::data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept {
  try {
    impl_->feed(dir, bytes, ts);
  } catch (...) {
    impl_->dead = true;  // out of memory: stop decoding this connection
  }
}

void H2Stitcher::gap(Direction, UnixNanos ts) noexcept {
  try {
    impl_->fail(ts, true);
  } catch (...) {
    impl_->dead = true;
  }
}

void H2Stitcher::close(UnixNanos ts) noexcept {
  try {
    impl_->end_all(ts, false);
  } catch (...) {
  }
}

}  // namespace llmtap
