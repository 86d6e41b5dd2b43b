#include "parsers/websocket_frame_decoder.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "parsers/websocket_test_support.h"

namespace llmtap {
namespace {

using testing::WsDeflater;
using testing::WsFrameSpec;
using testing::ws_frame;
using testing::ws_message;

struct Decoded {
  std::vector<WebSocketMessage> messages;
  bool failed = false;
  std::string error;
  bool closed = false;
  WebSocketDecoderStats stats;
};

// Feeds `bytes` cut at `cuts` (chunk k gets timestamp 100 + k).
Decoded decode(const std::string& bytes, const std::vector<std::size_t>& cuts, bool from_client,
               WebSocketDeflate deflate = {}, std::size_t max_message = 32u << 20) {
  WebSocketFrameDecoder d(from_client, deflate, max_message);
  Decoded out;
  std::size_t pos = 0;
  UnixNanos ts = 100;
  for (std::size_t cut : cuts) {
    d.feed(std::string_view(bytes).substr(pos, cut - pos), ts++, out.messages);
    pos = cut;
  }
  d.feed(std::string_view(bytes).substr(pos), ts, out.messages);
  out.failed = d.failed();
  out.error = d.error();
  out.closed = d.closed();
  out.stats = d.stats();
  return out;
}

// Every way of feeding: whole, at every split point (small inputs), byte by byte, random chunks.
void for_each_feeding(const std::string& bytes, bool from_client, WebSocketDeflate deflate,
                      const std::function<void(const Decoded&)>& check, std::size_t max_message = 32u << 20) {
  {
    SCOPED_TRACE("whole");
    check(decode(bytes, {}, from_client, deflate, max_message));
  }
  if (bytes.size() <= 4096) {
    for (std::size_t i = 1; i < bytes.size(); ++i) {
      SCOPED_TRACE("split at " + std::to_string(i));
      check(decode(bytes, {i}, from_client, deflate, max_message));
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
    SCOPED_TRACE("byte by byte");
    check(decode(bytes, every, from_client, deflate, max_message));
  }
  std::mt19937 rng(1234);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t p = 0;;) {
      p += 1 + rng() % 300;
      if (p >= bytes.size()) break;
      cuts.push_back(p);
    }
    SCOPED_TRACE("random chunks, round " + std::to_string(round));
    check(decode(bytes, cuts, from_client, deflate, max_message));
  }
}

std::vector<std::string> payloads(const Decoded& d) {
  std::vector<std::string> out;
  for (const auto& m : d.messages) out.push_back(m.payload);
  return out;
}

TEST(WebSocketFrameDecoder, ServerTextAndBinaryUnmasked) {
  const std::string bytes = ws_message("{\"type\":\"response.created\"}", 0x1, false) +
                            ws_message(std::string("\x00\x01\x02\xff", 4), 0x2, false) + ws_message("", 0x1, false);
  for_each_feeding(bytes, false, {}, [](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].opcode, WebSocketOpcode::kText);
    EXPECT_EQ(d.messages[0].payload, "{\"type\":\"response.created\"}");
    EXPECT_EQ(d.messages[1].opcode, WebSocketOpcode::kBinary);
    EXPECT_EQ(d.messages[1].payload, std::string("\x00\x01\x02\xff", 4));
    EXPECT_EQ(d.messages[2].payload, "");
    EXPECT_EQ(d.stats.messages, 3u);
  });
}

TEST(WebSocketFrameDecoder, ClientFramesAreUnmasked) {
  const std::string text = "{\"type\":\"response.create\",\"model\":\"gpt-5\"}";
  for_each_feeding(ws_message(text, 0x1, true, 3), true, {}, [&](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0].payload, text);
  });
}

TEST(WebSocketFrameDecoder, SixteenAndSixtyFourBitLengths) {
  std::string mid(300, 'm'), big(70000, 'b');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  // The last one: a short payload in the 64-bit form (not minimal, still valid framing).
  const std::string bytes = ws_message(mid, 0x1, true) + ws_message(big, 0x2, true) + ws_frame("x", [] {
                              WsFrameSpec f;
                              f.length_form = 64;
                              f.masked = true;
                              return f;
                            }());
  for_each_feeding(bytes, true, {}, [&](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].payload, mid);
    EXPECT_EQ(d.messages[1].payload, big);
    EXPECT_EQ(d.messages[2].payload, "x");
  });
}

