#include "parsers/flat_json.h"

#include <simdjson.h>

#include <bit>

#include "parsers/json_string_scan.h"

namespace llmtap::json_view {

namespace {

constexpr std::uint64_t kHighs = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The first quote, backslash or control byte at or after `s`, 16 bytes at a time (the padding
// makes the bytes past `end` readable; what lies there is never taken); `end` when there is none
// before it. `high` notes a byte >= 0x80 among those read: it only costs a UTF-8 check.
// Most strings (keys, tokens) end within the first block, so the loop's branch is predictable.
[[gnu::always_inline]] inline const char* find_special(const char* s, const char* end, std::uint64_t& high) {
  unsigned seen = 0;
  for (;;) {
    const StringBlock b = scan_string_block(s);
    seen |= b.high;
    if (b.special != 0) {
      s += std::countr_zero(b.special);
      break;
    }
    s += 16;
    if (s >= end) break;
  }
  if (seen != 0) high |= kHighs;
  return s < end ? s : end;
}

// key_word (json_view.h) of a key followed by at least 8 readable bytes.
std::uint64_t word_of(std::string_view k) {
  static_assert(std::endian::native == std::endian::little, "key words are read little-endian");
  std::uint64_t w = load8(k.data());
  w &= k.size() < 7 ? (std::uint64_t{1} << (8 * k.size())) - 1 : 0x00FFFFFFFFFFFFFFull;
  return w | (static_cast<std::uint64_t>(k.size() < 255 ? k.size() : 255) << 56);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A non-negative integer of at most 18 digits (below 2^63: simdjson's int64, nlohmann's unsigned,
// the same i64). Floats, negatives and longer numbers are declined: the byte after the digits
// must then be one that ends a value (',', '}', ']', space), which the caller checks.
bool integer(const char*& p, const char* end, std::int64_t& out) {
  const char* start = p;
  std::uint64_t x = 0;  // unsigned: a longer run (declined) wraps instead of overflowing
  for (unsigned d; p < end && (d = static_cast<unsigned char>(*p) - unsigned{'0'}) < 10; ++p) x = x * 10 + d;
  const std::ptrdiff_t digits = p - start;
  if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return false;
  out = static_cast<std::int64_t>(x);
  return true;
}
}  // namespace

bool FlatJson::parse(std::string_view text) {
  if (text.size() > kMaxText) return false;
  ++clock_;
  // The layout that matched last first: a stream's events mostly repeat one (its deltas).
  for (std::size_t k = 0; k < kLayouts; ++k) {
    const std::size_t i = (last_ + k) % kLayouts;
    Layout& l = layouts_[i];
    if (!l.pieces.empty() && match(l, text)) {
      l.used = clock_;
      last_ = i;
      root_ = l.nodes.data();
      return true;
    }
  }
  if (!parse_whole(text)) return false;
  root_ = nodes_.data();
  learn(text);
  return true;
}

namespace {

// memcmp(a, b, n) == 0 for the short runs of a layout, a word at a time: 8 bytes past both ends
// are readable (a's padding, b's reserved capacity).
bool same_bytes(const char* a, const char* b, std::size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8)
    if (load8(a) != load8(b)) return false;
  return n == 0 || ((load8(a) ^ load8(b)) & ((std::uint64_t{1} << (8 * n)) - 1)) == 0;
}

}  // namespace

bool FlatJson::match(Layout& l, std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  std::uint64_t high = 0;
  unescaped_.clear();
  unescaped_.reserve(text.size() + 8);
  for (const Layout::Piece& piece : l.pieces) {
    if (static_cast<std::size_t>(end - p) < piece.size || !same_bytes(p, l.text.data() + piece.at, piece.size))
      return false;
    p += piece.size;
    if (piece.node == kNoNode) break;  // the last piece
    Node& v = l.nodes[piece.node];
    if (v.type == Type::kString ? !string(p, end, high, v.str) : !integer(p, end, v.num)) return false;
  }
  // Bytes >= 0x80 in the pieces are the learned text's, valid UTF-8 (each piece starts and ends
  // at an ASCII byte); in the values they are checked here.
  return p == end && ((high & kHighs) == 0 || simdjson::validate_utf8(text.data(), text.size()));
}

// The last full parse's text and nodes as a layout, in place of the least recently used one.
void FlatJson::learn(std::string_view text) {
  // Only objects and arrays: a layout's pieces are the bytes around values inside the root.
  if (text.size() > kMaxLayoutText || (nodes_[0].type != Type::kObject && nodes_[0].type != Type::kArray)) return;
  Layout* slot = &layouts_[0];
  for (Layout& l : layouts_)
    if (l.used < slot->used) slot = &l;
  Layout& l = *slot;
  l.pieces.clear();
  l.used = clock_;
  l.text.reserve(text.size() + 8);  // same_bytes reads a word past a run's end
  l.text.assign(text);
  l.nodes.assign(nodes_.begin(), nodes_.begin() + size_);
  std::uint32_t from = 0;
  for (std::uint32_t i = 0; i < size_; ++i) {
    Node& v = l.nodes[i];
    if (!v.key.empty()) {
      // Keys point into the text, unless escaped: then there is no layout to keep.
      if (v.key.data() < text.data() || v.key.data() >= text.data() + text.size()) {
        l.pieces.clear();
        return;
      }
      v.key = std::string_view(l.text.data() + (v.key.data() - text.data()), v.key.size());
    }
    if (v.type != Type::kString && v.type != Type::kInt) continue;
    l.pieces.push_back(Layout::Piece{from, v.at - from, i});
    from = v.end;
  }
  l.pieces.push_back(Layout::Piece{from, static_cast<std::uint32_t>(text.size()) - from, kNoNode});
}

bool FlatJson::parse_whole(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  std::uint64_t high = 0;
  // A node takes at least two bytes of text but the root's one.
  const std::size_t cap = text.size() / 2 + 2;
  if (nodes_.size() < cap) nodes_.resize(cap);
  Node* const nodes = nodes_.data();
  std::uint32_t n = 0;
  // Unescaped strings are never longer than their text; 8 more bytes keep word reads in bounds.
  unescaped_.clear();
  unescaped_.reserve(text.size() + 8);
  std::uint32_t open[kMaxDepth];  // the containers being read, innermost last
  int depth = 0;
  // A value's key (none, for the root and an array's elements) is written into its node before
  // the value is read: one store, where a key kept in locals was reloaded as a whole (a stall).
  auto no_key = [&] {
    nodes[n].key = {};
    nodes[n].key_word = 0;
  };
  auto space = [&] {  // JSON's four whitespace bytes are all at most ' ': one test for the rest
    while (p < end && static_cast<unsigned char>(*p) <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
      ++p;
  };
  space();
  no_key();
  // Iterative, with the cursor in locals: one pass, no call per value.
value:
  if (p >= end) return false;
  {
    Node& v = nodes[n];
    v.count = 0;
    const char c = *p;
    if (c == '"') {
      ++p;
      v.at = static_cast<std::uint32_t>(p - text.data());
      if (!string(p, end, high, v.str)) return false;
      v.end = static_cast<std::uint32_t>(p - text.data());
      v.type = Type::kString;
      v.next = ++n;
    } else if (c == '{' || c == '[') {
      if (depth == kMaxDepth) return false;
      v.type = c == '{' ? Type::kObject : Type::kArray;
      open[depth++] = n++;
      ++p;
      space();
      if (p < end && *p == (c == '{' ? '}' : ']')) {
        ++p;
        v.next = n;
        --depth;
        goto after;
      }
      if (c == '{') goto member;
      if (n >= cap) return false;
      no_key();
      goto value;
    } else if (c == 't' || c == 'f' || c == 'n') {
      const std::string_view lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (static_cast<std::size_t>(end - p) < lit.size() || std::memcmp(p, lit.data(), lit.size()) != 0) return false;
      p += lit.size();  // what follows is checked as after any value
      v.type = c == 't' ? Type::kTrue : c == 'f' ? Type::kFalse : Type::kNull;
      v.next = ++n;
    } else {
      v.at = static_cast<std::uint32_t>(p - text.data());
      if (!integer(p, end, v.num)) return false;
      v.end = static_cast<std::uint32_t>(p - text.data());
      v.type = Type::kInt;
      v.next = ++n;
    }
  }
after:  // a value is whole: its container goes on or closes
  space();
  if (depth == 0) {
    if (p != end) return false;
    size_ = n;
    // Bytes >= 0x80 are only accepted inside strings: valid UTF-8 there, as simdjson requires.
    return (high & kHighs) == 0 || simdjson::validate_utf8(text.data(), text.size());
  }
  if (p >= end) return false;
  {
    Node& c = nodes[open[depth - 1]];
    ++c.count;
    const bool object = c.type == Type::kObject;
    if (*p == ',') {
      ++p;
      space();
      if (object) goto member;
      if (n >= cap) return false;
      no_key();
      goto value;
    }
    if (*p != (object ? '}' : ']')) return false;
    ++p;
    c.next = n;
    --depth;
    goto after;
  }
member:
  if (p >= end || *p != '"' || n >= cap) return false;
  ++p;
  if (!string(p, end, high, nodes[n].key)) return false;
  // 8 bytes from the key are readable: the padding, or unescaped_'s 8 spare.
  nodes[n].key_word = word_of(nodes[n].key);
  space();
  if (p >= end || *p != ':') return false;
  ++p;
  space();
  goto value;
}

// After the opening quote, to past the closing one. The value stays where it is unless it holds
// an escape.
[[gnu::always_inline]] inline bool FlatJson::string(const char*& p, const char* end, std::uint64_t& high, std::string_view& out) {
  const char* s = find_special(p, end, high);
  if (s == end) return false;
  if (*s == '"') {
    out = std::string_view(p, static_cast<std::size_t>(s - p));
    p = s + 1;
    return true;
  }
  if (*s != '\\') return false;  // a control character
  return escaped(p, s, end, high, out);
}

// The rest of a string from its first backslash at `from` (p: its first byte), unescaped into
// unescaped_.
bool FlatJson::escaped(const char*& p, const char* from, const char* end, std::uint64_t& high, std::string_view& out) {
  const std::size_t start = unescaped_.size();
  unescaped_.append(p, static_cast<std::size_t>(from - p));
  const char* s = from;
  while (s < end) {
    // The run up to the next quote, backslash or control byte, copied at once.
    const char* run = s;
    s = find_special(s, end, high);
    if (s == end) return false;
    unescaped_.append(run, static_cast<std::size_t>(s - run));
    const unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"') {
      p = s + 1;
      out = std::string_view(unescaped_).substr(start);
      return true;
    }
    if (c != '\\') return false;  // a control character
    if (end - s < 2) return false;
    const char e = s[1];
    s += 2;
    switch (e) {
      case '"': unescaped_.push_back('"'); break;
      case '\\': unescaped_.push_back('\\'); break;
      case '/': unescaped_.push_back('/'); break;
      case 'b': unescaped_.push_back('\b'); break;
      case 'f': unescaped_.push_back('\f'); break;
      case 'n': unescaped_.push_back('\n'); break;
      case 'r': unescaped_.push_back('\r'); break;
      case 't': unescaped_.push_back('\t'); break;
      case 'u': {
        if (end - s < 4) return false;
        int cp = 0;
        for (int k = 0; k < 4; ++k) {
          const int h = hex(s[k]);
          if (h < 0) return false;
          cp = cp * 16 + h;
        }
        s += 4;
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates: declined
        if (cp < 0x80) {
          unescaped_.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          unescaped_.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          unescaped_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          unescaped_.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          unescaped_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          unescaped_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default: return false;
    }
  }
  return false;
}

nlohmann::json FlatView::to_json() const {
  if (n_ == nullptr) return nullptr;
  switch (n_->type) {
    case FlatJson::Type::kObject: {
      nlohmann::json j = nlohmann::json::object();
      for_each_member([&](const FlatJson::Node* m) { j[std::string(m->key)] = FlatView(m, base_).to_json(); });
      return j;
    }
    case FlatJson::Type::kArray: {
      nlohmann::json j = nlohmann::json::array();
      for_each([&](const FlatView& e) { j.push_back(e.to_json()); });
      return j;
    }
    case FlatJson::Type::kString: return std::string(n_->str);
    // nlohmann stores non-negative integers as unsigned (every integer here is).
    case FlatJson::Type::kInt: return static_cast<std::uint64_t>(n_->num);
    case FlatJson::Type::kTrue: return true;
    case FlatJson::Type::kFalse: return false;
    case FlatJson::Type::kNull: return nullptr;
  }
  return nullptr;
}

}  // namespace llmtap::json_view
