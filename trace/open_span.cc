#include "trace/open_span.h"

#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace llmtap::trace {

void CompactString::assign(std::string_view s) {
  if (s.empty()) {
    p_.reset();
    return;
  }
  const auto n = static_cast<std::uint32_t>(s.size());
  std::unique_ptr<char[]> p(new char[sizeof n + n]);
  std::memcpy(p.get(), &n, sizeof n);
  std::memcpy(p.get() + sizeof n, s.data(), n);
  p_ = std::move(p);
}

namespace {

// Interned keys live for the process: llmtap's own keys are a few dozen, metadata keys are
// bounded by the table size.
constexpr std::size_t kMaxInternedKeys = 4096;

struct KeyTable {
  std::mutex mu;
  std::deque<std::string> keys;  // id -> key; a deque keeps the strings in place as it grows
  std::unordered_map<std::string_view, std::uint16_t> ids;
};

KeyTable& key_table() {
  static auto* t = new KeyTable;  // never destroyed: spans may be built during static destruction
  return *t;
}

// Encoding of one attribute: key id (u16), [inline key if kUninternedKey], type (u8), payload.
enum class Type : std::uint8_t { kString, kInt, kDouble, kBool, kList };

void put_varint(std::string& out, std::size_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

template <class T>
void put_fixed(std::string& out, T v) {
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof v);
}

std::uint16_t put_key(std::string& out, std::string_view key) {
  const std::uint16_t id = attribute_key_id(key);
  put_fixed(out, id);
  if (id == kUninternedKey) put_bytes(out, key);
  return id;
}

// Reads the blob one entry at a time (the blob was written by this file: always well formed).
class Reader {
 public:
  explicit Reader(std::string_view blob) : b_(blob) {}
  bool done() const { return at_ >= b_.size(); }
  std::size_t offset() const { return at_; }

  std::string_view key() {
    std::uint16_t id = fixed<std::uint16_t>();
    return id == kUninternedKey ? bytes() : attribute_key(id);
  }
  // Whether the next entry's key is ID (and, for an uninterned key, KEY); moves past the key.
  bool key_is(std::uint16_t id, std::string_view key) {
    const std::uint16_t at = fixed<std::uint16_t>();
    if (at != kUninternedKey) return at == id;
    return bytes() == key && id == kUninternedKey;
  }
  AttrValue value() {
    switch (static_cast<Type>(b_[at_++])) {
      case Type::kString: return std::string(bytes());
      case Type::kInt: return fixed<std::int64_t>();
      case Type::kDouble: return fixed<double>();
      case Type::kBool: return b_[at_++] != 0;
      case Type::kList: {
        std::vector<std::string> v(varint());
        for (auto& s : v) s = std::string(bytes());
        return v;
      }
    }
    return std::string();
  }
  void skip_value() { (void)value(); }

