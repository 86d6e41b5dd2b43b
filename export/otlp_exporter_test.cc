#include "export/otlp_exporter.h"

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <set>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "export/disk_spool.h"
#include "export/otlp_test_decode.h"
#include "export/otlp_test_receiver.h"
#include "export/redactor.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using nlohmann::json;
using testing::OtlpTestReceiver;
using testing::Reply;
using testing::TempDir;

const std::string kApiKey = "sk-proj-SpoolSecret0123456789abcdefghijKLMN";

// Captures everything logged while alive.
struct LogCapture {
  LogCapture() {
    previous = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    spdlog::set_level(spdlog::level::debug);
  }
  ~LogCapture() { spdlog::set_default_logger(previous); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out.str();
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous;
};

OtlpConfig config_for(const OtlpTestReceiver& r, const std::string& spool_dir = "") {
  OtlpConfig c;
  c.endpoint = r.base_url() + "/v1/traces";
  c.resource.attributes = {{"service.name", std::string("export-test")}};
  c.batch_delay = std::chrono::milliseconds(20);
  c.initial_backoff = std::chrono::milliseconds(50);
  c.max_backoff = std::chrono::milliseconds(200);
  c.timeout = std::chrono::milliseconds(5000);
  c.spool_dir = spool_dir;
  return c;
}

// Trace N with K spans, with credentials planted where redaction must catch them.
Trace secret_trace(int n, int spans = 3) {
  Trace t = testing::numbered_trace(n, spans);
  t.spans.back().set("gen_ai.input.messages", std::string("[{\"content\":\"use " + kApiKey + "\"}]"));
  t.spans.back().set("http.request.header.x-api-key", kApiKey);
  return t;
}

std::vector<json> spans_of(const json& body) {
  std::vector<json> out;
  if (!body.is_object()) return out;
  for (const auto& rs : body["resourceSpans"])
    for (const auto& ss : rs["scopeSpans"])
      for (const auto& s : ss["spans"]) out.push_back(s);
  return out;
}

json parse_body(const testing::ReceivedRequest& r) {
  if (r.headers.count("content-type") && r.headers.at("content-type") == "application/x-protobuf")
    return testing::decode_otlp_protobuf(r.body);
  return json::parse(r.body, nullptr, false);
}

std::map<std::string, int> span_id_counts(const OtlpTestReceiver& r, bool only_2xx_accepted = true,
                                          const std::function<bool(std::size_t)>& accepted = nullptr) {
  std::map<std::string, int> counts;
  auto reqs = r.requests();
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (only_2xx_accepted && accepted && !accepted(i)) continue;
    for (const auto& s : spans_of(parse_body(reqs[i]))) counts[s["spanId"].get<std::string>()]++;
  }
  return counts;
}

TEST(OtlpExporter, DeliversOtlpJsonWithHeadersAndGzip) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  LogCapture logs;
  std::string error;
  auto env = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "OTEL_EXPORTER_OTLP_ENDPOINT") return receiver.base_url();
    if (name == "OTEL_EXPORTER_OTLP_HEADERS") return "Authorization=Basic%20c2VjcmV0LWhlYWRlcg%3D%3D,x-tenant=acme";
    if (name == "OTEL_EXPORTER_OTLP_COMPRESSION") return "gzip";
    if (name == "OTEL_SERVICE_NAME") return "support-bot";
    return std::nullopt;
  };
  auto cfg = OtlpConfig::from_env(env, &error, "agent.py", 77);
  ASSERT_TRUE(cfg) << error;
  cfg->initial_backoff = std::chrono::milliseconds(20);
  // First answer is a 503 so the failure path logs too: nothing secret may appear in the log.
  receiver.set_handler([](const testing::ReceivedRequest&, std::size_t i) {
    return i == 0 ? Reply{503, {}, "busy"} : Reply{};
  });
  {
    auto exporter = OtlpExporter::create(*cfg, &error);
    ASSERT_TRUE(exporter) << error;
    exporter->on_trace(testing::support_trace());
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return exporter->stats().spans_delivered == 6; }));
    exporter->flush();
  }
  auto reqs = receiver.requests();
  ASSERT_GE(reqs.size(), 2u);
  const auto& r = reqs.back();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/traces");
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.at("content-encoding"), "gzip");
  EXPECT_EQ(r.headers.at("authorization"), "Basic c2VjcmV0LWhlYWRlcg==");
  EXPECT_EQ(r.headers.at("x-tenant"), "acme");

  json body = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << "payload is not JSON";
  const auto& res = body["resourceSpans"][0]["resource"]["attributes"];
  bool service = false, pid = false;
  for (const auto& kv : res) {
    if (kv["key"] == "service.name") service = kv["value"]["stringValue"] == "support-bot";
    if (kv["key"] == "process.pid") pid = kv["value"]["intValue"] == "77";
  }
  EXPECT_TRUE(service);
  EXPECT_TRUE(pid);
  auto spans = spans_of(body);
  Trace want = testing::support_trace();
  ASSERT_EQ(spans.size(), want.spans.size());
  const re2::RE2 hex32("[0-9a-f]{32}"), hex16("[0-9a-f]{16}");
  for (std::size_t i = 0; i < spans.size(); ++i) {
    EXPECT_TRUE(re2::RE2::FullMatch(spans[i]["traceId"].get<std::string>(), hex32));
    EXPECT_TRUE(re2::RE2::FullMatch(spans[i]["spanId"].get<std::string>(), hex16));
    EXPECT_EQ(spans[i]["spanId"], want.spans[i].span_id);
    EXPECT_EQ(spans[i].value("parentSpanId", ""), want.spans[i].parent_span_id);
    EXPECT_EQ(spans[i]["startTimeUnixNano"], std::to_string(want.spans[i].start_ns));
    EXPECT_EQ(spans[i]["endTimeUnixNano"], std::to_string(want.spans[i].end_ns));
  }
  std::string log = logs.text();
  EXPECT_NE(log.find("HTTP 503"), std::string::npos);
  EXPECT_EQ(log.find("c2VjcmV0LWhlYWRlcg"), std::string::npos);  // header values never logged
}

