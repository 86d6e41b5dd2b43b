#include "parsers/request_prefix.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <algorithm>
#include <optional>
#include <utility>

#include <simdjson.h>

namespace llmtap {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_instruction(const Message& m) { return m.role == "system" || m.role == "developer"; }

std::uint64_t route_of(const ModelCall& call) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (const std::string* s : {&call.api, &call.host, &call.path}) XXH3_64bits_update(&st, s->data(), s->size() + 1);
  return XXH3_64bits_digest(&st);
}

// In a valid JSON object: the offset just past its one top-level `key` array's '[' and the offset
// just past that array's last element (equal when it is empty). Nothing when the key is missing,
// repeated (the views read the last one) or not an array.
struct ArraySpan {
  std::size_t open_end;
  std::size_t last_end;
};
std::optional<ArraySpan> locate_array(const std::string& doc, std::string_view key) {
  if (doc.capacity() < doc.size() + simdjson::SIMDJSON_PADDING) return std::nullopt;
  thread_local simdjson::ondemand::parser parser;
  // Its index is sized by the largest document so far: a large body's is not kept (as the DOM's).
  struct Release {
    ~Release() {
      if (parser.capacity() > (4u << 20)) parser = simdjson::ondemand::parser();
    }
  } release;
  simdjson::ondemand::document d;
  simdjson::ondemand::object obj;
  if (parser.iterate(doc.data(), doc.size(), doc.capacity()).get(d) || d.get_object().get(obj)) return std::nullopt;
  std::optional<ArraySpan> out;
  bool seen = false;
  for (auto field : obj) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return std::nullopt;
    if (name != key) continue;  // the value is skipped by the next step
    if (seen) return std::nullopt;
    seen = true;
    simdjson::ondemand::array array;
    std::string_view raw;
    if (field.value().get_array().get(array) || array.raw_json().get(raw)) return std::nullopt;
    while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);  // it runs up to the next token
    if (raw.size() < 2 || raw.back() != ']') return std::nullopt;
    std::size_t last = raw.size() - 1;  // the ']'
    while (last > 1 && is_space(raw[last - 1])) --last;
    const auto at = static_cast<std::size_t>(raw.data() - doc.data());
    out = ArraySpan{at + 1, at + last};
  }
  return out;
}

// The prefix of a request just read whole (on the fast path), for the next one to resume from.
RequestPrefix describe(std::string& body, std::string_view array, const ModelCall& call) {
  if (!call.previous_response_id.empty() || !call.conversation_id.empty()) return {};
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);  // small bodies were parsed from a padded copy
  const std::optional<ArraySpan> span = locate_array(body, array);
  if (!span || span->last_end == span->open_end) return {};
  RequestPrefix p;
  p.route = route_of(call);
  p.length = span->last_end;
  p.array_start = span->open_end;
  p.hash = XXH3_64bits(body.data(), p.length);
  p.messages = call.input.size();
  p.instruction_messages = std::any_of(call.input.begin(), call.input.end(), is_instruction);
  return p;
}

// Parses `body` without the elements `prev` describes, into `call`; false, touching neither `call`
// nor `next`, when `prev` does not describe the start of `body` or the shortened document cannot
// stand for the whole one.
bool resume(std::string& body, ApiParser& api, ModelCall& call, const RequestPrefix& prev, std::string_view array,
            RequestPrefix& next) {
  if (prev.empty() || prev.route != route_of(call) || body.size() <= prev.length) return false;
  std::size_t p = prev.length;
  while (p < body.size() && is_space(body[p])) ++p;
  if (p == body.size() || (body[p] != ',' && body[p] != ']')) return false;
  // One streaming pass: the old prefix's digest, then on through the new elements for the next one.
  XXH3_state_t hash;
  XXH3_64bits_reset(&hash);
  XXH3_64bits_update(&hash, body.data(), prev.length);
  if (XXH3_64bits_digest(&hash) != prev.hash) return false;

  // The document as if the array held only the new elements.
  const std::size_t rest = body[p] == ',' ? p + 1 : p;
  if (body[p] == ',') {
    // "[a,]" is not JSON, while "[]" would be: leave that to the whole parse.
    std::size_t q = rest;
    while (q < body.size() && is_space(body[q])) ++q;
    if (q == body.size() || body[q] == ']') return false;
  }
  thread_local std::string doc;
  doc.clear();
  doc.reserve(prev.array_start + (body.size() - rest) + simdjson::SIMDJSON_PADDING);
  doc.append(body, 0, prev.array_start).append(body, rest, std::string::npos);
  ModelCall attempt = call;
  if (!read_request_fast(doc, api, attempt)) return false;
  if (!attempt.previous_response_id.empty() || !attempt.conversation_id.empty()) return false;
  if (prev.instruction_messages && attempt.system_instructions.empty()) return false;
  const std::optional<ArraySpan> span = locate_array(doc, array);
  if (!span || span->open_end != prev.array_start) return false;

  next = prev;
  if (span->last_end > span->open_end) {
    // Doc offsets past the head are body offsets less what was cut out.
    next.length = span->last_end + (rest - prev.array_start);
    XXH3_64bits_update(&hash, body.data() + prev.length, next.length - prev.length);
    next.hash = XXH3_64bits_digest(&hash);
  }
  next.messages = prev.messages + attempt.input.size();
  next.instruction_messages =
      prev.instruction_messages || std::any_of(attempt.input.begin(), attempt.input.end(), is_instruction);
  attempt.input_prefix.elided_key = prev.key();
  attempt.input_prefix.elided_messages = prev.messages;
  attempt.input_prefix.key = next.key();
  call = std::move(attempt);
  if (doc.capacity() > (4u << 20)) std::string().swap(doc);  // a large turn's copy is not kept
  return true;
}

}  // namespace

std::uint64_t RequestPrefix::key() const {
  const std::uint64_t parts[3] = {route, static_cast<std::uint64_t>(length), hash};
  return XXH3_64bits(parts, sizeof parts) | 1;  // never 0 ("none")
}

RequestParsedBy parse_request_resuming(std::string& body, ApiParser& api, ModelCall& call, RequestPrefix& prefix,
                                       JsonParsePath path) {
  const std::string_view array = api.resumable_array();
  const RequestPrefix prev = std::exchange(prefix, RequestPrefix{});
  if (path != JsonParsePath::kAuto || array.empty() || !api.has_fast_path())
    return parse_request_body(body, api, call, path);
  if (resume(body, api, call, prev, array, prefix)) return RequestParsedBy::kFast;
  const RequestParsedBy by = parse_request_body(body, api, call, path);
  if (by == RequestParsedBy::kFast) {
    prefix = describe(body, array, call);
    call.input_prefix.key = prefix.empty() ? 0 : prefix.key();
  }
  return by;
}

}  // namespace llmtap