 private:
  std::size_t varint() {
    std::size_t v = 0;
    for (int shift = 0;; shift += 7) {
      const auto c = static_cast<unsigned char>(b_[at_++]);
      v |= static_cast<std::size_t>(c & 0x7f) << shift;
      if (c < 0x80) return v;
    }
  }
  std::string_view bytes() {
    const std::size_t n = varint();
    std::string_view s = b_.substr(at_, n);
    at_ += n;
    return s;
  }
  template <class T>
  T fixed() {
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string_view b_;
  std::size_t at_ = 0;
};

}  // namespace

std::uint16_t attribute_key_id(std::string_view key) {
  KeyTable& t = key_table();
  std::lock_guard lock(t.mu);
  if (auto it = t.ids.find(key); it != t.ids.end()) return it->second;
  if (t.keys.size() >= kMaxInternedKeys) return kUninternedKey;
  const auto id = static_cast<std::uint16_t>(t.keys.size());
  t.ids.emplace(t.keys.emplace_back(key), id);
  return id;
}

std::string_view attribute_key(std::uint16_t id) {
  KeyTable& t = key_table();
  std::lock_guard lock(t.mu);
  return id < t.keys.size() ? std::string_view(t.keys[id]) : std::string_view();
}

namespace {

// Where KEY's entry is in BLOB: [begin, end), or begin == npos when absent.
std::pair<std::size_t, std::size_t> find_entry(std::string_view blob, std::uint16_t id, std::string_view key) {
  Reader r(blob);
  while (!r.done()) {
    const std::size_t begin = r.offset();
    const bool match = r.key_is(id, key);
    r.skip_value();
    if (match) return {begin, r.offset()};
  }
  return {std::string::npos, 0};
}

// Appends ENTRY (one encoded attribute for KEY), or puts it in place of KEY's earlier entry, so
// attributes keep the order they were first set in (as Span::set).
void put_entry(std::string& blob, std::uint16_t id, std::string_view key, const std::string& entry) {
  auto [begin, end] = find_entry(blob, id, key);
  if (begin == std::string::npos) blob.append(entry);
  else blob.replace(begin, end - begin, entry);
}

}  // namespace

OpenSpan::OpenSpan(const OpenSpan& o)
    : span_id(o.span_id),
      name(o.name),
      status_message(o.status_message),
      kind(o.kind),
      error(o.error),
      start_ns(o.start_ns),
      end_ns(o.end_ns),
      attrs_(o.blob()) {}

OpenSpan OpenSpan::from_span(const Span& s) {
  OpenSpan o;
  o.span_id = s.span_id;
  o.name = s.name;
  o.status_message = s.status_message;
  o.kind = s.kind;
  o.error = s.error;
  o.start_ns = s.start_ns;
  o.end_ns = s.end_ns;
  for (const auto& a : s.attributes) o.set_value(a.key, a.value);
  o.shrink();
  return o;
}

std::string& OpenSpan::building() {
  if (!building_) building_ = std::make_unique<std::string>(attrs_.view());
  return *building_;
}

void OpenSpan::shrink() {
  if (!building_) return;
  attrs_ = std::string_view(*building_);
  building_.reset();
}

void OpenSpan::set_string(std::string_view key, std::string_view v) {
  std::string entry;
  const std::uint16_t id = put_key(entry, key);
  entry.push_back(static_cast<char>(Type::kString));
  put_bytes(entry, v);
  put_entry(building(), id, key, entry);
}

void OpenSpan::set_value(std::string_view key, const AttrValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return set_string(key, *s);
  std::string entry;
  const std::uint16_t id = put_key(entry, key);
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    entry.push_back(static_cast<char>(Type::kInt));
    put_fixed(entry, *i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    entry.push_back(static_cast<char>(Type::kDouble));
    put_fixed(entry, *d);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    entry.push_back(static_cast<char>(Type::kBool));
    entry.push_back(*b ? 1 : 0);
  } else {
    const auto& list = std::get<std::vector<std::string>>(v);
    entry.push_back(static_cast<char>(Type::kList));
    put_varint(entry, list.size());
    for (const auto& s : list) put_bytes(entry, s);
  }
  put_entry(building(), id, key, entry);
}

std::size_t OpenSpan::attribute_count() const {
  std::size_t n = 0;
  for (Reader r(blob()); !r.done(); ++n) {
    (void)r.key();
    r.skip_value();
  }
  return n;
}

Span OpenSpan::to_span() const {
  Span s;
  s.span_id = span_id.str();
  s.name = name.str();
  s.status_message = status_message.str();
  s.kind = kind;
  s.error = error;
  s.start_ns = start_ns;
  s.end_ns = end_ns;
  s.attributes.reserve(attribute_count() + 8);  // finish() adds names and roll-ups
  for (Reader r(blob()); !r.done();) {
    std::string key(r.key());
    s.attributes.push_back({std::move(key), r.value()});
  }
  return s;
}

}  // namespace llmtap::trace
