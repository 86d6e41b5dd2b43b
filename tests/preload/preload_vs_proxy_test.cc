// The two capture paths give the same spans: one client run goes through the proxy (HTTPS_PROXY,
// TLS intercepted with the proxy's CA) while the shim captures the same TLS plaintext inside the
// client. Each path feeds its own AsyncTap -> TraceBuilder; the resulting traces must be equal
// except for wall-clock times (each path observes the bytes at a slightly different moment).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "collector/async_tap.h"
#include "collector/collector_socket.h"
#include "proxy/proxy_auth.h"
#include "proxy/proxy_server.h"
#include "tests/preload/capture_fixture.h"
#include "trace/trace_builder.h"

namespace llmtap {
namespace {

struct TraceCollector : TraceSink {
  std::mutex mu;
  std::vector<Trace> traces;
  void on_trace(const Trace& t) override {
    std::lock_guard<std::mutex> lock(mu);
    traces.push_back(t);
  }
};

// Forwards calls to the trace builder and counts them, so the test can wait for them.
struct Tee : ModelCallSink {
  Tee(ModelCallSink& a, CallCollector& b) : builder(a), counter(b) {}
  void on_model_call(ModelCall call) override {
    counter.on_model_call(call);
    builder.on_model_call(std::move(call));
  }
  ModelCallSink& builder;
  CallCollector& counter;
};

struct Path {
  TraceCollector traces;
  TraceBuilder builder{TraceOptions{}, nullptr, traces};
  CallCollector calls;
  Tee tee{builder, calls};
  AsyncTap tap{tee};
};

std::string value_text(const AttrValue& v) {
  std::ostringstream out;
  std::visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      for (const auto& s : x) out << s << ",";
    } else {
      out << x;
    }
  }, v);
  return out.str();
}

// A trace as text without ids and times: what both capture paths must agree on.
std::string describe(const Trace& t) {
  // Durations measured on the wire differ by how each path observed the bytes.
  static const char* kVolatile[] = {"gen_ai.response.time_to_first_chunk"};
  std::vector<std::string> spans;
  for (const Span& s : t.spans) {
    std::vector<std::string> attrs;
    for (const Attribute& a : s.attributes) {
      if (std::find(std::begin(kVolatile), std::end(kVolatile), a.key) != std::end(kVolatile)) continue;
      attrs.push_back(a.key + "=" + value_text(a.value));
    }
    std::sort(attrs.begin(), attrs.end());
    std::string line = std::string(to_string(s.kind)) + " '" + s.name + "' parent=" +
                       (s.parent_span_id.empty() ? "none" : "set") + " error=" + (s.error ? "1" : "0") + " " +
                       s.status_message;
    for (const auto& a : attrs) line += "\n    " + a;
    spans.push_back(line);
  }
  std::sort(spans.begin() + 1, spans.end());  // root first, then the rest in a stable order
  std::string out;
  for (const auto& s : spans) out += s + "\n";
  return out;
}

std::vector<std::string> describe_all(std::vector<Trace> traces) {
  std::vector<std::string> out;
  for (const Trace& t : traces) out.push_back(describe(t));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PreloadVsProxyTest, SameRunGivesEqualSpansOnBothPaths) {
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << "needs Debian's /usr/bin/python3";
  Provider& provider = Provider::get();
  ASSERT_TRUE(provider.ok());
  char tmpl[] = "/tmp/llmtap-vs-proxy-XXXXXX";
  const std::string dir = mkdtemp(tmpl);

  Path via_proxy, via_shim;
  proxy::ProxyOptions popts;
  popts.listen = "127.0.0.1:0";
  popts.intercept_hosts = {"localhost"};
  popts.upstream_ca_files = {provider.ca()};
  popts.data_dir = dir;
  popts.allow_private_upstream = true;  // the simulated provider is the app's own target, on loopback
  proxy::ProxyServer proxy(popts, &via_proxy.tap);
  std::string error;
  const std::string proxy_addr = proxy.start(&error);
  ASSERT_FALSE(proxy_addr.empty()) << error;
  // As `llmtap run` does: the credential (created in the data directory) as the proxy URL's userinfo.
  const std::string proxy_url = proxy::proxy_url_with_credential(proxy_addr, proxy.credential());
  auto collector = CollectorSocket::start(dir + "/collector.sock", via_shim.tap, &error);
  ASSERT_NE(collector, nullptr) << error;

  const auto r = testing::run_child(
      {kPython, LLMTAP_TEST_DIR "/clients.py", "urllib", provider.base()},
      {{"LD_PRELOAD", LLMTAP_PRELOAD_SO}, {"LLMTAP_COLLECTOR_SOCKET", dir + "/collector.sock"},
       {"LLMTAP_HOSTS", "localhost"}, {"HTTPS_PROXY", proxy_url}, {"https_proxy", proxy_url},
       {"NO_PROXY", ""}, {"no_proxy", ""}, {"SSL_CERT_FILE", proxy.ca()->ca_cert_path()}});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_EQ(via_proxy.calls.wait_for(2).size(), 2u);
  ASSERT_EQ(via_shim.calls.wait_for(2).size(), 2u);
  collector->stop();
  proxy.stop();
  for (Path* p : {&via_proxy, &via_shim}) {
    p->tap.stop();
    p->builder.close_all(now_ns() + 3600'000'000'000);
  }
  ASSERT_FALSE(via_proxy.traces.traces.empty());
  const auto a = describe_all(via_proxy.traces.traces);
  const auto b = describe_all(via_shim.traces.traces);
  ASSERT_EQ(a.size(), b.size());
  std::string all;
  for (const auto& t : a) all += t;
  // The traces carry the substance of the calls, so equality means something.
  EXPECT_NE(all.find("gen_ai.request.model=gpt-4o-mini"), std::string::npos) << all;
  EXPECT_NE(all.find("gen_ai.usage.input_tokens=8"), std::string::npos) << all;
  EXPECT_NE(all.find("gen_ai.request.stream=1"), std::string::npos) << all;
  std::filesystem::remove_all(dir);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "proxy:\n" << a[i] << "\npreload:\n" << b[i];
}

}  // namespace
}  // namespace llmtap
