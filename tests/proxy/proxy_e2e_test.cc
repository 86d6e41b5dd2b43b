// End-to-end tests of the proxy: real curl and raw-socket clients, the proxy in-process, and a local
// TLS mock provider (tests/proxy/mock_upstream.py) whose certificate comes from a test CA made here.
// Everything is loopback, port 0.
#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "common/test_source_dir.h"
#include "proxy/certificate_authority.h"
#include "proxy/proxy_server.h"
#include "proxy/request_routing.h"
#include "tests/proxy/test_support.h"

namespace llmtap::test {
namespace {

namespace fs = std::filesystem;
using proxy::CertificateAuthority;

std::string make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "llmtap-proxy-test-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

// Issues a cert/key for 127.0.0.1 from a fresh CA in DIR; returns the CA certificate path.
std::string make_server_cert(const std::string& dir, const std::string& cert_out, const std::string& key_out) {
  std::string err;
  auto ca = CertificateAuthority::load_or_create(dir, &err);
  if (!ca) return "";
  auto leaf = ca->leaf_for("127.0.0.1", &err);
  FILE* c = std::fopen(cert_out.c_str(), "w");
  PEM_write_X509(c, leaf->cert);
  std::fclose(c);
  FILE* k = std::fopen(key_out.c_str(), "w");
  PEM_write_PrivateKey(k, leaf->key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  return ca->ca_cert_path();
}

int unused_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Refuses requests whose target contains "refuse-me", the way --enforce-budgets refuses a spent budget.
class RefuseMarkedGate final : public proxy::RequestGate {
 public:
  std::string refuse(const proxy::GateRequest& r) const override {
    if (r.target.find("refuse-me") == std::string_view::npos) return "";
    const std::string body = R"({"error":{"code":"refused_by_test_gate"}})";
    return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }
};

struct CurlResult {
  int exit_code = -1;
  int status = 0;
  std::string headers;
  std::string body;
  std::string err;
};

class ProxyE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_ = std::make_shared<std::ostringstream>();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);

    dir_ = new std::string(make_temp_dir());
    const std::string& d = *dir_;
    test_ca_ = new std::string(make_server_cert(d + "/testca", d + "/good.pem", d + "/good-key.pem"));
    make_server_cert(d + "/badca", d + "/bad.pem", d + "/bad-key.pem");  // a CA the proxy does not trust
    ASSERT_FALSE(test_ca_->empty());

    std::string br_raw;
    for (int i = 0; i < 300; ++i) br_raw += "{\"content\":\"brotli compressed chunk " + std::to_string(i) + "\"}\n";
    std::string br(BrotliEncoderMaxCompressedSize(br_raw.size()), '\0');
    std::size_t br_size = br.size();
    ASSERT_TRUE(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, br_raw.size(),
                                      reinterpret_cast<const uint8_t*>(br_raw.data()), &br_size,
                                      reinterpret_cast<uint8_t*>(br.data())));
    br.resize(br_size);
    write_file(d + "/body.br", br);

    std::string mock = std::string(llmtap::test_support::source_dir()) + "/tests/proxy/mock_upstream.py";
    good_ = new ChildServer;
    ASSERT_TRUE(good_->start({"python3", mock, "--cert", d + "/good.pem", "--key", d + "/good-key.pem", "--br-file",
                              d + "/body.br"}));
    bad_ = new ChildServer;
    ASSERT_TRUE(bad_->start({"python3", mock, "--cert", d + "/bad.pem", "--key", d + "/bad-key.pem"}));
    plain_ = new ChildServer;
    ASSERT_TRUE(plain_->start({"python3", mock}));

    // A listener that never accepts: connects succeed (backlog), TLS handshakes never answer.
    silent_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(silent_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(silent_fd_, 16);
    socklen_t len = sizeof a;
    getsockname(silent_fd_, reinterpret_cast<sockaddr*>(&a), &len);

    tap_ = new RecordingTap;
    proxy::ProxyOptions o;
    o.credential = TEST_CREDENTIAL;
    o.listen = "127.0.0.1:0";
    o.data_dir = d + "/llmtap";
    o.upstreams = {{"openai", "https://127.0.0.1:" + std::to_string(good_->port())},
                   {"anthropic", "https://127.0.0.1:" + std::to_string(bad_->port())},
                   {"gemini", "https://127.0.0.1:" + std::to_string(unused_port())},
                   {"groq", "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port))},
                   {"plain", "http://127.0.0.1:" + std::to_string(plain_->port()) + "/v1"}};
    o.upstream_ca_files = {*test_ca_};
    o.handshake_timeout = std::chrono::milliseconds(1500);
    // The mock upstreams live on loopback, and absolute-form requests name them directly.
    o.allow_private_upstream = true;
    o.gate = std::make_shared<RefuseMarkedGate>();
    server_ = new proxy::ProxyServer(o, tap_);
    std::string err;
    std::string addr = server_->start(&err);
    ASSERT_FALSE(addr.empty()) << err;
    port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
    llmtap_ca_ = new std::string(server_->ca()->ca_cert_path());
  }

  static void TearDownTestSuite() {
    server_->stop();
    delete server_;
    delete tap_;
    delete good_;
    delete bad_;
    delete plain_;
    close(silent_fd_);
    fs::remove_all(*dir_);
    delete dir_;
    delete test_ca_;
    delete llmtap_ca_;
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("null"));
  }

