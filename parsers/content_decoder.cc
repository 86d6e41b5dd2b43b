#include "parsers/content_decoder.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>

namespace llmtap {

class ContentDecoder::Stage {
 public:
  virtual ~Stage() = default;
  // Appends decoded bytes of `in` to `out`, stopping once out.size() reaches `limit`.
  // Returns false on a decoding error (message in `err`).
  virtual bool feed(std::string_view in, std::string& out, std::size_t limit, std::string& err) = 0;
  virtual bool complete() const = 0;
};

namespace {

constexpr std::size_t kStep = 16 * 1024;

// gzip and deflate. Deflate is sniffed: RFC 9110 says zlib-wrapped, but servers send raw too.
class ZlibStage : public ContentDecoder::Stage {
 public:
  explicit ZlibStage(bool gzip) : gzip_(gzip), bits_(gzip ? 15 + 16 : 15) {}
  ~ZlibStage() override {
    if (init_) inflateEnd(&zs_);
  }
  bool feed(std::string_view in, std::string& out, std::size_t limit, std::string& err) override {
    std::string_view data = in;
    if (!gzip_ && !sniffed_) {
      held_.append(in);
      if (held_.size() < 2) return true;
      auto b0 = static_cast<unsigned char>(held_[0]), b1 = static_cast<unsigned char>(held_[1]);
      bool zlib = (b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0;
      bits_ = zlib ? 15 : -15;
      sniffed_ = true;
      data = held_;
    }
    std::size_t i = 0;
    while (i < data.size() && out.size() < limit && !ignore_rest_) {
      if (!init_) {
        if (done_ && !gzip_) break;  // bytes after a deflate stream: ignored
        if (done_ && gzip_ && static_cast<unsigned char>(data[i]) != 0x1f) {
          ignore_rest_ = true;  // padding after the last gzip member
          break;
        }
        zs_ = z_stream{};
        if (inflateInit2(&zs_, bits_) != Z_OK) {
          err = "zlib init failed";
          return false;
        }
        init_ = true;
        done_ = false;
      }
      std::size_t used = 0;
      if (!run(data.substr(i), out, limit, err, used)) return false;
      i += used;
      if (done_) {
        inflateEnd(&zs_);
        init_ = false;
      } else if (used == 0) {
        break;
      }
    }
    held_.clear();
    return true;
  }
  bool complete() const override { return done_; }

 private:
  bool run(std::string_view in, std::string& out, std::size_t limit, std::string& err, std::size_t& used) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    while (out.size() < limit) {
      std::size_t old = out.size();
      std::size_t step = std::min(kStep, limit - old);
      out.resize(old + step);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs_.avail_out = static_cast<uInt>(step);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      std::size_t left = zs_.avail_out;
      out.resize(old + step - left);
      if (rc == Z_STREAM_END) {
        done_ = true;
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        err = zs_.msg ? zs_.msg : "inflate error";
        return false;
      }
      if (left != 0) break;  // needs more input
    }
    used = in.size() - zs_.avail_in;
    return true;
  }

  bool gzip_;
  int bits_;
  bool init_ = false;
  bool done_ = false;
  bool sniffed_ = false;
  bool ignore_rest_ = false;
  std::string held_;
  z_stream zs_{};
};

class BrotliStage : public ContentDecoder::Stage {
 public:
  BrotliStage() : st_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliStage() override { BrotliDecoderDestroyInstance(st_); }
  bool feed(std::string_view in, std::string& out, std::size_t limit, std::string& err) override {
    if (!st_) {
      err = "brotli init failed";
      return false;
    }
    std::size_t avail_in = in.size();
    auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
    while (!done_ && out.size() < limit) {
      std::size_t old = out.size();
      std::size_t step = std::min(kStep, limit - old);
      out.resize(old + step);
      std::size_t avail_out = step;
      auto* next_out = reinterpret_cast<uint8_t*>(out.data() + old);
      auto rc = BrotliDecoderDecompressStream(st_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      out.resize(old + step - avail_out);
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
        done_ = true;
      } else if (rc == BROTLI_DECODER_RESULT_ERROR) {
        err = BrotliDecoderErrorString(BrotliDecoderGetErrorCode(st_));
        return false;
      } else if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
        break;
      }
    }
    return true;
  }
  bool complete() const override { return done_; }

