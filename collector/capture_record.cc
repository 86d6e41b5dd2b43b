#include "collector/capture_record.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace llmtap::capture {
namespace {

constexpr char kMagic[4] = {'L', 'T', 'C', 'S'};
constexpr std::uint8_t kVersion = 1;

template <typename T>
void put(std::string& out, T v) {
  for (std::size_t k = 0; k < sizeof(T); ++k) out.push_back(static_cast<char>(static_cast<std::uint64_t>(v) >> (8 * k)));
}
template <typename T>
T get(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < sizeof(T); ++k) v |= std::uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return static_cast<T>(v);
}
void put_str(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

// Takes a u32-length-prefixed string off the front of IN.
bool take_str(std::string_view& in, std::string& out) {
  if (in.size() < 4) return false;
  const std::uint32_t n = get<std::uint32_t>(in.data());
  if (in.size() - 4 < n) return false;
  out.assign(in.data() + 4, n);
  in.remove_prefix(4 + std::size_t{n});
  return true;
}

bool decode_info(std::string_view in, ConnectionInfo& out) {
  if (in.size() < 2 + 1 + 8) return false;
  out.port = get<std::uint16_t>(in.data());
  const auto tls = static_cast<unsigned char>(in[2]);
  if (tls > 1) return false;
  out.tls = tls == 1;
  out.client_pid = get<std::uint64_t>(in.data() + 3);
  in.remove_prefix(11);
  return take_str(in, out.host) && take_str(in, out.source) && in.empty();
}

void nonce_for(const SegmentHeader& h, std::uint32_t index, unsigned char out[12]) {
  for (int k = 0; k < 8; ++k) out[k] = static_cast<unsigned char>(h.nonce_id >> (8 * k));
  for (int k = 0; k < 4; ++k) out[8 + k] = static_cast<unsigned char>(index >> (8 * k));
}

std::string additional_data(const SegmentHeader& h, std::uint32_t index) {
  std::string aad;
  append_segment_header(aad, h);
  put<std::uint32_t>(aad, index);
  return aad;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

}  // namespace

std::size_t encoded_info_size(const ConnectionInfo& info) { return 2 + 1 + 8 + 4 + info.host.size() + 4 + info.source.size(); }

void append_record(std::string& out, RecordKind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts,
                   std::string_view bytes, const ConnectionInfo* info) {
  out.push_back(static_cast<char>(kind));
  out.push_back(static_cast<char>(dir));
  put<std::uint64_t>(out, conn_id);
  put<std::uint64_t>(out, static_cast<std::uint64_t>(ts));
  if (kind == RecordKind::kOpen && info) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(encoded_info_size(*info)));
    put<std::uint16_t>(out, info->port);
    out.push_back(info->tls ? 1 : 0);
    put<std::uint64_t>(out, info->client_pid);
    put_str(out, info->host);
    put_str(out, info->source);
  } else if (kind == RecordKind::kData) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(bytes.size()));
    out.append(bytes.data(), bytes.size());
  } else {
    put<std::uint32_t>(out, 0);
  }
}

DecodeStatus next_record(std::string_view& in, RecordView& out, std::string* error) {
  if (in.empty()) return DecodeStatus::kEnd;
  auto bad = [&](const char* why) {
    if (error) *error = why;
    return DecodeStatus::kBad;
  };
  if (in.size() < kRecordHeaderBytes) return bad("record header cut short");
  const auto kind = static_cast<unsigned char>(in[0]), dir = static_cast<unsigned char>(in[1]);
  if (kind > static_cast<unsigned char>(RecordKind::kClose)) return bad("unknown record kind");
  if (dir > 1) return bad("unknown direction");
  const std::uint32_t n = get<std::uint32_t>(in.data() + 18);
  if (in.size() - kRecordHeaderBytes < n) return bad("record payload cut short");
  out.kind = static_cast<RecordKind>(kind);
  out.dir = static_cast<Direction>(dir);
  out.conn_id = get<std::uint64_t>(in.data() + 2);
  out.ts = static_cast<UnixNanos>(get<std::uint64_t>(in.data() + 10));
  const std::string_view payload = in.substr(kRecordHeaderBytes, n);
  out.bytes = {};
  switch (out.kind) {
    case RecordKind::kOpen:
      out.info = ConnectionInfo{};
      if (!decode_info(payload, out.info)) return bad("malformed connection info");
      break;
    case RecordKind::kData:
      if (payload.empty()) return bad("empty data record");
      out.bytes = payload;
      break;
    case RecordKind::kGap:
    case RecordKind::kClose:
      if (!payload.empty()) return bad("payload on a gap or close record");
      break;
  }
  in.remove_prefix(kRecordHeaderBytes + n);
  return DecodeStatus::kRecord;
}