TEST(OtlpExporter, DeliversProtobuf) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  auto cfg = config_for(receiver);
  cfg.protocol = "http/protobuf";
  std::string error;
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    exporter->on_trace(testing::support_trace());
    exporter->flush();
  }
  ASSERT_EQ(receiver.count(), 1u);
  auto r = receiver.requests()[0];
  EXPECT_EQ(r.headers.at("content-type"), "application/x-protobuf");
  auto spans = spans_of(testing::decode_otlp_protobuf(r.body));
  ASSERT_EQ(spans.size(), 6u);
  EXPECT_EQ(spans[1]["parentSpanId"], "b7ad6b7169203331");
  EXPECT_EQ(spans[5]["status"]["code"], 2);
}

TEST(OtlpExporter, BatchesBySizeAndByDelay) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  auto cfg = config_for(receiver);
  cfg.max_batch_spans = 4;
  cfg.batch_delay = std::chrono::hours(1);  // only size (and flush) can trigger
  std::string error;
  auto exporter = OtlpExporter::create(cfg, &error);
  ASSERT_TRUE(exporter) << error;
  for (int i = 0; i < 10; ++i) exporter->on_trace(testing::numbered_trace(i));
  ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return receiver.count() >= 2; }));
  EXPECT_EQ(receiver.count(), 2u);  // the last 2 spans wait for the delay
  exporter->flush();
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(spans_of(parse_body(reqs[0])).size(), 4u);
  EXPECT_EQ(spans_of(parse_body(reqs[1])).size(), 4u);
  EXPECT_EQ(spans_of(parse_body(reqs[2])).size(), 2u);

  auto cfg2 = config_for(receiver);
  cfg2.batch_delay = std::chrono::milliseconds(30);
  auto by_delay = OtlpExporter::create(cfg2, &error);
  by_delay->on_trace(testing::numbered_trace(99));
  EXPECT_TRUE(OtlpTestReceiver::wait_until([&] { return receiver.count() == 4; }));  // no flush needed
}

TEST(OtlpExporter, HonoursRetryAfter) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  receiver.set_handler([](const testing::ReceivedRequest&, std::size_t i) {
    return i == 0 ? Reply{429, {{"Retry-After", "1"}}, "slow down"} : Reply{};
  });
  TempDir dir;
  auto cfg = config_for(receiver, dir.path + "/spool");
  cfg.initial_backoff = std::chrono::milliseconds(10);  // far shorter than Retry-After
  std::string error;
  auto exporter = OtlpExporter::create(cfg, &error);
  ASSERT_TRUE(exporter) << error;
  exporter->on_trace(testing::numbered_trace(1, 2));
  ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return exporter->stats().spans_delivered == 2; }));
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].at - reqs[0].at, std::chrono::milliseconds(990));
  EXPECT_EQ(exporter->stats().failed_attempts, 1u);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::chrono::milliseconds(0));  // in the past
  EXPECT_EQ(parse_retry_after("soon"), std::nullopt);
}

