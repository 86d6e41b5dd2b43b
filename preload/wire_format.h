#pragma once
// Records the preload shim sends to the collector, one per SOCK_SEQPACKET message (the socket keeps
// record boundaries and sends each message whole or not at all, so a full socket never leaves a
// half-written record behind). Plain C++ with no dependencies: included by the shim and the collector.
// Both ends run on the same host, so integers are in host byte order.
#include <cstdint>
#include <cstring>

namespace llmtap::wire {

inline constexpr std::uint32_t kMagic = 0x3150544cu;  // "LTP1"
inline constexpr std::uint32_t kMaxPayload = 32u * 1024u;  // shim splits larger buffers

enum class RecordType : std::uint8_t {
  kHello = 1,  // payload: HelloPayload; first record of every socket connection
  kOpen = 2,   // payload: OpenPayload followed by the host name (host_len bytes)
  kData = 3,   // payload: the plaintext bytes
  kGap = 4,    // bytes of this direction were dropped before this point
  kClose = 5,  // connection ended (SSL_shutdown/SSL_free)
};

struct RecordHeader {
  std::uint32_t magic = kMagic;
  std::uint8_t type = 0;        // RecordType
  std::uint8_t direction = 0;   // llmtap::Direction: 0 client->server, 1 server->client
  std::uint16_t reserved = 0;
  std::uint32_t payload_len = 0;
  std::uint32_t reserved2 = 0;  // explicit padding, always zero
  std::uint64_t conn_id = 0;    // per shim process; the collector makes it unique across processes
  std::int64_t ts_ns = 0;       // CLOCK_REALTIME, Unix nanoseconds
};
static_assert(sizeof(RecordHeader) == 32, "wire header layout");

struct HelloPayload {
  std::uint64_t pid = 0;
  std::uint32_t version = 1;
  std::uint32_t reserved = 0;
};
static_assert(sizeof(HelloPayload) == 16, "wire hello layout");

struct OpenPayload {
  std::uint64_t pid = 0;
  std::uint16_t port = 0;
  std::uint16_t host_len = 0;
  std::uint8_t tls = 1;
  std::uint8_t reserved[3] = {0, 0, 0};
};
static_assert(sizeof(OpenPayload) == 16, "wire open layout");

// A decoded record; views point into the message it was decoded from.
struct Record {
  RecordHeader header;
  const char* payload = nullptr;
  std::uint32_t payload_len = 0;
};

// Validates one whole message. Returns false for anything malformed (wrong magic, length mismatch,
// unknown type, bad direction, short open/hello payloads); the caller drops such messages.
inline bool decode_record(const char* msg, std::size_t len, Record* out) {
  if (len < sizeof(RecordHeader)) return false;
  RecordHeader h;
  std::memcpy(&h, msg, sizeof h);
  if (h.magic != kMagic || h.payload_len > kMaxPayload) return false;
  if (len != sizeof(RecordHeader) + h.payload_len) return false;
  if (h.direction > 1) return false;
  switch (static_cast<RecordType>(h.type)) {
    case RecordType::kHello:
      if (h.payload_len < sizeof(HelloPayload)) return false;
      break;
    case RecordType::kOpen: {
      if (h.payload_len < sizeof(OpenPayload)) return false;
      OpenPayload o;
      std::memcpy(&o, msg + sizeof h, sizeof o);
      if (sizeof(OpenPayload) + o.host_len != h.payload_len) return false;
      break;
    }
    case RecordType::kData:
    case RecordType::kGap:
    case RecordType::kClose:
      break;
    default:
      return false;
  }
  out->header = h;
  out->payload = msg + sizeof h;
  out->payload_len = h.payload_len;
  return true;
}

}  // namespace llmtap::wire
