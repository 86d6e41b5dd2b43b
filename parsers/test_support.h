#pragma once
// Test helpers for the parsers: fixtures, compression, raw HTTP/1.1 builders, and a driver that
// feeds an exchange through ConnectionStitcher whole, at every split point, in random chunks and
// compressed, checking the same expectations on every variant.
#include <functional>
#include <string>
#include <vector>

#include "common/sinks.h"
#include "parsers/connection_stitcher.h"

namespace llmtap::testing {

std::string fixture(const std::string& name);  // parsers/testdata/<name>
// "gzip", "deflate", "deflate-raw", "br", "zstd"; "" returns the input.
std::string compress(const std::string& kind, const std::string& data);

std::string http_request(const std::string& method, const std::string& target, const std::string& host,
                         const std::string& body, const std::vector<std::string>& extra_headers = {});
// chunk_size 0: Content-Length framing; otherwise chunked with pieces of that size.
std::string http_response(int status, const std::string& content_type, const std::string& body,
                          const std::string& content_encoding = "", std::size_t chunk_size = 0);

struct CollectingSink : ModelCallSink {
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall c) override { calls.push_back(std::move(c)); }
};

// Feeds `request` then `response` bytes, cut at the given offsets, then closes. Chunk k of the
// request gets timestamp 1000+k, chunk k of the response 2000+k, close 9000.
std::vector<ModelCall> run_exchange(const ConnectionInfo& conn, const std::string& request,
                                    const std::string& response, const std::vector<std::size_t>& req_cuts,
                                    const std::vector<std::size_t>& resp_cuts, const ParserOptions& opts = {});

struct ExchangeSpec {
  ConnectionInfo conn;
  std::string method = "POST";
  std::string target;
  std::string host;
  std::string request_body;
  std::vector<std::string> request_headers;
  int status = 200;
  std::string content_type = "application/json";
  std::string response_body;
};

// Runs the spec under every feeding variant (whole; every response split point; bytewise; random
// chunks; chunked transfer; gzip/deflate/br/zstd bodies) and calls `check` on the single record.
void for_each_feeding(const ExchangeSpec& spec, const std::function<void(const ModelCall&)>& check,
                      bool every_split_point = true);

}  // namespace llmtap::testing
