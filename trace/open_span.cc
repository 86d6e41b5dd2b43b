#include "trace/open_span.h"

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "pricing/cost.h"
#include "trace/shared_strings.h"
#include "trace/varint.h"

#define XXH_INLINE_ALL  // the one-shot hash of a short key, inlined
#include <xxhash.h>

namespace llmtap::trace {

void CompactString::assign(std::string_view s) {
  if (s.empty()) {
    release();
    p_ = nullptr;
    return;
  }
  const auto n = static_cast<std::uint32_t>(s.size());
  const std::uint32_t one = 1;
  char* p = static_cast<char*>(::operator new(kHeader + n));
  std::memcpy(p, &one, sizeof one);
  std::memcpy(p + kLengthAt, &n, sizeof n);
  std::memcpy(p + kHeader, s.data(), n);  // S may be this string's own bytes: release after
  release();
  p_ = p;
}

void CompactString::release() noexcept {
  if (p_ && __atomic_sub_fetch(refs(), 1, __ATOMIC_ACQ_REL) == 0) ::operator delete(p_);
}

namespace {

// Interned keys live for the process: llmtap's own keys are a few dozen, metadata keys are
// bounded by the table size.
constexpr std::size_t kMaxInternedKeys = 4095;  // ids fit the entry head's 12 bits, 0xfff: inline

// Values are interned too, for the keys whose values come from a small set (span kinds, models,
// providers, hosts, agent names): they repeat in every trace, so a value is stored once per
// process and a span holds its 16-bit id. Bounded like the keys; past the bound a value is inline.
constexpr std::size_t kMaxInternedValues = 4096;
constexpr std::size_t kMaxInternedValueSize = 96;
constexpr std::string_view kFewValuedKeys[] = {
    "llmtap.span.kind",       "openinference.span.kind", "gen_ai.operation.name",    "gen_ai.provider.name",
    "gen_ai.request.model",   "gen_ai.response.model",   "llmtap.api",               "server.address",
    "llmtap.pricing.version", "llmtap.pricing.entry",    "gen_ai.workflow.name",     "gen_ai.agent.name",
    "gen_ai.agent.id",        "llmtap.agent.name_source", "gen_ai.request.service_tier", "gen_ai.tool.name",
    "llmtap.handoff.from_agent", "llmtap.handoff.to_agent", "llmtap.release",
};

// An append-only table of interned strings that is read without a lock: the span code looks a key
// up two or three times per attribute it writes or reads (about 110 times per model call), and a
// mutex per lookup was ~7k instructions per call on the decode thread (issue 16). Entries are never
// removed and the table is bounded, so a lookup probes a fixed open-addressed array of published
// pointers; only an insert takes the lock.
class InternTable {
 public:
  struct Entry {
    std::string text;
    std::uint64_t hash;
    std::uint16_t id;
    bool few_valued;  // a key whose values are interned too (kFewValuedKeys)
  };

  explicit InternTable(std::size_t bound)
      : bound_(bound), by_id_(new std::atomic<const Entry*>[bound]()), slots_(new std::atomic<const Entry*>[kSlots]()) {}

