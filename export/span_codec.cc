#include "export/span_codec.h"

#include "common/trace_size.h"

#include <functional>

#include <cstring>

namespace llmtap::exporting::codec {
namespace {

enum Tag : unsigned char { kString = 0, kInt = 1, kDouble = 2, kFalse = 3, kTrue = 4, kList = 5 };

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

// Bounds-checked reading; any failure sticks.
struct Reader {
  std::string_view in;
  std::size_t pos = 0;
  bool ok = true;

  bool done() const { return pos >= in.size(); }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) break;
      auto b = static_cast<unsigned char>(in[pos++]);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  unsigned char byte() {
    if (pos >= in.size()) return ok = false, 0;
    return static_cast<unsigned char>(in[pos++]);
  }
  std::string_view bytes(std::uint64_t n) {
    if (!ok || n > in.size() - pos) return ok = false, std::string_view();
    std::string_view s = in.substr(pos, n);
    pos += n;
    return s;
  }
  std::string_view counted() { return bytes(varint()); }
};

void put_value(std::string& out, const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) {
    out.push_back(kString);
    put_bytes(out, *s);
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    out.push_back(kInt);
    put_varint(out, zigzag(*i));
  } else if (auto* d = std::get_if<double>(&v)) {
    out.push_back(kDouble);
    std::uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>(bits >> (8 * k)));
  } else if (auto* b = std::get_if<bool>(&v)) {
    out.push_back(*b ? kTrue : kFalse);
  } else if (auto* list = std::get_if<std::vector<std::string>>(&v)) {
    out.push_back(kList);
    put_varint(out, list->size());
    for (const auto& e : *list) put_bytes(out, e);
  }
}

bool read_value(Reader& r, AttrValue& v) {
  switch (r.byte()) {
    case kString: v = std::string(r.counted()); break;
    case kInt: v = unzigzag(r.varint()); break;
    case kDouble: {
      std::string_view b = r.bytes(8);
      if (!r.ok) return false;
      std::uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits |= std::uint64_t{static_cast<unsigned char>(b[k])} << (8 * k);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      v = d;
      break;
    }
    case kFalse: v = false; break;
    case kTrue: v = true; break;
    case kList: {
      std::uint64_t n = r.varint();
      if (!r.ok || n > r.in.size() - r.pos) return false;  // each element takes at least one byte
      std::vector<std::string> list;
      list.reserve(n);
      for (std::uint64_t k = 0; k < n && r.ok; ++k) list.emplace_back(r.counted());
      v = std::move(list);
      break;
    }
    default: return false;
  }
  return r.ok;
}

}  // namespace