  static std::string proxy_url() { return "http://127.0.0.1:" + std::to_string(port_); }
  // What HTTPS_PROXY holds: the credential as userinfo (sent as Proxy-Authorization).
  static std::string proxy_auth_url() { return "http://llmtap:" TEST_CREDENTIAL "@127.0.0.1:" + std::to_string(port_); }
  static std::string good_url() { return "https://127.0.0.1:" + std::to_string(good_->port()); }

  // curl with output captured to files; EXTRA goes before the URL.
  static CurlResult curl(std::vector<std::string> extra, const std::string& url, std::vector<std::string> env = {}) {
    static int n = 0;
    std::string base = *dir_ + "/curl" + std::to_string(++n);
    std::vector<std::string> argv = {"env", "-u", "http_proxy", "-u", "https_proxy", "-u", "HTTP_PROXY", "-u",
                                     "HTTPS_PROXY", "-u", "ALL_PROXY", "-u", "all_proxy", "-u", "NO_PROXY", "-u",
                                     "no_proxy"};
    argv.insert(argv.end(), env.begin(), env.end());
    for (const auto& s : {"curl", "-sS", "--max-time", "20", "-o"}) argv.push_back(s);
    argv.push_back(base + ".body");
    argv.push_back("-D");
    argv.push_back(base + ".headers");
    argv.push_back("-w");
    argv.push_back("%{http_code}");
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    auto r = run_command(argv);
    CurlResult c;
    c.exit_code = r.exit_code;
    c.status = std::atoi(r.out.c_str());
    c.err = r.err;
    c.headers = read_file(base + ".headers");
    // Keep the final response's header block (a proxy CONNECT's or 100 Continue's come first).
    if (auto last = c.headers.rfind("\r\n\r\nHTTP/"); last != std::string::npos) c.headers.erase(0, last + 4);
    c.body = read_file(base + ".body");
    return c;
  }
  static CurlResult via_mitm(const std::string& path, std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"-x", proxy_auth_url(), "--cacert", *llmtap_ca_});
    return curl(extra, "https://api.openai.com" + path);
  }
  static CurlResult via_gateway(const std::string& path, std::vector<std::string> extra = {}) {
    return curl(extra, proxy_url() + TEST_GW "/openai" + path);
  }
  static CurlResult direct(const std::string& path) {
    return curl({"--noproxy", "*", "--cacert", *test_ca_}, good_url() + path);
  }

  // The body curl wrote equals what the upstream sent, by SHA-256, and equals a direct fetch.
  static void expect_exact_body(const CurlResult& r, const std::string& path) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.status, 200) << r.headers;
    std::string expected = header_value(r.headers, "x-body-sha256");
    ASSERT_EQ(expected.size(), 64u) << r.headers;
    EXPECT_EQ(sha256_hex(r.body), expected);
    CurlResult d = direct(path);
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(sha256_hex(d.body), sha256_hex(r.body));
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* test_ca_ = nullptr;
  static inline std::string* llmtap_ca_ = nullptr;
  static inline ChildServer* good_ = nullptr;
  static inline ChildServer* bad_ = nullptr;
  static inline ChildServer* plain_ = nullptr;
  static inline int silent_fd_ = -1;
  static inline RecordingTap* tap_ = nullptr;
  static inline proxy::ProxyServer* server_ = nullptr;
  static inline int port_ = 0;
  static inline std::shared_ptr<std::ostringstream> log_;
};

// ---- MITM through HTTPS_PROXY, curl trusting only the llmtap CA ----

TEST_F(ProxyE2E, MitmJsonThroughHttpsProxyEnv) {
  auto r = curl({"--cacert", *llmtap_ca_}, "https://api.openai.com/v1/json", {"HTTPS_PROXY=" + proxy_auth_url()});
  expect_exact_body(r, "/v1/json");
  EXPECT_NE(r.body.find("chatcmpl-1"), std::string::npos);
}

TEST_F(ProxyE2E, MitmSseStreaming) { expect_exact_body(via_mitm("/v1/sse?gap_ms=20"), "/v1/sse?gap_ms=20"); }
TEST_F(ProxyE2E, MitmGzipStaysCompressed) {
  auto r = via_mitm("/v1/gzip");
  expect_exact_body(r, "/v1/gzip");
  EXPECT_EQ(header_value(r.headers, "content-encoding"), "gzip");
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);  // gzip magic: not decoded on the way
}
TEST_F(ProxyE2E, MitmBrotliStaysCompressed) {
  auto r = via_mitm("/v1/br");
  expect_exact_body(r, "/v1/br");
  EXPECT_EQ(header_value(r.headers, "content-encoding"), "br");
}
TEST_F(ProxyE2E, MitmLargeBody) { expect_exact_body(via_mitm("/v1/big?kb=4096"), "/v1/big?kb=4096"); }

