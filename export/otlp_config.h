#pragma once
// OTLP/HTTP exporter settings from the standard OTEL_EXPORTER_OTLP_* variables (SPEC.md), plus the
// batching/retry/spool knobs that have no standard variable.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/key_value_list.h"
#include "export/otlp_encoder.h"

namespace llmtap::exporting {

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();  // getenv

struct OtlpConfig {
  std::string endpoint = "http://localhost:4318/v1/traces";  // full URL, used as is
  std::string protocol = "http/json";                         // or http/protobuf
  std::vector<std::pair<std::string, std::string>> headers;   // values are secrets: never logged
  bool gzip = false;
  std::string ca_file;                                        // extra CA on top of the system store
  std::chrono::milliseconds timeout{10000};                   // one request
  OtlpResource resource;

  std::size_t max_batch_spans = 512;
  std::chrono::milliseconds batch_delay{1000};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds flush_timeout{4000};  // SIGTERM must finish within 10 s overall
  std::size_t max_queue_spans = 200000;  // in memory, before the spool; beyond: dropped and counted

  // Whether spans carry content (prompts, outputs): part of each spooled batch's policy, so a batch
  // spooled with content is never delivered by a run that does not capture it (and vice versa).
  bool capture_content = false;

  std::string spool_dir;                 // "": batches awaiting retry stay in memory (lost at exit)
  std::uint64_t spool_max_bytes = 256ull << 20;
  std::size_t spool_max_files = 20000;

  // True when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
  static bool enabled_by(const EnvLookup& env);
  // Reads the variables; PROCESS_NAME/PID (if known) become resource attributes. Problems that do
  // not prevent exporting (an unknown protocol, an entry without '=') are logged and skipped;
  // unusable or unsafe settings (an endpoint URL without host or with spaces/controls, a header
  // name that is not a token or a value with CR/LF/controls, a missing CA file) fail with *error.
  // 16 hex digits fingerprinting where and how a batch is delivered: endpoint URL, headers,
  // protocol and content capture. A spooled batch goes out only under the same fingerprint.
  std::string delivery_policy() const;

  static std::optional<OtlpConfig> from_env(const EnvLookup& env, std::string* error,
                                            const std::string& process_name = "", long pid = 0);
};

// "k=v,k2=v2" with URL-encoded parts (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES).
using ::llmtap::parse_key_value_list;
using ::llmtap::url_decode;

// scheme://[userinfo@]host[:port][/path][?query]
struct ParsedUrl {
  std::string scheme;  // http | https
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path + query, at least "/"
  // scheme://host:port/path, without userinfo or query: safe to log.
  std::string loggable() const;
};
std::optional<ParsedUrl> parse_url(std::string_view url, std::string* error);

}  // namespace llmtap::exporting
