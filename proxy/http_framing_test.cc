// MessageFraming on byte fixtures fed at random chunk boundaries: the consumed bytes always add up to
// exactly one message, whatever the split.
#include "proxy/http_framing.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace llmtap::proxy {
namespace {

// Feeds WIRE in random pieces; returns how many bytes the first message took (or npos on error).
template <bool isRequest>
std::size_t frame(const std::string& wire, unsigned seed, bool head = false, int* status = nullptr) {
  std::mt19937 rng(seed);
  MessageFraming<isRequest> p(64 * 1024);
  if (head) p.skip(true);
  std::string buf;
  std::size_t fed = 0, consumed = 0;
  while (!p.is_done()) {
    if (fed < wire.size()) {
      std::size_t k = std::min<std::size_t>(wire.size() - fed, 1 + rng() % 7);
      buf.append(wire, fed, k);
      fed += k;
    } else if (buf.empty() || true) {
      if (fed == wire.size() && p.is_header_done() && p.need_eof()) {
        boost::beast::error_code ec;
        p.put_eof(ec);
        if (ec) return std::string::npos;
        break;
      }
      if (fed == wire.size() && buf.empty()) return std::string::npos;
    }
    while (!buf.empty() && !p.is_done()) {
      boost::beast::error_code ec;
      std::size_t n = p.put(boost::asio::buffer(buf), ec);  // may consume some and still need more
      if (ec && ec != http::error::need_more) return std::string::npos;
      buf.erase(0, n);
      consumed += n;
      if (n == 0 || ec) break;
    }
  }
  if (status) *status = p.status();
  return consumed;
}

TEST(HttpFraming, ChunkedResponseAtAnySplit) {
  std::string msg = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\n" +
                    std::string(26, 'z') + "\r\n0\r\nTrailer: x\r\n\r\n";
  for (unsigned seed = 0; seed < 50; ++seed) EXPECT_EQ(frame<false>(msg + "HTTP/1.1 200 OK", seed), msg.size());
}

TEST(HttpFraming, ContentLengthRequestAtAnySplit) {
  std::string msg = "POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
  for (unsigned seed = 0; seed < 50; ++seed) EXPECT_EQ(frame<true>(msg + "GET / HTTP/1.1\r\n", seed), msg.size());
}

TEST(HttpFraming, BodylessResponses) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  EXPECT_EQ(frame<false>(head, 1, /*head=*/true), head.size());
  for (const char* code : {"204 No Content", "304 Not Modified", "100 Continue"}) {
    std::string m = std::string("HTTP/1.1 ") + code + "\r\n\r\n";
    int status = 0;
    EXPECT_EQ(frame<false>(m + "HTTP/1.1 200 OK\r\n", 3, false, &status), m.size()) << code;
    EXPECT_GT(status, 0);
  }
}

TEST(HttpFraming, BodyUntilEof) {
  std::string m = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed until close";
  EXPECT_EQ(frame<false>(m, 7), m.size());
}

TEST(HttpFraming, FieldsAndLimits) {
  RequestFraming p(64);
  p.eager(false);
  boost::beast::error_code ec;
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  p.put(boost::asio::buffer(big), ec);
  EXPECT_EQ(ec, http::error::header_limit);
  RequestFraming q(4096);
  q.eager(false);
  std::string ok = "POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n";
  q.put(boost::asio::buffer(ok), ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(q.expects_continue());
  EXPECT_EQ(q.field_value("host"), "h");
  EXPECT_EQ(q.fields().size(), 2u);
  RequestFraming bad(4096);
  std::string garbage = "NOT HTTP AT ALL\r\n\r\n";
  bad.put(boost::asio::buffer(garbage), ec);
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, http::error::need_more);
}

// Drives MessageFraming plus ForwardCursor the way the proxy does: WIRE arrives in PIECES; after each
// arrival, forwards what the cursor allows. Returns, per arrival, everything forwarded so far.
template <bool isRequest>
std::vector<std::string> forward_as_received(const std::vector<std::string>& pieces, std::string* leftover) {
  MessageFraming<isRequest> p(64 * 1024);
  ForwardCursor cursor;
  std::string buf, out;
  std::vector<std::string> after_each;
  for (const auto& piece : pieces) {
    buf += piece;
    while (!buf.empty() && !p.is_done()) {
      boost::beast::error_code ec;
      std::size_t n = p.put(boost::asio::buffer(buf), ec);
      if (ec && ec != http::error::need_more) return {};
      ForwardCursor::Slice s = cursor.next(n, buf.size(), p.is_header_done() && !p.is_done());
      out.append(buf, s.offset, s.size);
      buf.erase(0, n);
      cursor.advance(s, n);
      if (n == 0) break;
    }
    after_each.push_back(out);
  }
  if (leftover) *leftover = buf.substr(cursor.ahead());
  return after_each;
}

