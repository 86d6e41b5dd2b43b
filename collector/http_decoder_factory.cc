#include "collector/http_decoder_factory.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "collector/h2_stitcher.h"
#include "parsers/connection_stitcher.h"

namespace llmtap {
namespace {

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// ConnectionStitcher and H2Stitcher share their shape; this adapts either one.
template <typename Stitcher>
class StitcherDecoder final : public ConnectionDecoder {
 public:
  StitcherDecoder(const ConnectionInfo& info, std::uint64_t conn_id, const ParserOptions& opts,
                  ModelCallSink& sink)
      : stitcher_(info, conn_id, opts, sink) {}
  void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept override {
    stitcher_.data(dir, bytes, ts);
  }
  void gap(Direction dir, UnixNanos ts) noexcept override { stitcher_.gap(dir, ts); }
  void close(UnixNanos ts) noexcept override { stitcher_.close(ts); }

 private:
  Stitcher stitcher_;
};

class SniffingDecoder final : public ConnectionDecoder {
 public:
  SniffingDecoder(std::uint64_t conn_id, const ConnectionInfo& info, const ParserOptions& opts,
                  ModelCallSink& sink)
      : conn_id_(conn_id), info_(info), opts_(opts), sink_(sink) {}

  void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept override {
    if (inner_) return inner_->data(dir, bytes, ts);
    try {
      held_.push_back(Held{dir, std::string(bytes), ts, false});
      if (dir == Direction::kClientToServer) {
        client_prefix_.append(bytes.substr(0, kH2Preface.size() - client_prefix_.size()));
      }
    } catch (...) {
      return choose(false);
    }
    const std::size_t n = std::min(client_prefix_.size(), kH2Preface.size());
    if (client_prefix_.compare(0, n, kH2Preface.substr(0, n)) != 0) return choose(false);
    if (n == kH2Preface.size()) return choose(true);
  }

  void gap(Direction dir, UnixNanos ts) noexcept override {
    if (!inner_) {
      try {
        held_.push_back(Held{dir, {}, ts, true});
      } catch (...) {
      }
      choose(false);  // stream start lost: only the HTTP/1.1 stitcher can resync
      return;
    }
    inner_->gap(dir, ts);
  }

  void close(UnixNanos ts) noexcept override {
    if (!inner_) choose(false);
    if (inner_) inner_->close(ts);
  }

 private:
  struct Held {
    Direction dir;
    std::string bytes;
    UnixNanos ts;
    bool is_gap;
  };

  void choose(bool h2) noexcept {
    try {
      if (h2) {
        inner_ = std::make_unique<StitcherDecoder<H2Stitcher>>(info_, conn_id_, opts_, sink_);
      } else {
        inner_ = std::make_unique<StitcherDecoder<ConnectionStitcher>>(info_, conn_id_, opts_, sink_);
      }
    } catch (...) {
      held_.clear();
      return;
    }
    for (Held& h : held_) {
      if (h.is_gap) {
        inner_->gap(h.dir, h.ts);
      } else {
        inner_->data(h.dir, h.bytes, h.ts);
      }
    }
    held_.clear();
    held_.shrink_to_fit();
  }

  std::uint64_t conn_id_;
  ConnectionInfo info_;
  ParserOptions opts_;
  ModelCallSink& sink_;
  std::string client_prefix_;
  std::vector<Held> held_;
  std::unique_ptr<ConnectionDecoder> inner_;
};

class HttpDecoderFactory final : public ConnectionDecoderFactory {
 public:
  HttpDecoderFactory(ModelCallSink& sink, const ParserOptions& opts) : sink_(sink), opts_(opts) {}
  std::unique_ptr<ConnectionDecoder> create(std::uint64_t conn_id, const ConnectionInfo& info) override {
    return std::make_unique<SniffingDecoder>(conn_id, info, opts_, sink_);
  }

 private:
  ModelCallSink& sink_;
  ParserOptions opts_;
};

}  // namespace

std::unique_ptr<ConnectionDecoderFactory> make_http_decoder_factory(ModelCallSink& sink,
                                                                    const ParserOptions& opts) {
  return std::make_unique<HttpDecoderFactory>(sink, opts);
}

}  // namespace llmtap