TEST_F(ProxyE2E, MitmCertificateIsLlmtapLeafWithSan) {
  // Without the llmtap CA the intercepted connection is not trusted: the client sees our leaf.
  auto r = curl({"-x", proxy_auth_url(), "--cacert", *test_ca_}, "https://api.openai.com/v1/json");
  EXPECT_EQ(r.exit_code, 60) << r.err;  // peer certificate cannot be authenticated
}

// ---- gateway routes ----

TEST_F(ProxyE2E, GatewayJson) { expect_exact_body(via_gateway("/v1/json"), "/v1/json"); }
TEST_F(ProxyE2E, GatewaySse) { expect_exact_body(via_gateway("/v1/sse?gap_ms=20"), "/v1/sse?gap_ms=20"); }
TEST_F(ProxyE2E, GatewayGzip) { expect_exact_body(via_gateway("/v1/gzip"), "/v1/gzip"); }
TEST_F(ProxyE2E, GatewayBrotli) { expect_exact_body(via_gateway("/v1/br"), "/v1/br"); }

TEST_F(ProxyE2E, GatewayRewritesHostAndDropsProxyHeaders) {
  auto r = via_gateway("/v1/headers", {"-H", "Proxy-Authorization: Basic Zm9vOmJhcg=="});
  ASSERT_EQ(r.status, 200) << r.err;
  auto headers = nlohmann::json::parse(r.body);
  std::string host;
  for (const auto& kv : headers) {
    EXPECT_NE(ascii_lower(kv[0].get<std::string>()), "proxy-authorization");
    if (ascii_lower(kv[0].get<std::string>()) == "host") host = kv[1];
  }
  EXPECT_EQ(host, "127.0.0.1:" + std::to_string(good_->port()));
}

TEST_F(ProxyE2E, GatewayPathPrefixOverPlainHttpUpstream) {
  // --upstream plain=http://127.0.0.1:PORT/v1: /plain/json -> /v1/json on a plain-HTTP upstream.
  auto r = curl({}, proxy_url() + TEST_GW "/plain/json");
  ASSERT_EQ(r.status, 200) << r.err;
  EXPECT_EQ(sha256_hex(r.body), header_value(r.headers, "x-body-sha256"));
}

TEST_F(ProxyE2E, UnknownGatewayRouteIs404Json) {
  auto r = curl({}, proxy_url() + TEST_GW "/nope/v1/json");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["cause"], "unknown_route");
}

TEST_F(ProxyE2E, AbsoluteFormPlainHttp) {
  auto r = curl({"-x", proxy_auth_url()}, "http://127.0.0.1:" + std::to_string(plain_->port()) + "/v1/json");
  ASSERT_EQ(r.status, 200) << r.err;
  EXPECT_EQ(sha256_hex(r.body), header_value(r.headers, "x-body-sha256"));
}

// ---- tunnel ----

TEST_F(ProxyE2E, NonProviderConnectIsBlindTunnel) {
  // The client trusts only the test CA: this works only if it sees the upstream's own certificate.
  auto r = curl({"-x", proxy_auth_url(), "--cacert", *test_ca_}, good_url() + "/v1/json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(sha256_hex(r.body), header_value(r.headers, "x-body-sha256"));
  // And with only the llmtap CA it fails: nothing was intercepted.
  auto m = curl({"-x", proxy_auth_url(), "--cacert", *llmtap_ca_}, good_url() + "/v1/json");
  EXPECT_EQ(m.exit_code, 60) << m.err;
}

// ---- errors ----

TEST_F(ProxyE2E, BadUpstreamCertificateGives502WithReason) {
  for (const auto& r : {curl({}, proxy_url() + TEST_GW "/anthropic/v1/json"),
                        curl({"-x", proxy_auth_url(), "--cacert", *llmtap_ca_}, "https://api.anthropic.com/v1/json")}) {
    ASSERT_EQ(r.status, 502) << r.err << r.headers;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["error"]["cause"], "tls_verification_failed");
    EXPECT_EQ(j["error"]["host"], "127.0.0.1");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("certificate"), std::string::npos);
  }
}

TEST_F(ProxyE2E, RefusedUpstreamGives502) {
  auto r = curl({}, proxy_url() + TEST_GW "/gemini/v1beta/models");
  ASSERT_EQ(r.status, 502);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["cause"], "connection_refused");
}

TEST_F(ProxyE2E, SilentUpstreamGives504) {
  auto r = curl({}, proxy_url() + TEST_GW "/groq/v1/json");
  ASSERT_EQ(r.status, 504);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["cause"], "tls_handshake_timeout");
}