std::int64_t KeyDictionary::find(std::string_view key) const {
  auto it = ids_.find(key);
  return it == ids_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

const std::string* KeyDictionary::key(std::uint64_t id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

void KeyDictionary::add(std::uint64_t id, std::string key) {
  if (keys_.count(id)) return;
  ids_.emplace(key, id);
  keys_.emplace(id, std::move(key));
  order_.push_back(id);
}

void KeyDictionary::rollback() {
  while (order_.size() > mark_) {
    auto it = keys_.find(order_.back());
    ids_.erase(it->second);
    keys_.erase(it);
    order_.pop_back();
  }
}

void append_attribute(std::string& out, std::uint64_t position, std::int64_t key_id, const Attribute& a) {
  put_varint(out, position);
  if (key_id >= 0) {
    put_varint(out, static_cast<std::uint64_t>(key_id) << 1);
  } else {
    put_varint(out, (std::uint64_t{a.key.size()} << 1) | 1);
    out.append(a.key);
  }
  put_value(out, a.value);
}

bool decode_attributes(std::string_view in, const KeyDictionary* keys,
                       std::vector<std::pair<std::uint64_t, Attribute>>& out, std::uint64_t* unknown_id) {
  Reader r{in};
  while (r.ok && !r.done()) {
    std::uint64_t position = r.varint();
    std::uint64_t ref = r.varint();
    Attribute a;
    if (ref & 1) {
      a.key = std::string(r.bytes(ref >> 1));
    } else {
      const std::string* k = keys ? keys->key(ref >> 1) : nullptr;
      if (k == nullptr) {
        if (unknown_id) *unknown_id = ref >> 1;
        return false;
      }
      a.key = *k;
    }
    if (!r.ok || !read_value(r, a.value)) return false;
    out.emplace_back(position, std::move(a));
  }
  return r.ok;
}

void encode_trace(const Trace& trace, std::string& out) {
  put_bytes(out, trace.trace_id);
  put_varint(out, trace.spans.size());
  for (const auto& s : trace.spans) {
    put_bytes(out, s.trace_id);
    put_bytes(out, s.span_id);
    put_bytes(out, s.parent_span_id);
    put_bytes(out, s.name);
    out.push_back(static_cast<char>(s.kind));
    put_varint(out, zigzag(s.start_ns));
    put_varint(out, zigzag(s.end_ns));
    out.push_back(s.error ? 1 : 0);
    put_bytes(out, s.status_message);
    std::string attrs;
    for (std::size_t i = 0; i < s.attributes.size(); ++i) append_attribute(attrs, i, -1, s.attributes[i]);
    put_bytes(out, attrs);
  }
  // Events after the spans, only when some span has them (a segment written without them reads as
  // before): per span with events, its index, the count, then each event.
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const auto& events = trace.spans[i].events;
    if (events.empty()) continue;
    put_varint(out, i);
    put_varint(out, events.size());
    for (const auto& e : events) {
      put_bytes(out, e.name);
      put_varint(out, zigzag(e.time_ns));
      std::string attrs;
      for (std::size_t k = 0; k < e.attributes.size(); ++k) append_attribute(attrs, k, -1, e.attributes[k]);
      put_bytes(out, attrs);
    }
  }
}

namespace {

bool read_kind(Reader& r, SpanKind& kind) {
  const unsigned char k = r.byte();
  if (!r.ok || k > static_cast<unsigned char>(SpanKind::kGuardrail)) return false;
  kind = static_cast<SpanKind>(k);
  return true;
}

// A counted attribute blob, its attributes appended to OUT in their order.
bool read_attributes(Reader& r, const KeyDictionary* keys, std::vector<Attribute>& out,
                     std::uint64_t* unknown_id = nullptr) {
  std::string_view blob = r.counted();
  std::vector<std::pair<std::uint64_t, Attribute>> attrs;
  if (!r.ok || !decode_attributes(blob, keys, attrs, unknown_id)) return false;
  out.reserve(out.size() + attrs.size());
  for (auto& [pos, a] : attrs) out.push_back(std::move(a));
  return true;
}

bool decode_events(Reader& r, Trace& out) {
  while (r.ok && !r.done()) {
    const std::uint64_t index = r.varint();
    const std::uint64_t n = r.varint();
    if (!r.ok || index >= out.spans.size() || n > r.in.size()) return false;
    auto& events = out.spans[index].events;
    for (std::uint64_t k = 0; k < n && r.ok; ++k) {
      SpanEvent e;
      e.name = std::string(r.counted());
      e.time_ns = unzigzag(r.varint());
      if (!read_attributes(r, nullptr, e.attributes)) return false;
      events.push_back(std::move(e));
    }
  }
  return r.ok;
}

}  // namespace

bool decode_trace(std::string_view in, Trace& out) {
  Reader r{in};
  out.trace_id = std::string(r.counted());
  std::uint64_t n = r.varint();
  if (!r.ok || n > in.size()) return false;
  out.spans.clear();
  out.spans.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok; ++i) {
    Span s;
    s.trace_id = std::string(r.counted());
    s.span_id = std::string(r.counted());
    s.parent_span_id = std::string(r.counted());
    s.name = std::string(r.counted());
    if (!read_kind(r, s.kind)) return false;
    s.start_ns = unzigzag(r.varint());
    s.end_ns = unzigzag(r.varint());
    s.error = r.byte() != 0;
    s.status_message = std::string(r.counted());
    if (!read_attributes(r, nullptr, s.attributes)) return false;
    out.spans.push_back(std::move(s));
  }
  return r.ok && decode_events(r, out) && r.done();
}

bool encode_compact_trace(const Trace& trace, const std::function<std::int64_t(std::string_view)>& key_id,
                          std::string& out) {
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < trace.spans.size(); ++i) index.emplace(trace.spans[i].span_id, i);
  put_varint(out, trace.spans.size());
  std::string attrs;
  for (const auto& s : trace.spans) {
    if (s.parent_span_id.empty()) {
      put_varint(out, 0);
    } else if (auto it = index.find(s.parent_span_id); it != index.end()) {
      put_varint(out, 2 * it->second + 1);
    } else {
      put_varint(out, 2);
      put_bytes(out, s.parent_span_id);
    }
    put_bytes(out, s.name);
    out.push_back(static_cast<char>(s.kind));
    put_varint(out, zigzag(s.start_ns));
    put_varint(out, zigzag(s.end_ns - s.start_ns));
    out.push_back(s.error ? 1 : 0);
    attrs.clear();
    for (std::size_t k = 0; k < s.attributes.size(); ++k) {
      const std::int64_t id = key_id(s.attributes[k].key);
      if (id < 0) return false;
      append_attribute(attrs, k, id, s.attributes[k]);
    }
    put_bytes(out, attrs);
  }
  return true;
}

bool decode_compact_trace(std::string_view in, const KeyDictionary& keys, Trace& out, std::uint64_t* unknown_id) {
  Reader r{in};
  const std::uint64_t n = r.varint();
  if (!r.ok || n > in.size()) return false;
  out.spans.clear();
  out.spans.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok; ++i) {
    Span s;
    s.trace_id = out.trace_id;
    s.span_id = std::to_string(i);
    const std::uint64_t parent = r.varint();
    if (parent == 2) s.parent_span_id = std::string(r.counted());
    else if (parent % 2 == 1 && (parent - 1) / 2 < n) s.parent_span_id = std::to_string((parent - 1) / 2);
    else if (parent != 0) return false;
    s.name = std::string(r.counted());
    if (!read_kind(r, s.kind)) return false;
    s.start_ns = unzigzag(r.varint());
    s.end_ns = s.start_ns + unzigzag(r.varint());
    s.error = r.byte() != 0;
    if (!read_attributes(r, &keys, s.attributes, unknown_id)) return false;
    out.spans.push_back(std::move(s));
  }
  return r.ok && r.done();
}

std::size_t approx_size(const Trace& trace) { return approx_trace_bytes(trace); }

}  // namespace llmtap::exporting::codec