TEST(WebSocketFrameDecoder, ControlFramesInterleavedWithFragments) {
  WsFrameSpec first, cont, last, ping, pong;
  first.opcode = 0x1;
  first.fin = false;
  cont.opcode = 0x0;
  cont.fin = false;
  last.opcode = 0x0;
  ping.opcode = 0x9;
  pong.opcode = 0xA;
  for (auto* f : {&first, &cont, &last, &ping, &pong}) f->masked = true;
  const std::string bytes = ws_frame("hel", first) + ws_frame("are you there", ping) + ws_frame("lo ", cont) +
                            ws_frame("", pong) + ws_frame("world", last);
  for_each_feeding(bytes, true, {}, [](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].opcode, WebSocketOpcode::kPing);
    EXPECT_EQ(d.messages[0].payload, "are you there");
    EXPECT_EQ(d.messages[1].opcode, WebSocketOpcode::kPong);
    EXPECT_EQ(d.messages[2].opcode, WebSocketOpcode::kText);
    EXPECT_EQ(d.messages[2].payload, "hello world");
    EXPECT_EQ(d.stats.control_frames, 2u);
  });
}

TEST(WebSocketFrameDecoder, TimestampsSpanTheMessagesFrames) {
  const std::string a = ws_message("first", 0x1, false, 2), b = ws_message("second", 0x1, false);
  auto d = decode(a + b, {3, a.size(), a.size() + 1}, false);
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].first_ts, 100);
  EXPECT_EQ(d.messages[0].last_ts, 101);
  EXPECT_EQ(d.messages[1].first_ts, 102);
  EXPECT_EQ(d.messages[1].last_ts, 103);
}

TEST(WebSocketFrameDecoder, CloseEndsTheDirection) {
  WsFrameSpec close;
  close.opcode = 0x8;
  const std::string bytes = ws_message("before", 0x1, false) + ws_frame(std::string("\x03\xe8", 2), close) +
                            ws_message("after", 0x1, false);
  for_each_feeding(bytes, false, {}, [](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_TRUE(d.closed);
    ASSERT_EQ(d.messages.size(), 2u);
    EXPECT_EQ(d.messages[0].payload, "before");
    EXPECT_EQ(d.messages[1].opcode, WebSocketOpcode::kClose);
  });
}

std::vector<std::string> conversation_messages() {
  return {"{\"type\":\"response.output_text.delta\",\"delta\":\"Hello there, how are you today?\"}",
          "{\"type\":\"response.output_text.delta\",\"delta\":\"Hello there, how are you today? Fine.\"}",
          std::string(5000, 'z'), "{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\"}}"};
}

// Compressed messages as one sender writes them: some fragmented (the compressed payload split
// across frames), one sent uncompressed (RSV1 clear) in between, as RFC 7692 allows.
std::string deflated_stream(bool context_takeover, bool masked) {
  WsDeflater z(context_takeover);
  std::string out;
  const auto msgs = conversation_messages();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (i == 2) {
      out += ws_message(msgs[i], 0x1, masked, 2, false);
      continue;
    }
    out += ws_message(z.compress(msgs[i]), 0x1, masked, i == 1 ? 3 : 1, true);
  }
  return out;
}

TEST(WebSocketFrameDecoder, PermessageDeflateWithContextTakeover) {
  WebSocketDeflate on;
  on.enabled = true;
  for (bool masked : {false, true}) {
    for_each_feeding(deflated_stream(true, masked), masked, on, [](const Decoded& d) {
      ASSERT_FALSE(d.failed) << d.error;
      EXPECT_EQ(payloads(d), conversation_messages());
    });
  }
}