 private:
  BrotliDecoderState* st_;
  bool done_ = false;
};

class ZstdStage : public ContentDecoder::Stage {
 public:
  ZstdStage() : ds_(ZSTD_createDStream()) {
    if (ds_) ZSTD_initDStream(ds_);
  }
  ~ZstdStage() override { ZSTD_freeDStream(ds_); }
  bool feed(std::string_view in, std::string& out, std::size_t limit, std::string& err) override {
    if (!ds_) {
      err = "zstd init failed";
      return false;
    }
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    while (out.size() < limit) {
      std::size_t old = out.size();
      std::size_t step = std::min(kStep, limit - old);
      out.resize(old + step);
      ZSTD_outBuffer ob{out.data() + old, step, 0};
      std::size_t rc = ZSTD_decompressStream(ds_, &ob, &ib);
      out.resize(old + ob.pos);
      if (ZSTD_isError(rc)) {
        err = ZSTD_getErrorName(rc);
        return false;
      }
      frame_done_ = rc == 0;
      if (ib.pos == ib.size && ob.pos < step) break;
    }
    return true;
  }
  bool complete() const override { return frame_done_; }

 private:
  ZSTD_DStream* ds_;
  bool frame_done_ = false;
};

std::string lower_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

ContentDecoder::ContentDecoder(std::string_view content_encoding) {
  std::vector<std::unique_ptr<Stage>> in_header_order;
  while (!content_encoding.empty()) {
    auto comma = content_encoding.find(',');
    std::string tok = lower_trim(content_encoding.substr(0, comma));
    content_encoding = comma == std::string_view::npos ? std::string_view{} : content_encoding.substr(comma + 1);
    if (tok.empty() || tok == "identity") continue;
    if (tok == "gzip" || tok == "x-gzip") {
      in_header_order.push_back(std::make_unique<ZlibStage>(true));
    } else if (tok == "deflate") {
      in_header_order.push_back(std::make_unique<ZlibStage>(false));
    } else if (tok == "br") {
      in_header_order.push_back(std::make_unique<BrotliStage>());
    } else if (tok == "zstd") {
      in_header_order.push_back(std::make_unique<ZstdStage>());
    } else {
      failed_ = true;
      error_ = "unsupported content-encoding: " + tok;
    }
  }
  std::reverse(in_header_order.begin(), in_header_order.end());
  stages_ = std::move(in_header_order);
}

ContentDecoder::~ContentDecoder() = default;

std::string_view ContentDecoder::pass_through(std::string_view in, std::size_t out_size, std::size_t max_out) {
  if (failed_ || limit_reached_) return {};
  std::size_t limit = max_out > static_cast<std::size_t>(-1) - out_size ? static_cast<std::size_t>(-1) : out_size + max_out;
  std::size_t n = std::min(in.size(), limit - out_size);
  if (n < in.size()) limit_reached_ = true;
  return in.substr(0, n);
}

bool ContentDecoder::feed(std::string_view in, std::string& out, std::size_t max_out) {
  if (failed_) return false;
  if (limit_reached_) return true;
  std::size_t limit = max_out > static_cast<std::size_t>(-1) - out.size() ? static_cast<std::size_t>(-1)
                                                                            : out.size() + max_out;
  if (stages_.empty()) {
    out.append(pass_through(in, out.size(), max_out));
    return true;
  }
  // Intermediate stages decode into scratch buffers; only the last one is bounded by the caller.
  std::string a(in), b;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    bool last = s + 1 == stages_.size();
    std::string& dst = last ? out : b;
    std::size_t lim = last ? limit : (64u << 20);
    if (!stages_[s]->feed(a, dst, lim, error_)) {
      failed_ = true;
      return false;
    }
    if (dst.size() >= lim) limit_reached_ = true;
    if (!last) {
      a.swap(b);
      b.clear();
    }
  }
  return true;
}

bool ContentDecoder::finish() {
  if (failed_) return false;
  for (auto& s : stages_) {
    if (!s->complete()) return false;
  }
  return true;
}

}  // namespace llmtap