// A connection passes one store to each of its messages: each parser sees only its own fields, in
// arrival order and case, also when a later message has fewer and longer fields.
TEST(HttpFraming, ReusedFieldStoreHoldsOnlyTheCurrentMessage) {
  HeaderFields store;
  boost::beast::error_code ec;
  {
    RequestFraming first(4096, store);
    std::string wire = "GET /a HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nX-Two: two\r\n\r\n";
    first.put(boost::asio::buffer(wire), ec);
    ASSERT_FALSE(ec);
    ASSERT_EQ(first.fields().size(), 3u);
    EXPECT_EQ(first.field_value("x-two"), "two");
  }
  RequestFraming second(4096, store);
  second.eager(false);
  std::string wire = "POST /b HTTP/1.1\r\nContent-Length: 0\r\nAuthorization: Bearer " + std::string(300, 'k') + "\r\n\r\n";
  second.put(boost::asio::buffer(wire), ec);
  ASSERT_FALSE(ec) << ec.message();
  std::vector<std::pair<std::string, std::string>> got;
  for (const HeaderField f : second.fields()) got.emplace_back(f.name, f.value);
  const std::vector<std::pair<std::string, std::string>> want = {{"Content-Length", "0"},
                                                                 {"Authorization", "Bearer " + std::string(300, 'k')}};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(second.field_value("x-one").empty());
}

TEST(ForwardCursor, ChunkedResponseBytesGoOutAsTheyArrive) {
  std::string header = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::vector<std::string> chunks = {"8\r\ndata: a\n\r\n", "9\r\ndata: bc\n\r\n", "0\r\n\r\n"};
  std::vector<std::string> pieces = {header + chunks[0], chunks[1], chunks[2]};
  auto sent = forward_as_received<false>(pieces, nullptr);
  ASSERT_EQ(sent.size(), 3u);
  // Each chunk, closing CRLF included, is out before the next one arrives.
  EXPECT_EQ(sent[0], pieces[0]);
  EXPECT_EQ(sent[1], pieces[0] + pieces[1]);
  EXPECT_EQ(sent[2], pieces[0] + pieces[1] + pieces[2]);
}

TEST(ForwardCursor, RandomSplitsForwardEveryByteOnceAndStopAtMessageEnd) {
  std::string msg = "POST /v1/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\n" +
                    std::string(26, 'z') + "\r\n0\r\nTrailer: x\r\n\r\n";
  std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string wire = msg + next;
  for (unsigned seed = 0; seed < 200; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < wire.size();) {
      std::size_t k = std::min<std::size_t>(wire.size() - at, 1 + rng() % 9);
      pieces.push_back(wire.substr(at, k));
      at += k;
    }
    std::string leftover;
    auto sent = forward_as_received<true>(pieces, &leftover);
    ASSERT_EQ(sent.size(), pieces.size()) << seed;
    std::string received;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      received += pieces[i];
      // Once the header is complete, everything received up to the message end is out.
      std::size_t header_end = msg.find("\r\n\r\n") + 4;
      if (received.size() >= header_end) {
        EXPECT_EQ(sent[i], received.substr(0, std::min(received.size(), msg.size()))) << seed << " piece " << i;
      }
    }
    EXPECT_EQ(sent.back(), msg) << seed;
    EXPECT_EQ(leftover, next) << seed;  // the next request stays for its own routing
  }
}

TEST(MessageFraming, RequestTransferCodingMustEndInChunked) {
  // Beast alone reads these as bodiless, and the body as the next request (RFC 9112 §6.3: 400).
  for (std::string te : {"xchunked", "chunked, identity", "gzip", "chunked, chunked", "identity", ","}) {
    std::string wire = "POST /v1/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te +
                       "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    for (unsigned seed = 0; seed < 20; ++seed) EXPECT_EQ(frame<true>(wire, seed), std::string::npos) << te;
  }
  std::string two_fields = "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  EXPECT_EQ(frame<true>(two_fields, 1), two_fields.size());
  std::string ok = "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n";
  EXPECT_EQ(frame<true>(ok, 2), ok.size());
  // Responses: a non-chunked last coding means "until close", which stays legal.
  std::string resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc";
  EXPECT_EQ(frame<false>(resp, 3), resp.size());
}

TEST(ForwardCursor, ContentLengthStopsAtMessageEnd) {
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
  std::string leftover;
  auto sent = forward_as_received<false>({msg.substr(0, 45), msg.substr(45) + "HTTP/1.1 204"}, &leftover);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], msg.substr(0, 45));
  EXPECT_EQ(sent[1], msg);
  EXPECT_EQ(leftover, "HTTP/1.1 204");
}

}  // namespace
}  // namespace llmtap::proxy
