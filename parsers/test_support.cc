#include "parsers/test_support.h"

#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "common/test_source_dir.h"

namespace llmtap::testing {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(llmtap::test_support::source_dir()) + "/parsers/testdata/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string compress(const std::string& kind, const std::string& data) {
  if (kind.empty()) return data;
  if (kind == "br") {
    std::string out(BrotliEncoderMaxCompressedSize(data.size()) + 64, '\0');
    std::size_t n = out.size();
    BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, data.size(),
                          reinterpret_cast<const uint8_t*>(data.data()), &n, reinterpret_cast<uint8_t*>(out.data()));
    out.resize(n);
    return out;
  }
  if (kind == "zstd") {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
    return out;
  }
  int bits = kind == "gzip" ? 31 : kind == "deflate" ? 15 : -15;
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string http_request(const std::string& method, const std::string& target, const std::string& host,
                         const std::string& body, const std::vector<std::string>& extra_headers) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& h : extra_headers) r += h + "\r\n";
  r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

std::string http_response(int status, const std::string& content_type, const std::string& body,
                          const std::string& content_encoding, std::size_t chunk_size) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type + "\r\n";
  if (!content_encoding.empty()) r += "Content-Encoding: " + content_encoding + "\r\n";
  if (chunk_size == 0) {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
  }
  r += "Transfer-Encoding: chunked\r\n\r\n";
  char hex[32];
  for (std::size_t i = 0; i < body.size(); i += chunk_size) {
    std::size_t n = std::min(chunk_size, body.size() - i);
    std::snprintf(hex, sizeof hex, "%zx;ext=1\r\n", n);
    r += hex + body.substr(i, n) + "\r\n";
  }
  r += "0\r\nX-Trailer: t\r\n\r\n";
  return r;
}

namespace {
std::vector<std::string_view> cut(const std::string& s, const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> parts;
  std::size_t prev = 0;
  for (std::size_t c : cuts) {
    if (c <= prev || c >= s.size()) continue;
    parts.emplace_back(s.data() + prev, c - prev);
    prev = c;
  }
  parts.emplace_back(s.data() + prev, s.size() - prev);
  return parts;
}
}  // namespace

std::vector<ModelCall> run_exchange(const ConnectionInfo& conn, const std::string& request,
                                    const std::string& response, const std::vector<std::size_t>& req_cuts,
                                    const std::vector<std::size_t>& resp_cuts, const ParserOptions& opts) {
  CollectingSink sink;
  ConnectionStitcher st(conn, 7, opts, sink);
  UnixNanos ts = 1000;
  for (auto p : cut(request, req_cuts)) st.data(Direction::kClientToServer, p, ts++);
  ts = 2000;
  for (auto p : cut(response, resp_cuts)) st.data(Direction::kServerToClient, p, ts++);
  st.close(9000);
  return sink.calls;
}

void for_each_feeding(const ExchangeSpec& spec, const std::function<void(const ModelCall&)>& check,
                      bool every_split_point) {
  std::string req = http_request(spec.method, spec.target, spec.host, spec.request_body, spec.request_headers);
  auto run_one = [&](const std::string& label, const std::string& resp, const std::vector<std::size_t>& req_cuts,
                     const std::vector<std::size_t>& resp_cuts) {
    if (::testing::Test::HasFailure()) return;  // one broken variant is enough to read
    SCOPED_TRACE(label);
    auto calls = run_exchange(spec.conn, req, resp, req_cuts, resp_cuts);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].timings.request_start, 1000);
    EXPECT_EQ(calls[0].timings.response_first_byte, 2000);
    check(calls[0]);
  };
  std::string plain = http_response(spec.status, spec.content_type, spec.response_body);
  run_one("whole", plain, {}, {});
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < plain.size(); ++i) bytewise.push_back(i);
  run_one("bytewise", plain, bytewise, bytewise);
  if (every_split_point) {
    for (std::size_t i = 1; i < plain.size(); ++i) run_one("split at " + std::to_string(i), plain, {i}, {i});
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t p = 0; p < plain.size();) {
      p += 1 + rng() % 97;
      cuts.push_back(p);
    }
    run_one("random round " + std::to_string(round), plain, cuts, cuts);
  }
  run_one("chunked", http_response(spec.status, spec.content_type, spec.response_body, "", 37), {}, bytewise);
  for (std::string enc : {"gzip", "deflate", "deflate-raw", "br", "zstd"}) {
    std::string body = compress(enc, spec.response_body);
    std::string header = enc == "deflate-raw" ? "deflate" : enc;
    std::string resp = http_response(spec.status, spec.content_type, body, header, enc == "br" ? 11 : 0);
    std::vector<std::size_t> resp_bytes;
    for (std::size_t i = 1; i < resp.size(); ++i) resp_bytes.push_back(i);
    run_one(enc + " whole", resp, {}, {});
    run_one(enc + " bytewise", resp, {}, resp_bytes);
  }
}

}  // namespace llmtap::testing
