#pragma once
// An ApiParser whose request, body and stream mappings are written once, as templates over a
// json_view (parsers/json_view.h), and read from the nlohmann DOM (reference path), the simdjson
// DOM and, for small stream events, json_view::FlatJson (fast paths, parsers/fast_request.h): the
// paths give the same ModelCall by construction. Derived provides
//   template <class V> void read_request(const V& body, ModelCall&);
//   template <class V> void read_body(const V& body, ModelCall&);
//   template <class V> bool read_event(std::string_view event, const V& data, UnixNanos at, ModelCall&);
// Included only by the parser files (it brings simdjson in).
#include "parsers/api_parser.h"
#include "parsers/flat_json.h"
#include "parsers/json_view.h"
#include "parsers/simd_json_view.h"

namespace llmtap {

template <class Derived>
class ViewApiParser : public ApiParser {
 public:
  bool has_fast_path() const override { return true; }
  void parse_request(const nlohmann::json& body, ModelCall& call) override {
    self().read_request(json_view::NlohmannView(body), call);
  }
  bool parse_request_fast(const json_view::SimdView& body, ModelCall& call) override {
    self().read_request(body, call);
    return true;
  }
  void on_json_body(const nlohmann::json& body, ModelCall& call) override {
    self().read_body(json_view::NlohmannView(body), call);
  }
  bool on_json_body_fast(const json_view::SimdView& body, ModelCall& call) override {
    self().read_body(body, call);
    return true;
  }
  bool on_stream_event(std::string_view event, const nlohmann::json& data, UnixNanos at, ModelCall& call) override {
    return self().read_event(event, json_view::NlohmannView(data), at, call);
  }
  std::optional<bool> on_stream_event_fast(std::string_view event, const json_view::SimdView& data, UnixNanos at,
                                           ModelCall& call) override {
    return self().read_event(event, data, at, call);
  }
  std::optional<bool> on_stream_event_flat(std::string_view event, const json_view::FlatView& data, UnixNanos at,
                                           ModelCall& call) override {
    return self().read_event(event, data, at, call);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace llmtap