void append_segment_header(std::string& out, const SegmentHeader& h) {
  out.append(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.append(3, '\0');
  put<std::uint64_t>(out, h.run_id);
  put<std::uint64_t>(out, h.nonce_id);
}

bool parse_segment_header(std::string_view in, SegmentHeader& out, std::string* error) {
  if (in.size() < kSegmentHeaderBytes || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0 ||
      static_cast<unsigned char>(in[4]) != kVersion || in[5] != 0 || in[6] != 0 || in[7] != 0) {
    if (error) *error = "not a version-1 capture spool segment";
    return false;
  }
  out.run_id = get<std::uint64_t>(in.data() + 8);
  out.nonce_id = get<std::uint64_t>(in.data() + 16);
  return true;
}

bool seal_chunk(const Key& key, const SegmentHeader& h, std::uint32_t index, std::string_view plaintext,
                std::string& out) {
  if (plaintext.size() > kMaxChunkBytes) return false;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  unsigned char nonce[12];
  nonce_for(h, index, nonce);
  const std::string aad = additional_data(h, index);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1)
    return false;
  const std::size_t start = out.size();
  put<std::uint32_t>(out, static_cast<std::uint32_t>(plaintext.size()));
  out.resize(start + kChunkHeaderBytes + plaintext.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start + kChunkHeaderBytes);
  int final_len = 0;
  if (EVP_EncryptUpdate(ctx.get(), dst, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + plaintext.size()) != 1) {
    out.resize(start);
    return false;
  }
  return true;
}

SegmentReader::Status SegmentReader::next(std::string* plaintext, std::string* error) {
  auto bad = [&](std::string why) {
    bad_ = true;
    if (error) *error = std::move(why);
    return Status::kBad;
  };
  if (bad_) return Status::kBad;
  if (!have_header_) {
    if (buf_.size() < kSegmentHeaderBytes) return Status::kNeedMore;
    std::string e;
    if (!parse_segment_header(buf_, header_, &e)) return bad(e);
    have_header_ = true;
    pos_ = kSegmentHeaderBytes;
  }
  if (buf_.size() - pos_ < kChunkHeaderBytes) return Status::kNeedMore;
  const std::uint32_t n = get<std::uint32_t>(buf_.data() + pos_);
  if (n > kMaxChunkBytes) return bad("chunk " + std::to_string(index_) + " claims " + std::to_string(n) + " bytes");
  if (buf_.size() - pos_ < kChunkHeaderBytes + std::size_t{n} + kTagBytes) return Status::kNeedMore;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  unsigned char nonce[12];
  nonce_for(header_, index_, nonce);
  const std::string aad = additional_data(header_, index_);
  const auto* src = reinterpret_cast<const unsigned char*>(buf_.data() + pos_ + kChunkHeaderBytes);
  plaintext->resize(n);
  auto* dst = reinterpret_cast<unsigned char*>(plaintext->data());
  int len = 0, final_len = 0;
  unsigned char tag[kTagBytes];
  std::memcpy(tag, src + n, kTagBytes);
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), dst, &len, src, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), dst + len, &final_len) != 1) {
    plaintext->clear();
    return bad("chunk " + std::to_string(index_) + " does not open (damaged, or sealed with another key)");
  }
  pos_ += kChunkHeaderBytes + n + kTagBytes;
  ++index_;
  // Keep the buffer from growing with the segment: drop what has been read once it is half of it.
  if (pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return Status::kChunk;
}

}  // namespace llmtap::capture