TEST(OtlpExporter, PermanentRejectionIsNotRetried) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  receiver.set_handler([](const testing::ReceivedRequest&, std::size_t) { return Reply{400, {}, "bad"}; });
  TempDir dir;
  std::string error;
  {
    auto exporter = OtlpExporter::create(config_for(receiver, dir.path + "/spool"), &error);
    ASSERT_TRUE(exporter) << error;
    exporter->on_trace(testing::numbered_trace(1, 2));
    exporter->flush();
    EXPECT_EQ(exporter->stats().spans_rejected, 2u);
    EXPECT_EQ(exporter->stats().batches_spooled, 0u);
  }
  EXPECT_EQ(receiver.count(), 1u);
}

// The receiver answers 503, then is down, then recovers; the exporter is replaced in the middle
// (a restart sharing the spool). Every span arrives exactly once; the spool never holds the key.
TEST(OtlpExporter, OutageAndRestartDeliverEverySpanExactlyOnce) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  std::atomic<bool> healthy{false};
  receiver.set_handler([&](const testing::ReceivedRequest&, std::size_t) {
    return healthy ? Reply{} : Reply{503, {}, "unavailable"};
  });
  TempDir dir;
  std::string spool = dir.path + "/spool";
  auto cfg = config_for(receiver, spool);
  cfg.max_batch_spans = 6;
  cfg.flush_timeout = std::chrono::milliseconds(300);  // flush() retries until then
  std::string error;
  std::set<std::string> sent;
  auto send = [&](TraceSink& sink, int from, int to) {
    for (int i = from; i < to; ++i) {
      Trace t = secret_trace(i);
      for (const auto& s : t.spans) sent.insert(s.span_id);
      sink.on_trace(t);
    }
  };

  // Phase 1: 503s. The first exporter retries, spools, and stops.
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    auto* raw = exporter.get();
    RedactingSink sink(std::move(exporter), /*capture_content=*/true);
    send(sink, 0, 10);
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return raw->stats().failed_attempts >= 3; }));
    sink.flush();
    EXPECT_GE(raw->stats().batches_spooled, 1u);
    EXPECT_EQ(raw->stats().spans_delivered, 0u);
  }
  ASSERT_GE(testing::file_count(spool), 1u);
  EXPECT_FALSE(testing::any_file_contains(spool, kApiKey));
  EXPECT_TRUE(testing::any_file_contains(spool, *sent.begin()));  // the grep sees span data
  std::size_t refused_before = receiver.count();

  // Phase 2: the endpoint is down (connection refused); a new exporter on the same spool.
  std::uint16_t port = receiver.port();
  receiver.stop();
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    auto* raw = exporter.get();
    RedactingSink sink(std::move(exporter), /*capture_content=*/true);
    send(sink, 10, 15);
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return raw->stats().failed_attempts >= 2; }));
    EXPECT_FALSE(testing::any_file_contains(spool, kApiKey));

    // Phase 3: the endpoint recovers on the same address.
    healthy = true;
    ASSERT_TRUE(receiver.start(port));
    send(sink, 15, 17);
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] {
      return span_id_counts(receiver, true, [&](std::size_t i) { return i >= refused_before; }).size() == sent.size();
    })) << "not every span arrived";
    sink.flush();
  }
  auto counts = span_id_counts(receiver, true, [&](std::size_t i) { return i >= refused_before; });
  EXPECT_EQ(counts.size(), sent.size());
  for (const auto& id : sent) EXPECT_EQ(counts[id], 1) << id;
  EXPECT_EQ(testing::file_count(spool), 0u);
  for (const auto& r : receiver.requests()) EXPECT_EQ(r.body.find(kApiKey), std::string::npos);
}