  // S's entry, interning it if the table has room; null when it is full.
  const Entry* find_or_add(std::string_view s) {
    const std::uint64_t h = XXH3_64bits(s.data(), s.size());
    if (const Entry* e = find(s, h)) return e;
    std::lock_guard lock(mu_);
    if (const Entry* e = find(s, h)) return e;  // added by another thread meanwhile
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n >= bound_) return nullptr;
    auto* e = new Entry{std::string(s), h, static_cast<std::uint16_t>(n),
                        std::find(std::begin(kFewValuedKeys), std::end(kFewValuedKeys), s) != std::end(kFewValuedKeys)};
    by_id_[n].store(e, std::memory_order_release);
    std::size_t i = h & (kSlots - 1);
    while (slots_[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & (kSlots - 1);
    slots_[i].store(e, std::memory_order_release);
    count_.store(n + 1, std::memory_order_release);
    return e;
  }
  std::uint16_t id(std::string_view s) {
    const Entry* e = find_or_add(s);
    return e ? e->id : kUninternedKey;
  }
  const Entry* at(std::uint16_t n) const { return n < bound_ ? by_id_[n].load(std::memory_order_acquire) : nullptr; }

 private:
  static constexpr std::size_t kSlots = 8192;  // a power of two, at least twice any bound

  const Entry* find(std::string_view s, std::uint64_t h) const {
    for (std::size_t i = h & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const Entry* e = slots_[i].load(std::memory_order_acquire);
      if (e == nullptr) return nullptr;
      if (e->hash == h && e->text == s) return e;
    }
  }

  const std::size_t bound_;
  std::unique_ptr<std::atomic<const Entry*>[]> by_id_;
  std::unique_ptr<std::atomic<const Entry*>[]> slots_;
  std::atomic<std::size_t> count_{0};
  std::mutex mu_;  // inserts
};

struct KeyTable {
  InternTable keys{kMaxInternedKeys}, values{kMaxInternedValues};
};

KeyTable& key_table() {
  static auto* t = new KeyTable;  // never destroyed: spans may be built during static destruction
  return *t;
}

// The interned id of V as a value of key KEY_ID, kUninternedKey when KEY_ID's values are not
// interned or the table is full.
std::uint16_t value_id(std::uint16_t key_id, std::string_view v) {
  if (key_id == kUninternedKey || v.size() > kMaxInternedValueSize) return kUninternedKey;
  KeyTable& t = key_table();
  const InternTable::Entry* key = t.keys.at(key_id);
  if (key == nullptr || !key->few_valued) return kUninternedKey;
  return t.values.id(v);
}

std::string_view interned_value(std::uint16_t id) {
  const InternTable::Entry* e = key_table().values.at(id);
  return e ? std::string_view(e->text) : std::string_view();
}

// Encoding of one attribute: a u16 head (type in the top 4 bits, key id in the low 12; id 0xfff:
// the key follows inline as bytes), then the payload: bytes (varint length), zigzag varint,
// 8-byte double, nothing (a boolean is its type), varint count and bytes, a u16 interned
// value id, or a zigzag varint of picodollars (a double when read).
enum class Type : std::uint8_t { kString, kInt, kDouble, kFalse, kList, kInternedString, kTrue, kPicoUsd };
constexpr std::uint16_t kInlineKey = 0xfff;

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

// Writes the head of the entry of type TYPE for KEY (id ID, attribute_key_id).
void put_key(std::string& out, std::uint16_t id, std::string_view key, Type type) {
  const std::uint16_t head_id = id == kUninternedKey ? kInlineKey : id;
  put_fixed(out, static_cast<std::uint16_t>(static_cast<std::uint16_t>(type) << 12 | head_id));
  if (id == kUninternedKey) put_bytes(out, key);
}

// Reads the blob one entry at a time (the blob was written by this file: always well formed).
class Reader {
 public:
  explicit Reader(std::string_view blob) : b_(blob) {}
  bool done() const { return at_ >= b_.size(); }
  std::size_t offset() const { return at_; }

  std::string_view key() {
    const std::uint16_t id = head();
    return id == kInlineKey ? bytes() : attribute_key(id);
  }
  // Past the next entry's key, without looking it up (the key table takes a lock).
  void skip_key() {
    if (head() == kInlineKey) (void)bytes();
  }
  // Whether the next entry's key is ID (and, for an uninterned key, KEY); moves past the key.
  bool key_is(std::uint16_t id, std::string_view key) {
    const std::uint16_t at = head();
    if (at != kInlineKey) return at == id;
    return bytes() == key && id == kUninternedKey;
  }
  // The value of the entry whose key was just read.
  AttrValue value() {
    switch (type_) {
      case Type::kString: return std::string(bytes());
      case Type::kInternedString: return std::string(interned_value(fixed<std::uint16_t>()));
      case Type::kInt: return zigzag();
      case Type::kPicoUsd: return pico_to_usd(zigzag());
      case Type::kDouble: return fixed<double>();
      case Type::kFalse: return false;
      case Type::kTrue: return true;
      case Type::kList: {
        std::vector<std::string> v(varint());
        for (auto& s : v) s = std::string(bytes());
        return v;
      }
    }
    return std::string();
  }
  // Past the value of the entry whose key was just read, without making it (find_entry() skips
  // every entry before the one it looks for: building a string for each was most of a set()).
  void skip_value() {
    switch (type_) {
      case Type::kString: (void)bytes(); return;
      case Type::kInternedString: (void)fixed<std::uint16_t>(); return;
      case Type::kInt:
      case Type::kPicoUsd: (void)varint(); return;  // both zigzag varints
      case Type::kDouble: (void)fixed<double>(); return;
      case Type::kFalse:
      case Type::kTrue: return;
      case Type::kList:
        for (std::uint64_t n = varint(); n > 0; --n) (void)bytes();
        return;
    }
  }