TEST(WebSocketFrameDecoder, PermessageDeflateWithoutContextTakeover) {
  WebSocketDeflate on;
  on.enabled = true;
  on.no_context_takeover = true;
  for_each_feeding(deflated_stream(false, true), true, on, [](const Decoded& d) {
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(payloads(d), conversation_messages());
  });
  // A decoder that keeps its window still reads a sender that resets its own.
  on.no_context_takeover = false;
  auto d = decode(deflated_stream(false, true), {}, true, on);
  ASSERT_FALSE(d.failed) << d.error;
  EXPECT_EQ(payloads(d), conversation_messages());
}

TEST(WebSocketFrameDecoder, SmallWindowBitsInflate) {
  WsDeflater z(true, 9);
  WebSocketDeflate on;
  on.enabled = true;
  on.max_window_bits = 9;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "chunk " + std::to_string(i % 17) + ";";
  const std::string first = ws_message(z.compress(text), 0x1, false, 1, true);  // compressed in sending order
  const std::string second = ws_message(z.compress(text), 0x1, false, 1, true);
  auto d = decode(first + second, {}, false, on);
  ASSERT_FALSE(d.failed) << d.error;
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[1].payload, text);
}

TEST(WebSocketFrameDecoder, OversizedMessageIsSkippedAndCounted) {
  const std::string big(500, 'x');
  const std::string bytes = ws_message("small", 0x1, false) + ws_message(big, 0x1, false, 4) +
                            ws_message("after", 0x1, false);
  for_each_feeding(
      bytes, false, {},
      [](const Decoded& d) {
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(payloads(d), (std::vector<std::string>{"small", "after"}));
        EXPECT_EQ(d.stats.oversized_skipped, 1u);
      },
      100);
}

TEST(WebSocketFrameDecoder, OversizedCompressedMessageKeepsTheWindow) {
  // The skipped message is still inflated, so the next one (which refers back into it) decodes.
  std::string big;
  for (int i = 0; big.size() < 2000; ++i) big += "repeated phrase number " + std::to_string(i % 5) + " ";
  WsDeflater z(true);
  WebSocketDeflate on;
  on.enabled = true;
  std::string bytes = ws_message(z.compress(big), 0x1, true, 2, true);  // compressed in sending order
  bytes += ws_message(z.compress(big.substr(0, 90)), 0x1, true, 1, true);
  for_each_feeding(
      bytes, true, on,
      [&](const Decoded& d) {
        ASSERT_FALSE(d.failed) << d.error;
        ASSERT_EQ(d.messages.size(), 1u);
        EXPECT_EQ(d.messages[0].payload, big.substr(0, 90));
        EXPECT_EQ(d.stats.oversized_skipped, 1u);
      },
      100);
}

TEST(WebSocketFrameDecoder, DecompressionBombIsBounded) {
  WsDeflater z(true);
  WebSocketDeflate on;
  on.enabled = true;
  const std::string bomb(8u << 20, 'a');  // 8 MiB of one byte compresses to a few KiB
  auto d = decode(ws_message(z.compress(bomb), 0x1, false, 1, true) + ws_message("ok", 0x1, false), {}, false, on,
                  1u << 20);
  ASSERT_FALSE(d.failed) << d.error;
  EXPECT_EQ(payloads(d), std::vector<std::string>{"ok"});
  EXPECT_EQ(d.stats.oversized_skipped, 1u);
}

TEST(WebSocketFrameDecoder, CorruptOversizedMessageFailsHoweverChunked) {
  // Found by the fuzzer: a compressed message past the bound, corrupt further on, failed when fed
  // whole but not byte by byte (the skipped rest was not inflated). Now it fails both ways.
  WebSocketDeflate on;
  on.enabled = true;
  on.no_context_takeover = true;
  const std::string bytes(
      "\xc1\xb5\x12\x30\x56\x32\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x07\xb2\x52\x55\xff\xff\xff\xff"
      "\xff\xff\xdf\x19\x00\x2c\x22\x5f\x73\x22\x3a\xcf",
      60);
  for_each_feeding(
      bytes, true, on,
      [](const Decoded& d) {
        EXPECT_TRUE(d.failed);
        EXPECT_TRUE(d.messages.empty());
      },
      64);
}

struct ProtocolErrorCase {
  const char* name;
  std::string bytes;
  bool from_client;
  bool deflate;
};

