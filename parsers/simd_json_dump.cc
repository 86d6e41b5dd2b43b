// nlohmann's compact dump() of a value, printed straight from the simdjson DOM: no nlohmann tree
// is built for the tool arguments, function responses and schemas whose canonical text llmtap keeps.
// The rules are nlohmann's (json::dump(-1, ' ', false, replace) of SimdView::to_json()): members
// sorted by key bytes with a repeated key's last value, strings escaped as its serializer does
// (", \, \b \f \n \r \t, other bytes below 0x20 as \u00xx, everything else as-is: simdjson's strings
// are valid UTF-8), integers in decimal, floats through nlohmann itself (its shortest round trip).
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parsers/json_string_scan.h"
#include "parsers/simd_json_view.h"

namespace llmtap::json_view {

namespace {

using simdjson::dom::element_type;

void dump_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);  // at least: grows by doubling
  out.push_back('"');
  const char* p = s.data();
  const char* const end = p + s.size();
  for (;;) {
    // To the next byte that needs an escape, 16 at a time (most of a tool result's text).
    const char* run = p;
    while (end - p >= 16) {
      const unsigned m = scan_string_block(p).special;
      if (m != 0) {
        p += std::countr_zero(m);
        goto found;
      }
      p += 16;
    }
    while (p < end && !is_string_special(static_cast<unsigned char>(*p))) ++p;
  found:
    out.append(run, static_cast<std::size_t>(p - run));
    if (p == end) break;
    const unsigned char c = static_cast<unsigned char>(*p++);
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.push_back('"');
}

template <class T>
void dump_integer(T v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void dump(simdjson::dom::element e, std::string& out) {
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj = e.get_object().value_unsafe();
      // (key, position) sorted by key then position: the last of each run of equal keys wins.
      struct Member {
        std::string_view key;
        std::size_t pos;
        simdjson::dom::element value;
      };
      std::vector<Member> members;
      members.reserve(obj.size());
      for (auto field : obj) members.push_back(Member{field.key, members.size(), field.value});
      std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
        return a.key != b.key ? a.key < b.key : a.pos < b.pos;
      });
      out.push_back('{');
      bool first = true;
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i + 1 < members.size() && members[i + 1].key == members[i].key) continue;
        if (!first) out.push_back(',');
        first = false;
        dump_string(members[i].key, out);
        out.push_back(':');
        dump(members[i].value, out);
      }
      out.push_back('}');
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr = e.get_array().value_unsafe();
      out.push_back('[');
      bool first = true;
      for (simdjson::dom::element v : arr) {
        if (!first) out.push_back(',');
        first = false;
        dump(v, out);
      }
      out.push_back(']');
      return;
    }
    case element_type::STRING: dump_string(e.get_string().value_unsafe(), out); return;
    case element_type::INT64: dump_integer(e.get_int64().value_unsafe(), out); return;
    case element_type::UINT64: dump_integer(e.get_uint64().value_unsafe(), out); return;
    // Rare in arguments; nlohmann's float format (grisu2, ".0" on integral values) taken from it.
    case element_type::DOUBLE: out += nlohmann::json(e.get_double().value_unsafe()).dump(); return;
    case element_type::BOOL: out.append(e.get_bool().value_unsafe() ? "true" : "false"); return;
    case element_type::NULL_VALUE: out.append("null"); return;
  }
}

}  // namespace

void dump_like_nlohmann(simdjson::dom::element e, std::string& out) { dump(e, out); }

}  // namespace llmtap::json_view