TEST_F(ProxyE2E, OversizedHeaderGives431) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.send("GET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(200 * 1024, 'a') + "\r\n\r\n");
  std::string resp = c.read_response();
  EXPECT_EQ(resp.rfind("HTTP/1.1 431 ", 0), 0u) << resp.substr(0, 200);
}

TEST_F(ProxyE2E, MalformedRequestGives400) {
  RawClient c(port_);
  c.send("THIS IS NOT HTTP\r\n\r\n");
  std::string resp = c.read_response();
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
}

// RFC 9112 §6.3: a request whose last transfer coding is not chunked cannot be framed. Beast alone
// would forward it bodiless and read its body as the next request (here: a smuggled GET).
TEST_F(ProxyE2E, TransferEncodingNotEndingInChunkedGives400AndCloses) {
  for (std::string te : {"xchunked", "chunked, identity", "gzip"}) {
    RawClient c(port_);
    ASSERT_TRUE(c.connected());
    c.send("POST /openai/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
           "\r\n\r\nGET /openai/v1/json?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string resp = c.read_response();
    EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << te << ": " << resp;
    EXPECT_TRUE(c.at_eof()) << te << ": the connection stays open after the 400";
  }
}

// ---- HTTP/1.1 semantics ----

TEST_F(ProxyE2E, HeadAnd204And304HaveNoBodiesAndKeepTheConnection) {
  RawClient c(port_);
  c.send("HEAD " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.read_response(/*head=*/true);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(header_value(head, "content-length"), "");
  EXPECT_EQ(body_of(head), "");
  for (const char* code : {"204", "304"}) {
    c.send(std::string("GET " TEST_GW "/openai/status/") + code + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = c.read_response();
    EXPECT_EQ(r.rfind(std::string("HTTP/1.1 ") + code, 0), 0u) << r;
    EXPECT_EQ(body_of(r), "");
  }
  // The connection is still in sync: a normal request after them works.
  c.send("GET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string last = c.read_response();
  EXPECT_EQ(last.rfind("HTTP/1.1 200", 0), 0u) << last;
  EXPECT_EQ(sha256_hex(body_of(last)), header_value(last, "x-body-sha256"));
}

TEST_F(ProxyE2E, ExpectContinueIsRelayed) {
  RawClient c(port_);
  std::string body(100000, 'x');
  c.send("POST " TEST_GW "/openai/v1/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  std::string interim = c.recv_some();
  ASSERT_EQ(interim.rfind("HTTP/1.1 100", 0), 0u) << interim;  // the body has not been sent yet
  c.send(body);
  std::string all;
  while (all.find("\r\n\r\n", interim.size()) == std::string::npos || body_of(all.substr(interim.size())).size() < body.size()) {
    std::string more = c.recv_some();
    if (more.empty()) break;
    all = c.received();
  }
  std::string final_resp = c.received().substr(c.received().find("HTTP/1.1 200"));
  EXPECT_EQ(body_of(final_resp), body);
}

TEST_F(ProxyE2E, EarlyUpstreamResponseReachesClientStillSending) {
  // The upstream answers 413 without reading the body; the client is still uploading.
  RawClient c(port_);
  std::size_t size = 4 * 1024 * 1024;
  c.send("POST " TEST_GW "/openai/status/413 HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
  std::string chunk(64 * 1024, 'b');
  for (std::size_t sent = 0; sent < size; sent += chunk.size())
    if (!c.send(chunk)) break;  // the proxy may close once the exchange is over
  std::string r = c.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r.substr(0, 200);
}

TEST_F(ProxyE2E, ChunkedRequestBodyIsForwardedUnchanged) {
  RawClient c(port_);
  c.send("POST " TEST_GW "/openai/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  c.send("6\r\n world\r\n0\r\n\r\n");
  std::string r = c.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_EQ(body_of(r), "hello world");
}

TEST_F(ProxyE2E, KeepAliveReusesOneUpstreamConnection) {
  RawClient c(port_);
  std::string first_conn;
  for (int i = 0; i < 4; ++i) {
    c.send("GET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = c.read_response();
    ASSERT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
    std::string conn = header_value(r, "x-mock-conn");
    if (i == 0) first_conn = conn;
    EXPECT_EQ(conn, first_conn) << "request " << i << " used a new upstream connection";
  }
}

TEST_F(ProxyE2E, PipelinedRequestsAreAnsweredInOrder) {
  RawClient c(port_);
  c.send("GET " TEST_GW "/openai/status/204 HTTP/1.1\r\nHost: x\r\n\r\nGET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 204", 0), 0u);
  std::string r = c.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
}

// ---- streaming timing: chunks reach the client as the upstream sends them ----

TEST_F(ProxyE2E, SseChunksArriveSpacedAsSent) {
  RawClient c(port_);
  c.send("GET " TEST_GW "/openai/v1/sse?n=5&gap_ms=200 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::vector<std::chrono::steady_clock::time_point> arrivals;  // when each new event became visible
  std::size_t seen = 0;
  std::string all;
  while (all.find("[DONE]") == std::string::npos) {
    std::string more = c.recv_some();
    ASSERT_FALSE(more.empty()) << "stream ended early: " << all;
    all += more;
    std::size_t count = 0;
    for (std::size_t p = all.find("data: {"); p != std::string::npos; p = all.find("data: {", p + 1)) ++count;
    for (; seen < count; ++seen) arrivals.push_back(std::chrono::steady_clock::now());
  }
  ASSERT_EQ(arrivals.size(), 5u);
  int spaced = 0;
  for (std::size_t i = 1; i < arrivals.size(); ++i)
    if (arrivals[i] - arrivals[i - 1] > std::chrono::milliseconds(100)) ++spaced;
  // A buffering proxy delivers all five at once; allow one gap squeezed by scheduling noise.
  EXPECT_GE(spaced, 3);
  EXPECT_GT(arrivals.back() - arrivals.front(), std::chrono::milliseconds(400));
}

// ---- the Tap ----

TEST_F(ProxyE2E, TapSeesExactClientBytesOnGateway) {
  std::string request =
      "POST " TEST_GW "/openai/v1/echo?tap=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world";
  std::string received;
  {
    RawClient c(port_);
    c.send(request);
    received = c.read_response();
    c.send("GET " TEST_GW "/openai/v1/sse?n=3&gap_ms=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    received += c.read_response();
    request = c.sent();
  }
  RecordingTap::Conn conn;
  ASSERT_TRUE(tap_->wait_closed("POST /openai/v1/echo?tap=1", &conn));
  EXPECT_EQ(conn.info.source, "gateway");
  EXPECT_EQ(conn.info.host, "api.openai.com");
  EXPECT_FALSE(conn.info.tls);
  // Exactly what the client sent, minus the credential segment of each request target.
  for (std::size_t at; (at = request.find(TEST_GW)) != std::string::npos;) request.erase(at, sizeof(TEST_GW) - 1);
  EXPECT_EQ(conn.c2s, request);
  EXPECT_EQ(conn.c2s.find(TEST_CREDENTIAL), std::string::npos);
  EXPECT_EQ(conn.s2c, received);
  EXPECT_TRUE(conn.monotonic);
}

// ---- access: only the credential's holder may use the proxy ----

TEST_F(ProxyE2E, ForwardProxyRequestsNeedTheCredential) {
  const std::string target = "http://127.0.0.1:" + std::to_string(plain_->port()) + "/v1/json";
  auto none = curl({"-x", proxy_url()}, target);
  EXPECT_EQ(none.status, 407);
  EXPECT_EQ(header_value(none.headers, "proxy-authenticate"), "Basic realm=\"llmtap\"");
  EXPECT_EQ(nlohmann::json::parse(none.body)["error"]["cause"], "proxy_auth_required");
  auto wrong = curl({"-x", "http://llmtap:wrong@127.0.0.1:" + std::to_string(port_)}, target);
  EXPECT_EQ(wrong.status, 407);
  RawClient c(port_);
  c.send("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n");
  std::string reply = c.read_response();
  EXPECT_EQ(reply.rfind("HTTP/1.1 407 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("Proxy-Authenticate: Basic"), std::string::npos) << reply;
}

TEST_F(ProxyE2E, GatewayRoutesNeedTheTokenSegment) {
  auto none = curl({}, proxy_url() + "/openai/v1/json");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(nlohmann::json::parse(none.body)["error"]["cause"], "gateway_token_required");
  auto wrong = curl({}, proxy_url() + "/t/not-the-credential/openai/v1/json");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"]["cause"], "gateway_token_invalid");
  // A gateway route also accepts the credential as Proxy-Authorization, but not a wrong one.
  auto basic = curl({"-H", "Proxy-Authorization: Basic bGxtdGFwOnRlc3RjcmVkZW50aWFsMDEyMzQ1Njc4OWFiY2RlZjAw"},
                    proxy_url() + "/openai/v1/json");
  EXPECT_EQ(basic.status, 200) << basic.err;
  auto empty = curl({"-H", "Proxy-Authorization: Basic bGxtdGFwOg=="}, proxy_url() + "/openai/v1/json");
  EXPECT_EQ(empty.status, 401);
  auto ok = via_gateway("/v1/json");
  EXPECT_EQ(ok.status, 200) << ok.err;
}

TEST_F(ProxyE2E, NonLoopbackListenNeedsAllowRemoteAndNoAuthOptsOut) {
  proxy::ProxyOptions o;
  o.listen = "0.0.0.0:0";
  o.ca = server_->ca();
  o.credential = TEST_CREDENTIAL;
  std::string err;
  EXPECT_TRUE(proxy::ProxyServer(o, nullptr).start(&err).empty());
  EXPECT_NE(err.find("--allow-remote"), std::string::npos) << err;

  o.listen = "127.0.0.1:0";
  o.require_auth = false;  // --no-auth
  o.upstreams = {{"openai", good_url()}};
  o.upstream_ca_files = {*test_ca_};
  proxy::ProxyServer open(o, nullptr);
  std::string addr = open.start(&err);
  ASSERT_FALSE(addr.empty()) << err;
  EXPECT_EQ(open.credential(), "");
  auto r = curl({}, "http://" + addr + "/openai/v1/json");
  EXPECT_EQ(r.status, 200) << r.err;
  open.stop();
}

// Apps may not make the proxy reach loopback or private addresses, however they spell them;
// the operator's own upstreams (--upstream, here on loopback) still work.
TEST_F(ProxyE2E, PrivateTargetsChosenByAppsAreRefused) {
  proxy::ProxyOptions o;
  o.listen = "127.0.0.1:0";
  o.ca = server_->ca();
  o.credential = TEST_CREDENTIAL;
  o.upstreams = {{"openai", good_url()}};
  o.upstream_ca_files = {*test_ca_};
  proxy::ProxyServer s(o, nullptr);
  std::string err, addr = s.start(&err);
  ASSERT_FALSE(addr.empty()) << err;
  const std::string proxy = "http://llmtap:" TEST_CREDENTIAL "@" + addr;
  const std::string port = std::to_string(plain_->port());
  for (const std::string host : {"127.0.0.1", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]", "localhost"}) {
    auto r = curl({"-x", proxy}, "http://" + host + ":" + port + "/v1/json");
    EXPECT_EQ(r.status, 403) << host;
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["cause"], "private_upstream_refused") << host;
  }
  int lport = std::stoi(addr.substr(addr.rfind(':') + 1));
  RawClient c(lport);
  c.send("CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic " +
         std::string("bGxtdGFwOnRlc3RjcmVkZW50aWFsMDEyMzQ1Njc4OWFiY2RlZjAw") + "\r\n\r\n");
  std::string reply = c.read_response();
  EXPECT_EQ(reply.rfind("HTTP/1.1 403 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("private_upstream_refused"), std::string::npos) << reply;
  auto gateway = curl({}, "http://" + addr + TEST_GW "/openai/v1/json");
  EXPECT_EQ(gateway.status, 200) << gateway.err;
  s.stop();
}

TEST_F(ProxyE2E, TapSeesPlaintextOfMitmConnection) {
  auto r = via_mitm("/v1/json?tap=mitm");
  ASSERT_EQ(r.status, 200);
  RecordingTap::Conn conn;
  ASSERT_TRUE(tap_->wait_closed("GET /v1/json?tap=mitm HTTP/1.1", &conn));
  EXPECT_EQ(conn.info.source, "proxy");
  EXPECT_EQ(conn.info.host, "api.openai.com");
  EXPECT_EQ(conn.info.port, 443);
  EXPECT_TRUE(conn.info.tls);
  EXPECT_NE(conn.s2c.find(r.body), std::string::npos);
}

// A fully qualified name (trailing dot) or another case is the same provider host: intercepted,
// not tunnelled blind past the capture.
TEST_F(ProxyE2E, TrailingDotConnectIsInterceptedToo) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.send("CONNECT API.OpenAI.com.:443 HTTP/1.1\r\nHost: API.OpenAI.com.:443\r\n"
         "Proxy-Authorization: Basic bGxtdGFwOnRlc3RjcmVkZW50aWFsMDEyMzQ1Njc4OWFiY2RlZjAw\r\n\r\n");
  std::string resp = c.read_response(true);
  ASSERT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  // A blind tunnel would have had to reach the real host before answering; an intercepted one
  // answers at once and terminates TLS itself. Now a real client through the same kind of tunnel:
  auto r = curl({"-x", proxy_auth_url(), "--cacert", *llmtap_ca_}, "https://api.openai.com.:443/v1/json?tap=dot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.status, 200) << r.headers;
  RecordingTap::Conn conn;
  ASSERT_TRUE(tap_->wait_closed("GET /v1/json?tap=dot HTTP/1.1", &conn));
  EXPECT_EQ(conn.info.source, "proxy");
  EXPECT_EQ(conn.info.host, "api.openai.com");
  EXPECT_TRUE(conn.info.tls);
}

TEST_F(ProxyE2E, ClientGivingUpReleasesTheExchangeAtOnce) {
  auto t0 = std::chrono::steady_clock::now();
  {
    RawClient c(port_);
    c.send("GET " TEST_GW "/openai/v1/slow?ms=6000&gaveup=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }  // the client closes while the upstream is still thinking
  RecordingTap::Conn conn;
  // The session (and its upstream connection) ends when the client leaves, not when the upstream answers.
  ASSERT_TRUE(tap_->wait_closed("GET /openai/v1/slow?ms=6000&gaveup=1", &conn, std::chrono::seconds(4)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(conn.s2c, "");
}

// ---- a gate's refusal reaches a client still sending its body ----

// The refusal goes out right after the request header; the rest of a large body is still on its way.
// Closing with it unread would reset the connection and could destroy the answer before the client
// read it: the proxy reads the rest of the body (bounded) and drops it, then closes.
TEST_F(ProxyE2E, GateRefusalReachesClientSendingALargeBody) {
  write_file(*dir_ + "/big-body.json", "{\"input\":\"" + std::string(3 << 20, 'a') + "\"}");
  const std::vector<std::string> post = {"-X", "POST", "-H", "Content-Type: application/json", "-H", "Expect:",
                                         "--data-binary", "@" + *dir_ + "/big-body.json"};
  for (int i = 0; i < 3; ++i) {
    for (const auto& r : {via_mitm("/v1/refuse-me", post), via_gateway("/v1/refuse-me", post)}) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.status, 429) << r.headers;
      EXPECT_NE(r.body.find("refused_by_test_gate"), std::string::npos) << r.body;
    }
  }
}

TEST_F(ProxyE2E, GateRefusalOfAChunkedBodyAndTheRestUntouched) {
  RawClient c(port_);
  c.send("POST " TEST_GW "/openai/v1/refuse-me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk(64 * 1024, 'b');
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 32; ++i) c.send(size + chunk + "\r\n");
  c.send("0\r\n\r\n");
  std::string reply = c.read_response();
  EXPECT_EQ(reply.rfind("HTTP/1.1 429", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("refused_by_test_gate"), std::string::npos);
  // Other traffic is forwarded as before.
  expect_exact_body(via_gateway("/v1/json"), "/v1/json");
}

// ---- credentials never reach the logs ----

TEST_F(ProxyE2E, CredentialsAreNeverLogged) {
  via_gateway("/v1/json?key=SECRET-QUERY-KEY", {"-H", "Authorization: Bearer sk-SECRET-BEARER", "-H",
                                                 "x-api-key: SECRET-XAPI", "-H", "x-goog-api-key: SECRET-GOOG"});
  curl({"-H", "api-key: SECRET-AZURE"}, proxy_url() + TEST_GW "/anthropic/v1/json");  // error path logs too
  std::string log = log_->str();
  EXPECT_NE(log.find("tls_verification_failed"), std::string::npos);  // the log is being captured
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
}

// ---- timeouts: nothing hangs ----

class ProxyTimeouts : public ProxyE2E {
 protected:
  // A separate server with short timeouts, so the shared one keeps realistic ones.
  std::unique_ptr<proxy::ProxyServer> start_short_timeouts(int* port) {
    proxy::ProxyOptions o;
    o.credential = TEST_CREDENTIAL;
    o.listen = "127.0.0.1:0";
    o.ca = server_->ca();
    o.upstreams = {{"openai", good_url()}};
    o.upstream_ca_files = {*test_ca_};
    o.header_read_timeout = std::chrono::milliseconds(300);
    o.idle_timeout = std::chrono::milliseconds(500);
    auto s = std::make_unique<proxy::ProxyServer>(o, nullptr);
    std::string err, addr = s->start(&err);
    EXPECT_FALSE(addr.empty()) << err;
    *port = std::stoi(addr.substr(addr.rfind(':') + 1));
    return s;
  }
};

TEST_F(ProxyTimeouts, SlowRequestHeaderIsClosed) {
  int port = 0;
  auto s = start_short_timeouts(&port);
  RawClient c(port);
  auto t0 = std::chrono::steady_clock::now();
  c.send("GET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n");  // never finished
  EXPECT_TRUE(c.at_eof());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // not the client's 10 s timeout
}

TEST_F(ProxyTimeouts, DribbledRequestHeaderHitsOneDeadline) {
  int port = 0;
  auto s = start_short_timeouts(&port);  // header read timeout 300 ms
  RawClient c(port);
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {  // one byte every 100 ms: each read is quick, the header never ends
    closed = !c.send("X");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    char b;
    closed = closed || ::recv(c.fd(), &b, 1, MSG_DONTWAIT) == 0;
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(ProxyTimeouts, SilentUpstreamResponseGets504) {
  int port = 0;
  auto s = start_short_timeouts(&port);
  RawClient c(port);
  c.send("GET " TEST_GW "/openai/v1/slow?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.read_response();
  ASSERT_EQ(r.rfind("HTTP/1.1 504", 0), 0u) << r;
  auto j = nlohmann::json::parse(body_of(r));
  EXPECT_EQ(j["error"]["cause"], "upstream_timeout");
  EXPECT_EQ(j["error"]["host"], "127.0.0.1");
}

TEST_F(ProxyTimeouts, IdleKeepAliveClientIsClosed) {
  int port = 0;
  auto s = start_short_timeouts(&port);
  RawClient c(port);
  c.send("GET " TEST_GW "/openai/v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 200", 0), 0u);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.at_eof());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // not the client's 10 s timeout
}

// ---- stop() ----

TEST_F(ProxyE2E, StopLetsInFlightStreamFinish) {
  // A separate server, so the shared one stays up for the other tests.
  proxy::ProxyOptions o;
  o.credential = TEST_CREDENTIAL;
  o.listen = "127.0.0.1:0";
  o.ca = server_->ca();
  o.upstreams = {{"openai", good_url()}};
  o.upstream_ca_files = {*test_ca_};
  proxy::ProxyServer s(o, nullptr);
  std::string err, addr = s.start(&err);
  ASSERT_FALSE(addr.empty()) << err;
  RawClient idle(std::stoi(addr.substr(addr.rfind(':') + 1)));  // an idle keep-alive client must not hold stop()
  RawClient c(std::stoi(addr.substr(addr.rfind(':') + 1)));
  c.send("GET " TEST_GW "/openai/v1/sse?n=4&gap_ms=150 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_FALSE(c.recv_some().empty());
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { s.stop(); });
  while (!c.recv_some().empty()) {
  }  // until the proxy closes the connection after the exchange
  stopper.join();
  EXPECT_NE(c.received().find("[DONE]"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
}

// ---- chunk frames are forwarded whole, as they arrive ----

// Appends to OUT what FD receives until OUT equals WANT, or 5 s pass without that (then OUT differs).
void receive_until(int fd, const std::string& want, std::string* out) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (*out != want && out->size() < want.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    out->append(buf, static_cast<std::size_t>(n));
  }
}

struct OwnedFd {
  int fd = -1;
  ~OwnedFd() {
    if (fd >= 0) close(fd);
  }
};

std::string chunk_frame(const std::string& payload) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  return size + payload + "\r\n";
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

TEST_F(ProxyE2E, ChunkFramesIncludingTheirCrlfAreForwardedBeforeTheNextChunk) {
  // The test itself is the upstream, so it sends the next chunk only after checking that the previous
  // one, closing CRLF included, went all the way through (an upstream pausing between SSE events).
  OwnedFd listener{socket(AF_INET, SOCK_STREAM, 0)};
  int lfd = listener.fd;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lfd, 4), 0);
  socklen_t alen = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &alen);

  RecordingTap tap;
  proxy::ProxyOptions o;
  o.credential = TEST_CREDENTIAL;
  o.listen = "127.0.0.1:0";
  o.ca = server_->ca();
  o.upstreams = {{"openai", "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port))}};
  proxy::ProxyServer s(o, &tap);
  std::string err, addr = s.start(&err);
  ASSERT_FALSE(addr.empty()) << err;

  std::optional<RawClient> client;
  client.emplace(std::stoi(addr.substr(addr.rfind(':') + 1)));
  RawClient& c = *client;
  ASSERT_TRUE(c.connected());
  // Request side: a chunked request body; its first frame must reach the upstream whole at once.
  c.send("POST " TEST_GW "/openai/v1/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  pollfd lp{lfd, POLLIN, 0};
  ASSERT_EQ(poll(&lp, 1, 5000), 1);
  OwnedFd upstream{accept(lfd, nullptr, nullptr)};  // closed before the proxy stops, even on failure
  int ufd = upstream.fd;
  ASSERT_GE(ufd, 0);
  std::string up_received;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto body_of_upstream = [&] {
    auto p = up_received.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : up_received.substr(p + 4);
  };
  while (body_of_upstream() != "5\r\nhello\r\n" && std::chrono::steady_clock::now() < deadline) {
    pollfd p{ufd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(ufd, buf, sizeof buf, 0);
    if (n <= 0) break;
    up_received.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(body_of_upstream(), "5\r\nhello\r\n") << "the request chunk's CRLF was held back";
  c.send("0\r\n\r\n");
  std::string up_expected = up_received + "0\r\n\r\n";
  receive_until(ufd, up_expected, &up_received);
  EXPECT_EQ(up_received, up_expected);

  // Response side: each frame must reach the client whole before the upstream sends the next.
  std::vector<std::string> pieces = {
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunk_frame("data: {\"a\":1}\n\n"),
      chunk_frame("data: {\"b\":2}\n\n"), chunk_frame("data: [DONE]\n\n"), "0\r\n\r\n"};
  std::string sent, client_received;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    ASSERT_TRUE(send_all(ufd, pieces[i]));
    sent += pieces[i];
    receive_until(c.fd(), sent, &client_received);
    ASSERT_EQ(client_received, sent) << "frame " << i << " did not arrive whole before the next was sent";
  }
  std::string request = c.sent();
  client.reset();  // closed: the session ends and the tap sees the connection close
  RecordingTap::Conn conn;
  ASSERT_TRUE(tap.wait_closed("POST /openai/v1/stream", &conn));
  request.erase(request.find(TEST_GW), sizeof(TEST_GW) - 1);  // the tap never sees the credential
  EXPECT_EQ(conn.c2s, request);
  EXPECT_EQ(conn.s2c, client_received);  // each byte once
  s.stop();
}

}  // namespace
}  // namespace llmtap::test
