#pragma once
// Test-only: records a real HTTP/2 conversation between an nghttp2 client session and an nghttp2
// server session (OpenAI-style chat completions, one JSON and one SSE response, concurrent
// streams), as the ordered byte chunks each side wrote. Used as the h2 capture fixture.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "collector/tap.h"

namespace llmtap::testing {

struct H2Chunk {
  Direction dir;
  std::string bytes;
};

inline constexpr const char* kJsonRequest =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
inline constexpr const char* kStreamRequest =
    R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello there"}]})";
inline constexpr const char* kJsonResponse =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
inline constexpr const char* kStreamResponse =
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}\n\n"
    "data: [DONE]\n\n";

class H2Conversation {
 public:
  // Records the conversation. Bodies leave in DATA frames of at most 40 bytes, so responses span
  // many frames and the two streams interleave.
  std::vector<H2Chunk> record() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &on_frame_recv);
    nghttp2_session_client_new(&client_, cbs, this);
    nghttp2_session_server_new(&server_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(client_, NGHTTP2_FLAG_NONE, nullptr, 0);
    nghttp2_settings_entry table{NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 8192};
    nghttp2_submit_settings(server_, NGHTTP2_FLAG_NONE, &table, 1);
    submit_request(kJsonRequest);
    submit_request(kStreamRequest);
    for (int guard = 0; guard < 10000; ++guard) {
      const bool a = pump(client_, server_, Direction::kClientToServer);
      const bool b = pump(server_, client_, Direction::kServerToClient);
      if (!a && !b) break;
    }
    nghttp2_session_del(client_);
    nghttp2_session_del(server_);
    return std::move(chunks_);
  }

 private:
  struct Body {
    std::string bytes;
    std::size_t off = 0;
  };

  static nghttp2_nv nv(const char* n, const char* v) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(n)),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(v)), std::strlen(n), std::strlen(v),
            NGHTTP2_NV_FLAG_NONE};
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                           std::uint32_t* flags, nghttp2_data_source* src, void*) {
    auto* b = static_cast<Body*>(src->ptr);
    const std::size_t n = std::min({len, std::size_t{40}, b->bytes.size() - b->off});
    std::memcpy(buf, b->bytes.data() + b->off, n);
    b->off += n;
    if (b->off == b->bytes.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  void submit_request(const char* body) {
    bodies_.push_back(std::make_unique<Body>(Body{body, 0}));
    nghttp2_nv hdrs[] = {nv(":method", "POST"), nv(":scheme", "https"), nv(":authority", "api.openai.com"),
                         nv(":path", "/v1/chat/completions"), nv("content-type", "application/json"),
                         nv("authorization", "Bearer sk-test-secret-never-logged"),
                         nv("user-agent", "h2-fixture/1")};
    nghttp2_data_provider prd;
    prd.source.ptr = bodies_.back().get();
    prd.read_callback = &read_body;
    nghttp2_submit_request(client_, nullptr, hdrs, sizeof hdrs / sizeof hdrs[0], &prd, nullptr);
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    auto* self = static_cast<H2Conversation*>(user);
    if (s == self->server_ && frame->hd.type == NGHTTP2_HEADERS) {
      self->req_headers_[frame->hd.stream_id].emplace_back(
          std::string(reinterpret_cast<const char*>(name), namelen),
          std::string(reinterpret_cast<const char*>(value), valuelen));
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Conversation*>(user);
    if (s != self->server_ || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
    const bool stream = frame->hd.stream_id == 3;  // the second request asked for a stream
    self->bodies_.push_back(std::make_unique<Body>(Body{stream ? kStreamResponse : kJsonResponse, 0}));
    nghttp2_nv hdrs[] = {nv(":status", "200"),
                         nv("content-type", stream ? "text/event-stream" : "application/json"),
                         nv("x-request-id", "req_123")};
    nghttp2_data_provider prd;
    prd.source.ptr = self->bodies_.back().get();
    prd.read_callback = &read_body;
    nghttp2_submit_response(s, frame->hd.stream_id, hdrs, sizeof hdrs / sizeof hdrs[0], &prd);
    return 0;
  }

  // Moves whatever FROM wants to send into TO, recording it. Returns whether anything moved.
  bool pump(nghttp2_session* from, nghttp2_session* to, Direction dir) {
    bool moved = false;
    for (;;) {
      const std::uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(from, &data);
      if (n <= 0) break;
      moved = true;
      chunks_.push_back(H2Chunk{dir, std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n))});
      nghttp2_session_mem_recv(to, data, static_cast<std::size_t>(n));
    }
    return moved;
  }

  nghttp2_session* client_ = nullptr;
  nghttp2_session* server_ = nullptr;
  std::vector<std::unique_ptr<Body>> bodies_;
  std::map<std::int32_t, std::vector<std::pair<std::string, std::string>>> req_headers_;
  std::vector<H2Chunk> chunks_;
};

// Re-cuts CHUNKS at random boundaries (order kept), as a capture would deliver them.
inline std::vector<H2Chunk> rechunk(const std::vector<H2Chunk>& chunks, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<H2Chunk> out;
  for (const H2Chunk& c : chunks) {
    std::size_t pos = 0;
    while (pos < c.bytes.size()) {
      const std::size_t n = std::min<std::size_t>(c.bytes.size() - pos, 1 + rng() % 23);
      out.push_back(H2Chunk{c.dir, c.bytes.substr(pos, n)});
      pos += n;
    }
  }
  return out;
}

}  // namespace llmtap::testing