// Two runs with different endpoints or content settings: what the first spooled is never
// delivered by the second; the same endpoint and setting pick it up.
TEST(OtlpExporter, SpooledBatchesGoOnlyWhereAndAsTheyWereMeant) {
  OtlpTestReceiver a, b;
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  const std::uint16_t a_port = a.port();
  TempDir dir;
  const std::string spool = dir.path + "/spool";
  std::string error;
  auto run = [&](const OtlpTestReceiver& to, bool capture, int trace_no) {
    auto cfg = config_for(to, spool);
    cfg.capture_content = capture;
    cfg.flush_timeout = std::chrono::milliseconds(1500);
    auto exporter = OtlpExporter::create(cfg, &error);
    EXPECT_TRUE(exporter) << error;
    if (!exporter) return;
    exporter->on_trace(testing::numbered_trace(trace_no, 2));
    exporter->flush();
  };
  auto received_traces = [](const OtlpTestReceiver& r) {
    std::set<std::string> ids;
    for (const auto& req : r.requests())
      for (const auto& s : spans_of(parse_body(req))) ids.insert(s["traceId"].get<std::string>());
    return ids;
  };
  const std::string t1 = testing::numbered_trace(1, 2).spans[0].trace_id;
  const std::string t2 = testing::numbered_trace(2, 2).spans[0].trace_id;
  const std::string t3 = testing::numbered_trace(3, 2).spans[0].trace_id;

  a.stop();
  run(a, /*capture=*/true, 1);  // A is down: trace 1 is spooled for A, with content
  ASSERT_GE(testing::file_count(spool), 1u);
  {
    LogCapture log;
    run(b, /*capture=*/true, 2);  // another endpoint: trace 1 must not go to B
    EXPECT_NE(log.text().find("dropped 1 batch(es), 2 span(s) spooled for another endpoint"), std::string::npos)
        << log.text();
  }
  EXPECT_EQ(received_traces(b), (std::set<std::string>{t2}));

  run(a, /*capture=*/true, 3);  // A still down: trace 3 spooled for A with content
  ASSERT_TRUE(a.start(a_port));
  run(a, /*capture=*/false, 4);  // A, but without content capture: trace 3 is dropped
  auto at_a = received_traces(a);
  EXPECT_EQ(at_a.count(t3), 0u);
  EXPECT_EQ(at_a.count(t1), 0u);
  EXPECT_EQ(at_a.size(), 1u);

  a.stop();
  run(a, /*capture=*/false, 5);  // spooled for A without content
  ASSERT_TRUE(a.start(a_port));
  run(a, /*capture=*/false, 6);  // same endpoint and setting: delivered
  EXPECT_EQ(received_traces(a).count(testing::numbered_trace(5, 2).spans[0].trace_id), 1u);
  EXPECT_EQ(testing::file_count(spool), 0u);
}

// SIGTERM during a short outage: flush() keeps retrying with backoff until the stop deadline, so
// the endpoint gets every span and nothing is left in the spool.
TEST(OtlpExporter, ShutdownRetriesUntilTheDeadlineAndDeliversEverything) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  receiver.set_handler([](const testing::ReceivedRequest&, std::size_t i) {
    return i < 3 ? Reply{503, {}, "unavailable"} : Reply{};
  });
  TempDir dir;
  auto cfg = config_for(receiver, dir.path + "/spool");
  cfg.batch_delay = std::chrono::seconds(30);  // nothing goes out before the flush
  cfg.initial_backoff = std::chrono::milliseconds(100);
  cfg.max_backoff = std::chrono::milliseconds(400);
  cfg.flush_timeout = std::chrono::milliseconds(1);  // stop_by() must win over it
  std::string error;
  LogCapture logs;
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    for (int i = 0; i < 3; ++i) exporter->on_trace(testing::numbered_trace(i, 4));
    exporter->stop_by(std::chrono::steady_clock::now() + std::chrono::seconds(20));
    exporter->flush();
    auto s = exporter->stats();
    EXPECT_EQ(s.spans_delivered, 12u);
    EXPECT_EQ(s.failed_attempts, 3u);
    EXPECT_EQ(s.spool_files, 0u);
  }
  EXPECT_EQ(receiver.count(), 4u);
  EXPECT_EQ(span_id_counts(receiver, true, [](std::size_t i) { return i >= 3; }).size(), 12u);
  EXPECT_EQ(testing::file_count(dir.path + "/spool"), 0u);
  EXPECT_NE(logs.text().find("delivered 12 span(s) in 1 batch(es); none left in the spool"), std::string::npos)
      << logs.text();
}

