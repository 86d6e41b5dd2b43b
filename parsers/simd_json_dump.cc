// nlohmann's compact dump() of a value, printed straight from the simdjson DOM: no nlohmann tree
// is built for the tool arguments, function responses and schemas whose canonical text llmtap keeps.
// The rules are nlohmann's (json::dump(-1, ' ', false, replace) of SimdView::to_json()): members
// sorted by key bytes with a repeated key's last value, strings escaped as its serializer does
// (", \, \b \f \n \r \t, other bytes below 0x20 as \u00xx, everything else as-is: simdjson's strings
// are valid UTF-8), integers in decimal, floats through nlohmann itself (its shortest round trip).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parsers/simd_json_view.h"

namespace llmtap::json_view {

namespace {

using simdjson::dom::element_type;

// Whether any of the 8 bytes at p is below 0x20, '"' or '\\'. SWAR: a word x has a byte below n
// (n <= 128) exactly when (x - 0x01..*n) & ~x & 0x80.. is non-zero; '"' and '\\' are the zero bytes of
// x xor that byte repeated.
bool needs_escape(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w;
  const std::uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
  return ((below_space | ((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHigh) != 0;
}

void dump_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time past those that print as they are (most of a tool result's text).
    while (i + 8 <= s.size() && !needs_escape(s.data() + i)) i += 8;
    if (i >= s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
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
  out.append(s.data() + run, s.size() - run);
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