TEST(WebSocketFrameDecoder, ProtocolErrorsAreReportedNotThrown) {
  auto spec = [](std::uint8_t op, bool fin, bool masked) {
    WsFrameSpec f;
    f.opcode = op;
    f.fin = fin;
    f.masked = masked;
    return f;
  };
  WsFrameSpec rsv1 = spec(0x1, true, false);
  rsv1.rsv1 = true;
  WsFrameSpec cont_rsv1 = spec(0x0, true, false);
  cont_rsv1.rsv1 = true;
  std::string rsv2 = ws_frame("x", spec(0x1, true, false));
  rsv2[0] = static_cast<char>(rsv2[0] | 0x20);
  std::string msb = ws_frame("x", [] {
    WsFrameSpec f;
    f.length_form = 64;
    return f;
  }());
  msb[2] = static_cast<char>(0x80);
  const std::vector<ProtocolErrorCase> cases = {
      {"unmasked client frame", ws_frame("hi", spec(0x1, true, false)), true, false},
      {"masked server frame", ws_frame("hi", spec(0x1, true, true)), false, false},
      {"reserved data opcode", ws_frame("hi", spec(0x3, true, false)), false, false},
      {"reserved control opcode", ws_frame("hi", spec(0xB, true, false)), false, false},
      {"RSV1 without deflate", ws_frame("hi", rsv1), false, false},
      {"RSV1 on a continuation", ws_frame("a", spec(0x1, false, false)) + ws_frame("b", cont_rsv1), false, true},
      {"RSV2", rsv2, false, false},
      {"continuation without a message", ws_frame("hi", spec(0x0, true, false)), false, false},
      {"fragmented control frame", ws_frame("hi", spec(0x9, false, false)), false, false},
      {"control frame over 125 bytes", ws_frame(std::string(126, 'p'), spec(0x9, true, false)), false, false},
      {"text inside a fragmented message", ws_frame("a", spec(0x1, false, false)) + ws_frame("b", spec(0x1, true, false)),
       false, false},
      {"64-bit length with the top bit", msb, false, false},
      {"corrupt deflate data", ws_frame(std::string("\xff\xff\xff\xff\xff", 5), rsv1), false, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    WebSocketDeflate d;
    d.enabled = c.deflate;
    // Whatever follows an error is ignored: the direction cannot be resynchronized.
    const std::string bytes = c.bytes + ws_message("later", 0x1, c.from_client);
    for_each_feeding(bytes, c.from_client, d, [](const Decoded& r) {
      EXPECT_TRUE(r.failed);
      EXPECT_TRUE(r.messages.empty());
    });
  }
}

TEST(WebSocketExtensions, NegotiatedFromTheServersAnswer) {
  auto ext = negotiate_websocket_extensions(
      {{"Upgrade", "websocket"},
       {"Sec-WebSocket-Extensions",
        "x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover; client_max_window_bits=10; "
        "server_max_window_bits=\"12\""}});
  EXPECT_TRUE(ext.client_to_server.enabled);
  EXPECT_TRUE(ext.server_to_client.enabled);
  EXPECT_TRUE(ext.server_to_client.no_context_takeover);
  EXPECT_FALSE(ext.client_to_server.no_context_takeover);
  EXPECT_EQ(ext.client_to_server.max_window_bits, 10);
  EXPECT_EQ(ext.server_to_client.max_window_bits, 12);

  ext = negotiate_websocket_extensions({{"sec-websocket-extensions", "permessage-deflate; client_no_context_takeover"}});
  EXPECT_TRUE(ext.client_to_server.no_context_takeover);
  EXPECT_FALSE(ext.server_to_client.no_context_takeover);

  EXPECT_FALSE(negotiate_websocket_extensions({}).client_to_server.enabled);
  EXPECT_FALSE(negotiate_websocket_extensions({{"Sec-WebSocket-Extensions", "permessage-deflate; bogus=1"}})
                   .server_to_client.enabled);
  EXPECT_FALSE(negotiate_websocket_extensions({{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=7"}})
                   .server_to_client.enabled);
}

}  // namespace
}  // namespace llmtap
