#include "export/span_json.h"

namespace llmtap::exporting {

nlohmann::json attr_to_json(const AttrValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json span_to_json(const Span& s) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& a : s.attributes) attrs[a.key] = attr_to_json(a.value);
  nlohmann::json status = {{"code", s.error ? "ERROR" : "UNSET"}};
  if (s.error) status["message"] = s.status_message;
  nlohmann::json j = {
      {"trace_id", s.trace_id},
      {"span_id", s.span_id},
      {"parent_span_id", s.parent_span_id},
      {"name", s.name},
      {"kind", std::string(to_string(s.kind))},
      {"start_time_unix_nano", s.start_ns},
      {"end_time_unix_nano", s.end_ns},
      {"duration_ms", static_cast<double>(s.end_ns - s.start_ns) / 1e6},
      {"status", status},
      {"attributes", attrs},
  };
  if (!s.events.empty()) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : s.events) {
      nlohmann::json ea = nlohmann::json::object();
      for (const auto& a : e.attributes) ea[a.key] = attr_to_json(a.value);
      events.push_back({{"name", e.name}, {"time_unix_nano", e.time_ns}, {"attributes", std::move(ea)}});
    }
    j["events"] = std::move(events);
  }
  if (!s.links.empty()) {
    nlohmann::json links = nlohmann::json::array();
    for (const auto& l : s.links) {
      nlohmann::json la = nlohmann::json::object();
      for (const auto& a : l.attributes) la[a.key] = attr_to_json(a.value);
      links.push_back({{"trace_id", l.trace_id}, {"span_id", l.span_id}, {"attributes", la}});
    }
    j["links"] = std::move(links);
  }
  return j;
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace llmtap::exporting
