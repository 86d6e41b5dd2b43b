#include "parsers/http1_parser.h"

#include <gtest/gtest.h>

#include <deque>

namespace llmtap {
namespace {

// Records events as text so sequences compare easily.
struct Recorder : Http1Callbacks {
  std::vector<std::string> ev;
  std::string body;
  std::deque<std::string> methods;
  void on_head(const Http1Head& h) override {
    flush();
    ev.push_back(h.status ? "head " + std::to_string(h.status) : "head " + h.method + " " + h.target);
  }
  void on_body(std::string_view b) override { body.append(b); }
  void on_trailers(const Headers& t) override {
    flush();
    ev.push_back("trailers " + t.front().name + "=" + t.front().value);
  }
  void on_message_end() override {
    flush();
    ev.push_back("end");
    if (!methods.empty()) methods.pop_front();
  }
  std::string request_method() override { return methods.empty() ? "" : methods.front(); }
  void on_tunnel_data(std::string_view b) override { tunnel.append(b); }
  std::string tunnel;
  void flush() {
    if (!body.empty()) ev.push_back("body " + body);
    body.clear();
  }
};

std::vector<std::string> parse(Http1Kind kind, const std::string& bytes, std::size_t piece,
                               std::deque<std::string> methods = {}, bool eof = false) {
  Recorder r;
  r.methods = std::move(methods);
  Http1Parser p(kind, r);
  for (std::size_t i = 0; i < bytes.size(); i += piece) p.feed(std::string_view(bytes).substr(i, piece));
  if (eof) p.eof();
  r.flush();
  if (p.failed()) r.ev.push_back("failed");
  return r.ev;
}

TEST(Http1Parser, PipelinedRequestsWithLengthAndChunked) {
  const std::string bytes =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /y HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n";
  for (std::size_t piece : {1u, 2u, 13u, 4096u}) {
    SCOPED_TRACE(piece);
    EXPECT_EQ(parse(Http1Kind::kRequest, bytes, piece),
              (std::vector<std::string>{"head POST /v1/chat/completions", "body hello", "end", "head GET /x", "end",
                                        "head POST /y", "body abcde", "trailers T=v", "end"}));
  }
}

TEST(Http1Parser, ResponsesFollowRequestMethodsAndStatus) {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"  // HEAD: no body despite the length
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
      "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n4\nwxyz\n0\n\n"
      "HTTP/1.0 200 OK\r\n\r\nuntil close";
  for (std::size_t piece : {1u, 3u, 4096u}) {
    SCOPED_TRACE(piece);
    auto ev = parse(Http1Kind::kResponse, bytes, piece, {"POST", "HEAD", "GET", "GET", "GET", "GET"}, true);
    EXPECT_EQ(ev, (std::vector<std::string>{"head 100", "head 200", "body ok", "end", "head 200", "end", "head 204",
                                            "end", "head 304", "end", "head 200", "body wxyz", "end", "head 200",
                                            "body until close", "end"}));
  }
}

TEST(Http1Parser, ConnectAndUpgradeStopParsing) {
  auto ev = parse(Http1Kind::kResponse, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01garbage", 1,
                  {"CONNECT"});
  EXPECT_EQ(ev, (std::vector<std::string>{"head 200", "end"}));
  ev = parse(Http1Kind::kResponse, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", 2, {"GET"});
  EXPECT_EQ(ev, (std::vector<std::string>{"head 101"}));
}

TEST(Http1Parser, TunnelBytesAreHandedOverWholeAndInOrder) {
  const std::string frames = "\x81\x05hello\x82\x01\x00";
  for (std::size_t piece : {1u, 5u, 4096u}) {
    SCOPED_TRACE(piece);
    Recorder r;
    r.methods = {"GET"};
    Http1Parser p(Http1Kind::kResponse, r);
    const std::string bytes = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" + frames;
    for (std::size_t i = 0; i < bytes.size(); i += piece) p.feed(std::string_view(bytes).substr(i, piece));
    EXPECT_TRUE(p.tunneled());
    EXPECT_EQ(r.tunnel, frames);  // including what came in the same read as the head
  }
  // The request side switches when told (its 101 came on the other side), only between messages.
  Recorder r;
  Http1Parser p(Http1Kind::kRequest, r);
  p.feed("GET /v1/responses HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_TRUE(p.enter_tunnel());
  p.feed(frames);
  EXPECT_FALSE(p.failed());
  EXPECT_EQ(r.tunnel, frames);
  Recorder r2;
  Http1Parser mid(Http1Kind::kRequest, r2);
  mid.feed("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
  EXPECT_FALSE(mid.enter_tunnel());
}

TEST(Http1Parser, GarbageFailsCleanly) {
  EXPECT_EQ(parse(Http1Kind::kRequest, std::string("\x16\x03\x01\x02\x00 not http\r\n\r\n", 19), 1), (std::vector<std::string>{"failed"}));
  EXPECT_EQ(parse(Http1Kind::kResponse, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1),
            (std::vector<std::string>{"head 200", "failed"}));
  EXPECT_EQ(parse(Http1Kind::kRequest, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 1),
            (std::vector<std::string>{"failed"}));
}

TEST(Http1Parser, RequestWhoseLastCodingIsNotChunkedIsNotFramed) {
  // RFC 9112 §6.3: the proxy answers these 400; the capture must not read the body as a request.
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::string te : {"xchunked", "chunked, identity", "gzip", "chunked, chunked", ""}) {
    SCOPED_TRACE(te);
    std::string bytes = "POST /v1/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled;
    for (std::size_t piece : {1u, 4096u}) {
      auto ev = parse(Http1Kind::kRequest, bytes, piece);
      EXPECT_EQ(ev, (std::vector<std::string>{"failed"})) << piece;
    }
  }
  // A response whose last coding is not chunked runs to close, as before.
  auto ev = parse(Http1Kind::kResponse, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", 1, {"GET"}, true);
  EXPECT_EQ(ev, (std::vector<std::string>{"head 200", "body abc", "end"}));
}

TEST(Http1Parser, ResyncFindsTheNextMessage) {
  Recorder r;
  Http1Parser p(Http1Kind::kRequest, r);
  p.feed("POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial");
  p.resync();
  p.feed("lost tail of body\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  r.flush();
  EXPECT_EQ(r.ev, (std::vector<std::string>{"head POST /a", "body partial", "head GET /b", "end"}));
}

TEST(Http1Parser, ResyncFindsAMessageThatStartsAChunkAfterABodyWithoutANewline) {
  // Keep-alive JSON: the body lost to the gap ends in '}', so the next start line follows no '\n';
  // it starts the next read, as a client writes a request's head in one write.
  for (Http1Kind kind : {Http1Kind::kRequest, Http1Kind::kResponse}) {
    Recorder r;
    Http1Parser p(kind, r);
    const bool req = kind == Http1Kind::kRequest;
    p.feed(req ? "POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"partial"
               : "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial");
    p.resync();
    p.feed("\":\"lost tail of the body\"}");
    p.feed(req ? "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}" : "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
    p.feed(req ? "POST /c HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}" : "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}");
    r.flush();
    if (req)
      EXPECT_EQ(r.ev, (std::vector<std::string>{"head POST /a", "body {\"partial", "head POST /b", "body {}", "end",
                                                "head POST /c", "body {}", "end"}));
    else
      EXPECT_EQ(r.ev, (std::vector<std::string>{"head 200", "body {\"partial", "head 201", "body {}", "end",
                                                "head 202", "body {}", "end"}));
  }
}

TEST(Http1Parser, EofMidBodyReportsCut) {
  Recorder r;
  Http1Parser p(Http1Kind::kResponse, r);
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_FALSE(p.eof());
  EXPECT_TRUE(p.in_message());
}

}  // namespace
}  // namespace llmtap
