#pragma once
// The capture spool's formats, sans-IO: the records AsyncTap spills (a connection's open with its
// ConnectionInfo, data, gap, close) and the encrypted segment they are kept in on disk.
// collector/capture_spool.h does the file I/O.
//
//   record  := u8 kind, u8 direction, u64 conn id, i64 timestamp, u32 payload length, payload
//              (data: the bytes; open: u16 port, u8 tls, u64 client pid, str host, str source,
//               str := u32 length, bytes; gap and close: empty)
//   segment := header, chunk*
//   header  := "LTCS", u8 version (1), 3 zero bytes, u64 run id, u64 nonce id        (24 bytes)
//   chunk   := u32 ciphertext length, ciphertext, 16-byte GCM tag
// All integers little-endian. A chunk's plaintext is whole records (records never span chunks).
// Each chunk is sealed with AES-256-GCM (OpenSSL EVP): nonce = nonce id (8 bytes) || chunk index
// (u32), additional data = the header and the chunk index, so a chunk moved, reordered or altered
// fails to open. The run id says which process captured the records, so a replaying process
// keeps another run's connection ids apart from its own.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/tap.h"

namespace llmtap::capture {

enum class RecordKind : std::uint8_t { kOpen = 0, kData = 1, kGap = 2, kClose = 3 };

// One decoded record; BYTES and the strings of INFO point into the decoded buffer (data) or are
// copied into INFO (open).
struct RecordView {
  RecordKind kind = RecordKind::kData;
  Direction dir = Direction::kClientToServer;
  std::uint64_t conn_id = 0;
  UnixNanos ts = 0;
  std::string_view bytes;  // kData
  ConnectionInfo info;     // kOpen
};

// Appends one record to OUT. INFO is read for kOpen only.
void append_record(std::string& out, RecordKind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts,
                   std::string_view bytes, const ConnectionInfo* info);
// Bytes append_record() adds for a record with a payload of N bytes (open: see encoded_info_size).
inline constexpr std::size_t kRecordHeaderBytes = 1 + 1 + 8 + 8 + 4;
std::size_t encoded_info_size(const ConnectionInfo& info);

enum class DecodeStatus { kRecord, kEnd, kBad };
// Decodes the record at the front of IN (a chunk's plaintext) into OUT and removes it from IN.
// kEnd when IN is empty; kBad (with *error) for a cut-short or malformed record.
DecodeStatus next_record(std::string_view& in, RecordView& out, std::string* error);

// The encryption of one spool (one key for every segment of it).
inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kSegmentHeaderBytes = 24;
inline constexpr std::size_t kChunkHeaderBytes = 4;
inline constexpr std::uint32_t kMaxChunkBytes = 64u << 20;
using Key = std::array<unsigned char, kKeyBytes>;

struct SegmentHeader {
  std::uint64_t run_id = 0;
  std::uint64_t nonce_id = 0;  // random per segment: with the chunk index, the GCM nonce
};

void append_segment_header(std::string& out, const SegmentHeader& h);
// Parses the header at the front of IN. false (with *error) if IN is not a version-1 segment header.
bool parse_segment_header(std::string_view in, SegmentHeader& out, std::string* error);

// Appends to OUT the chunk sealing PLAINTEXT as chunk INDEX of the segment with header H.
// false only if OpenSSL fails (then OUT is unchanged).
bool seal_chunk(const Key& key, const SegmentHeader& h, std::uint32_t index, std::string_view plaintext,
                std::string& out);

// Reads the chunks of one segment from its bytes, fed in any pieces (sans-IO).
class SegmentReader {
 public:
  explicit SegmentReader(const Key& key) : key_(key) {}
  void feed(std::string_view bytes) { buf_.append(bytes.data(), bytes.size()); }
  enum class Status { kChunk, kNeedMore, kBad };
  // The next chunk's plaintext into *PLAINTEXT: kChunk; kNeedMore until the header and a whole
  // chunk have been fed; kBad (with *error) for a bad header, an oversized chunk or one that fails
  // to open (wrong key, damage). After kBad every call returns kBad.
  Status next(std::string* plaintext, std::string* error);
  // Whether fed bytes remain that do not make a whole chunk (a segment cut short, at its end).
  bool partial() const { return pos_ < buf_.size(); }
  const SegmentHeader& header() const { return header_; }

 private:
  const Key key_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool have_header_ = false, bad_ = false;
  SegmentHeader header_;
  std::uint32_t index_ = 0;
};

}  // namespace llmtap::capture