// An outage longer than the stop deadline: what was delivered before stays delivered, exactly the
// rest waits in the spool, and the next exporter on that spool delivers it (each span once).
TEST(OtlpExporter, OutageBeyondTheDeadlineSpoolsExactlyTheRest) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  std::atomic<bool> healthy{false};
  receiver.set_handler([&](const testing::ReceivedRequest&, std::size_t i) {
    return i == 0 || healthy ? Reply{} : Reply{503, {}, "unavailable"};
  });
  TempDir dir;
  auto cfg = config_for(receiver, dir.path + "/spool");
  cfg.max_batch_spans = 4;
  std::string error;
  LogCapture logs;
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    exporter->on_trace(testing::numbered_trace(0, 4));
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return exporter->stats().spans_delivered == 4; }));
    for (int i = 1; i < 4; ++i) exporter->on_trace(testing::numbered_trace(i, 4));
    auto start = std::chrono::steady_clock::now();
    exporter->stop_by(start + std::chrono::milliseconds(700));
    exporter->flush();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // bounded, not a timing check
    EXPECT_EQ(exporter->stats().spans_delivered, 4u);
    EXPECT_GE(exporter->stats().failed_attempts, 2u);  // it retried, not just tried once
  }
  EXPECT_NE(logs.text().find("delivered 4 span(s); 12 span(s) in 3 batch(es) wait in the spool"), std::string::npos)
      << logs.text();
  {
    // Opened with the exporter's policy: a spool of another policy would drop these batches.
    DiskSpool spool(cfg.spool_dir, 1 << 20, 100, cfg.delivery_policy());
    ASSERT_EQ(spool.open(), "");
    EXPECT_EQ(spool.spans(), 12u);
  }
  healthy = true;
  std::size_t before = receiver.count();
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return exporter->stats().spans_delivered == 12; }));
  }
  auto all = span_id_counts(receiver, true, [&](std::size_t i) { return i == 0 || i >= before; });
  EXPECT_EQ(all.size(), 16u);
  for (const auto& [id, n] : all) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(testing::file_count(cfg.spool_dir), 0u);
}

TEST(OtlpExporter, FlushIsBoundedAndSpoolsWhenDown) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  auto cfg_probe = config_for(receiver);
  receiver.stop();  // nothing listens on that port now
  TempDir dir;
  auto cfg = cfg_probe;
  cfg.spool_dir = dir.path + "/spool";
  cfg.flush_timeout = std::chrono::milliseconds(500);
  std::string error;
  auto exporter = OtlpExporter::create(cfg, &error);
  ASSERT_TRUE(exporter) << error;
  for (int i = 0; i < 5; ++i) exporter->on_trace(testing::numbered_trace(i, 2));
  exporter->flush();
  auto s = exporter->stats();
  EXPECT_EQ(s.spans_delivered, 0u);
  EXPECT_GE(s.batches_spooled, 1u);
  EXPECT_GE(s.spool_files, 1u);
  EXPECT_EQ(s.spans_dropped, 0u);
}

TEST(OtlpExporter, FlushAndShutdownDoNotWaitForAHangingEndpoint) {
  // A listener that never accepts: connects succeed, responses never come.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  TempDir dir;
  OtlpConfig cfg;
  cfg.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1/traces";
  cfg.timeout = std::chrono::minutes(5);  // far longer than the test may take
  cfg.flush_timeout = std::chrono::milliseconds(300);
  cfg.batch_delay = std::chrono::milliseconds(1);
  cfg.spool_dir = dir.path + "/spool";
  std::string error;
  auto start = std::chrono::steady_clock::now();
  {
    auto exporter = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(exporter) << error;
    exporter->on_trace(testing::numbered_trace(1, 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the request start hanging
    exporter->on_trace(testing::numbered_trace(2, 2));
    exporter->flush();
    EXPECT_EQ(exporter->stats().spans_delivered, 0u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(1));
  ::close(fd);
  // Nothing lost: both traces wait in the spool for the next run.
  DiskSpool spool(cfg.spool_dir, 1 << 20, 100, cfg.delivery_policy());  // as the next run of this config
  ASSERT_EQ(spool.open(), "");
  EXPECT_EQ(spool.spans(), 4u);
}

TEST(OtlpExporter, HttpsVerifiesAgainstConfiguredCa) {
  TempDir dir;
  std::string cert, key;
  ASSERT_TRUE(testing::make_self_signed_cert(dir.path, &cert, &key));
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start(0, cert, key));
  std::string error;
  {
    auto cfg = config_for(receiver);  // no extra CA: the self-signed cert must be refused
    cfg.flush_timeout = std::chrono::milliseconds(1000);
    LogCapture logs;
    auto untrusting = OtlpExporter::create(cfg, &error);
    ASSERT_TRUE(untrusting) << error;
    untrusting->on_trace(testing::numbered_trace(1));
    ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return untrusting->stats().failed_attempts >= 1; }));
    EXPECT_EQ(untrusting->stats().spans_delivered, 0u);
    EXPECT_NE(logs.text().find("verif"), std::string::npos) << logs.text();
  }
  EXPECT_EQ(receiver.count(), 0u);
  auto cfg = config_for(receiver);
  cfg.ca_file = cert;
  auto exporter = OtlpExporter::create(cfg, &error);
  ASSERT_TRUE(exporter) << error;
  exporter->on_trace(testing::numbered_trace(2));
  exporter->flush();
  EXPECT_EQ(exporter->stats().spans_delivered, 1u);
  ASSERT_EQ(receiver.count(), 1u);
}

}  // namespace
}  // namespace llmtap::exporting
