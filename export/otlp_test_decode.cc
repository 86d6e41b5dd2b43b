#include "export/otlp_test_decode.h"

#include <cstring>

#include "common/ids.h"
#include "export/protobuf_wire.h"

namespace llmtap::exporting::testing {
namespace {

using nlohmann::json;
using pb::Reader;

std::string hex(std::string_view b) { return to_hex(reinterpret_cast<const unsigned char*>(b.data()), b.size()); }

bool any_value(std::string_view bytes, json* out) {
  Reader r(bytes);
  Reader::Field f;
  *out = json::object();
  while (r.next(&f)) {
    switch (f.number) {
      case 1: (*out)["stringValue"] = std::string(f.bytes); break;
      case 2: (*out)["boolValue"] = f.value != 0; break;
      case 3: (*out)["intValue"] = std::to_string(static_cast<std::int64_t>(f.value)); break;
      case 4: {
        double d;
        std::memcpy(&d, &f.value, sizeof d);
        (*out)["doubleValue"] = d;
        break;
      }
      case 5: {
        json values = json::array();
        Reader a(f.bytes);
        Reader::Field af;
        while (a.next(&af)) {
          json v;
          if (af.number != 1 || !any_value(af.bytes, &v)) return false;
          values.push_back(v);
        }
        if (!a.ok()) return false;
        (*out)["arrayValue"] = {{"values", values}};
        break;
      }
      default: break;
    }
  }
  return r.ok();
}

bool key_value(std::string_view bytes, json* out) {
  Reader r(bytes);
  Reader::Field f;
  json kv = json::object();
  while (r.next(&f)) {
    if (f.number == 1) kv["key"] = std::string(f.bytes);
    if (f.number == 2) {
      json v;
      if (!any_value(f.bytes, &v)) return false;
      kv["value"] = v;
    }
  }
  *out = kv;
  return r.ok();
}

bool span(std::string_view bytes, json* out) {
  Reader r(bytes);
  Reader::Field f;
  json s = {{"attributes", json::array()}, {"status", json::object()}};
  while (r.next(&f)) {
    switch (f.number) {
      case 1: s["traceId"] = hex(f.bytes); break;
      case 2: s["spanId"] = hex(f.bytes); break;
      case 4: s["parentSpanId"] = hex(f.bytes); break;
      case 5: s["name"] = std::string(f.bytes); break;
      case 6: s["kind"] = f.value; break;
      case 7: if (f.type != pb::kFixed64) return false; s["startTimeUnixNano"] = std::to_string(f.value); break;
      case 8: if (f.type != pb::kFixed64) return false; s["endTimeUnixNano"] = std::to_string(f.value); break;
      case 9: {
        json kv;
        if (!key_value(f.bytes, &kv)) return false;
        s["attributes"].push_back(kv);
        break;
      }
      case 11: {  // Event: 1 time_unix_nano, 2 name, 3 attributes
        Reader ev(f.bytes);
        Reader::Field ef;
        json e = {{"attributes", json::array()}};
        while (ev.next(&ef)) {
          if (ef.number == 1) {
            if (ef.type != pb::kFixed64) return false;
            e["timeUnixNano"] = std::to_string(ef.value);
          }
          if (ef.number == 2) e["name"] = std::string(ef.bytes);
          if (ef.number == 3) {
            json kv;
            if (!key_value(ef.bytes, &kv)) return false;
            e["attributes"].push_back(kv);
          }
        }
        if (!ev.ok()) return false;
        s["events"].push_back(e);
        break;
      }
      case 15: {
        Reader st(f.bytes);
        Reader::Field sf;
        while (st.next(&sf)) {
          if (sf.number == 2) s["status"]["message"] = std::string(sf.bytes);
          if (sf.number == 3) s["status"]["code"] = sf.value;
        }
        if (!st.ok()) return false;
        break;
      }
      default: break;
    }
  }
  *out = s;
  return r.ok();
}

}  // namespace

json decode_otlp_protobuf(std::string_view bytes) {
  json request = {{"resourceSpans", json::array()}};
  Reader r(bytes);
  Reader::Field f;
  while (r.next(&f)) {
    if (f.number != 1) continue;
    json rs = {{"resource", {{"attributes", json::array()}}}, {"scopeSpans", json::array()}};
    Reader rr(f.bytes);
    Reader::Field rf;
    while (rr.next(&rf)) {
      if (rf.number == 1) {
        Reader res(rf.bytes);
        Reader::Field af;
        while (res.next(&af)) {
          json kv;
          if (af.number == 1 && !key_value(af.bytes, &kv)) return nullptr;
          if (af.number == 1) rs["resource"]["attributes"].push_back(kv);
        }
        if (!res.ok()) return nullptr;
      } else if (rf.number == 2) {
        json ss = {{"scope", json::object()}, {"spans", json::array()}};
        Reader sr(rf.bytes);
        Reader::Field sf;
        while (sr.next(&sf)) {
          if (sf.number == 1) {
            Reader sc(sf.bytes);
            Reader::Field cf;
            while (sc.next(&cf)) {
              if (cf.number == 1) ss["scope"]["name"] = std::string(cf.bytes);
              if (cf.number == 2) ss["scope"]["version"] = std::string(cf.bytes);
            }
          } else if (sf.number == 2) {
            json sp;
            if (!span(sf.bytes, &sp)) return nullptr;
            ss["spans"].push_back(sp);
          }
        }
        if (!sr.ok()) return nullptr;
        rs["scopeSpans"].push_back(ss);
      }
    }
    if (!rr.ok()) return nullptr;
    request["resourceSpans"].push_back(rs);
  }
  if (!r.ok()) return nullptr;
  return request;
}

}  // namespace llmtap::exporting::testing