 private:
  std::int64_t zigzag() { return read_zigzag(b_, at_); }
  std::uint64_t varint() { return read_varint(b_, at_); }
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
  // Reads an entry's head: keeps its type, returns its key id (kInlineKey: the key follows).
  std::uint16_t head() {
    const auto h = fixed<std::uint16_t>();
    type_ = static_cast<Type>(h >> 12);
    return h & kInlineKey;
  }
  std::string_view b_;
  std::size_t at_ = 0;
  Type type_ = Type::kString;
};

}  // namespace

std::uint16_t attribute_key_id(std::string_view key) {
  // Keys are mostly string literals, looked up ~90 times per model call: a per-thread cache by the
  // key's address skips the hash and the probe. The entry's text is still compared, so a buffer
  // reused at the same address for another key cannot alias.
  struct Slot {
    const char* at;
    const InternTable::Entry* entry;
  };
  thread_local Slot cache[256];
  Slot& slot = cache[(reinterpret_cast<std::uintptr_t>(key.data()) >> 3) & 255];
  if (slot.at == key.data() && slot.entry != nullptr && std::string_view(slot.entry->text) == key) return slot.entry->id;
  const InternTable::Entry* e = key_table().keys.find_or_add(key);
  if (e == nullptr) return kUninternedKey;
  slot = {key.data(), e};
  return e->id;
}

std::string_view attribute_key(std::uint16_t id) {
  const InternTable::Entry* e = key_table().keys.at(id);
  return e ? std::string_view(e->text) : std::string_view();
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

}  // namespace

// Puts KEY's entry, written by ENCODE(std::string& out) (appending its head and payload), at the end
// of the attributes B builds, or in place of KEY's earlier entry, so attributes keep the order they
// were first set in (as Span::set). A key not set before, the common case, is encoded straight in,
// without a search when its bit in ids_maybe_set is clear.
template <class Encode>
void OpenSpan::put_entry(Building& b, std::uint16_t id, std::string_view key, const Encode& encode) {
  const std::uint64_t bit = id == kUninternedKey ? 0 : std::uint64_t{1} << (id % 64);
  if (bit != 0 && (b.ids_maybe_set & bit) == 0) {
    b.ids_maybe_set |= bit;
    return encode(b.text);
  }
  b.ids_maybe_set |= bit;
  auto [begin, end] = find_entry(b.text, id, key);
  if (begin == std::string::npos) return encode(b.text);
  std::string entry;
  encode(entry);
  b.text.replace(begin, end - begin, entry);
}

namespace {

// Appends the entry of V for KEY (id ID).
void encode_string(std::string& out, std::uint16_t id, std::string_view key, std::string_view v) {
  if (const std::uint16_t vid = value_id(id, v); vid != kUninternedKey) {
    put_key(out, id, key, Type::kInternedString);
    put_fixed(out, vid);
  } else {
    put_key(out, id, key, Type::kString);
    put_bytes(out, v);
  }
}

void encode_value(std::string& out, std::uint16_t id, std::string_view key, const AttrValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    encode_string(out, id, key, *s);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    put_key(out, id, key, Type::kInt);
    put_zigzag(out, *i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    put_key(out, id, key, Type::kDouble);
    put_fixed(out, *d);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    put_key(out, id, key, *b ? Type::kTrue : Type::kFalse);
  } else {
    const auto& list = std::get<std::vector<std::string>>(v);
    put_key(out, id, key, Type::kList);
    put_varint(out, list.size());
    for (const auto& e : list) put_bytes(out, e);
  }
}

// A small attribute block is most often one that many spans hold byte for byte (a workflow's or an
// agent's kind attributes, interned values included): those share one block (set() works on a
// copy, so sharing is safe).
constexpr std::size_t kMaxSharedBlob = 48;

CompactString shared_blob(std::string_view blob) {
  if (blob.size() > kMaxSharedBlob) return CompactString(blob);
  static std::mutex mu;
  static auto* pool = new SharedStrings(1024);  // never destroyed, like the key table
  std::lock_guard lock(mu);
  return pool->get(blob);
}

}  // namespace

OpenSpan::OpenSpan(const OpenSpan& o)
    : span_id(o.span_id),
      name(o.name),
      status_message(o.status_message),
      kind(o.kind),
      error(o.error),
      start_ns(o.start_ns),
      end_ns(o.end_ns) {
  new (&attrs_) CompactString(o.building_ ? CompactString(o.building_text_->text) : o.attrs_);
}

OpenSpan::OpenSpan(OpenSpan&& o) noexcept
    : span_id(o.span_id),
      name(std::move(o.name)),
      status_message(std::move(o.status_message)),
      kind(o.kind),
      error(o.error),
      start_ns(o.start_ns),
      end_ns(o.end_ns) {
  take_attributes(o);
}

OpenSpan& OpenSpan::operator=(OpenSpan&& o) noexcept {
  if (this == &o) return *this;
  drop_attributes();
  span_id = o.span_id;
  name = std::move(o.name);
  status_message = std::move(o.status_message);
  kind = o.kind;
  error = o.error;
  start_ns = o.start_ns;
  end_ns = o.end_ns;
  take_attributes(o);
  return *this;
}

void OpenSpan::take_attributes(OpenSpan& o) noexcept {
  // Over an empty attrs_ (nothing to release): the other span's text or block, it left empty.
  building_ = o.building_;
  if (building_) {
    building_text_ = o.building_text_;
    o.building_ = false;
    new (&o.attrs_) CompactString();
  } else {
    new (&attrs_) CompactString(std::move(o.attrs_));
  }
}

void OpenSpan::drop_attributes() noexcept {
  if (building_) {
    delete building_text_;
    building_ = false;
  } else {
    attrs_.~CompactString();
  }
  new (&attrs_) CompactString();  // leaves it valid (destroyed again by the caller or ~OpenSpan)
}

OpenSpan OpenSpan::from_span(const Span& s) {
  OpenSpan o;
  o.span_id = s.span_id;
  o.name = s.name;
  o.status_message = s.status_message;
  o.kind = s.kind;
  o.error = s.error;
  o.start_ns = s.start_ns;
  o.end_ns = s.end_ns;
  // Straight into the blob, with no search for an earlier entry, unless the key came before (set()
  // semantics: the last value at the first place) or is stored inline.
  Building& building = o.building_state();
  std::string& blob = building.text;
  building.ids_maybe_set = ~std::uint64_t{0};  // entries are written around put_entry
  std::bitset<kMaxInternedKeys> seen;
  for (const auto& a : s.attributes) {
    const std::uint16_t id = attribute_key_id(a.key);
    if (id == kUninternedKey || seen.test(id)) {
      o.set_value(a.key, a.value);
      continue;
    }
    seen.set(id);
    encode_value(blob, id, a.key, a.value);
  }
  o.shrink();
  return o;
}

OpenSpan::Building& OpenSpan::building_state() {
  if (!building_) {
    const bool empty = attrs_.view().empty();
    auto* b = new Building{std::string(attrs_.view()), empty ? std::uint64_t{0} : ~std::uint64_t{0}};
    attrs_.~CompactString();
    building_text_ = b;
    building_ = true;
  }
  return *building_text_;
}

void OpenSpan::shrink() {
  if (!building_) return;
  Building* b = building_text_;
  new (&attrs_) CompactString(shared_blob(b->text));
  building_ = false;
  delete b;
}

void OpenSpan::set_string(std::string_view key, std::string_view v) {
  const std::uint16_t id = attribute_key_id(key);
  put_entry(building_state(), id, key, [&](std::string& out) { encode_string(out, id, key, v); });
}

void OpenSpan::set_value(std::string_view key, const AttrValue& v) {
  const std::uint16_t id = attribute_key_id(key);
  put_entry(building_state(), id, key, [&](std::string& out) { encode_value(out, id, key, v); });
}

void OpenSpan::set_usd(std::string_view key, std::int64_t pico) {
  const std::uint16_t id = attribute_key_id(key);
  put_entry(building_state(), id, key, [&](std::string& out) {
    put_key(out, id, key, Type::kPicoUsd);
    put_zigzag(out, pico);
  });
}

void OpenSpan::set_attribute_block(CompactString block) {
  drop_attributes();
  attrs_ = std::move(block);
}

void OpenSpan::set_encoded_attributes(std::string_view bytes) { set_attribute_block(shared_blob(bytes)); }

std::size_t OpenSpan::attribute_count() const {
  std::size_t n = 0;
  for (Reader r(blob()); !r.done(); ++n) {
    r.skip_key();
    r.skip_value();
  }
  return n;
}

Span OpenSpan::to_span(std::size_t spare) const {
  Span s;
  s.span_id = span_id.str();
  s.name = name.str();
  s.status_message = status_message.str();
  s.kind = kind;
  s.error = error;
  s.start_ns = start_ns;
  s.end_ns = end_ns;
  s.attributes.reserve(attribute_count() + spare);
  for (Reader r(blob()); !r.done();) {
    std::string key(r.key());
    s.attributes.push_back({std::move(key), r.value()});
  }
  return s;
}

}  // namespace llmtap::trace
