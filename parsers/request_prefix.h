#pragma once
// Skipping a request's repeated history (issue 16, large contexts). A coding agent re-sends its whole
// conversation with every turn, so a turn's request is the previous one's bytes up to its last
// message, then the new messages and the rest of the body. What the previous request's parse leaves
// behind, RequestPrefix (a few dozen bytes, kept per connection), lets the next parse check that with
// one pass of XXH3 over those bytes (~10x cheaper than parsing them) and parse only the document
// without the repeated array elements: the bytes up to the array's '[' (model, system, tools before
// it are read again as before), then what follows the last repeated element. `call.input` then holds
// only the messages after the repeated ones and `call.input_prefix` says how many were left out and
// under which key the trace stage recorded their history (trace/elided_history.h).
//
// Exact by construction: the skipped bytes are the ones the previous request had (same route, same
// length, same hash), the API maps each array element to messages on its own
// (ApiParser::resumable_array), and everything outside those elements is parsed as before. What the
// skipped elements would have fed beyond `input` makes a request take the whole parse: Responses
// `previous_response_id`/`conversation` (the trace continues those by id) and, when the request has no
// top-level instructions, system/developer messages among the skipped ones. Only the fast (simdjson)
// path resumes; anything it does not accept is parsed whole, by the path that would have read it.
// Sans-IO: bytes and the previous RequestPrefix in, ModelCall and the next RequestPrefix out.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/model_call.h"
#include "parsers/api_parser.h"
#include "parsers/fast_request.h"

namespace llmtap {

struct RequestPrefix {
  std::uint64_t route = 0;        // api, host and path of the request it describes
  std::size_t length = 0;         // bytes up to the end of the array's last element; 0: nothing to resume from
  std::size_t array_start = 0;    // bytes up to and including the array's '['
  std::uint64_t hash = 0;         // XXH3-64 of the first `length` bytes
  std::size_t messages = 0;       // messages those elements gave
  bool instruction_messages = false;  // some of them were system/developer messages

  bool empty() const { return length == 0; }
  // What ModelCall::input_prefix names these bytes by.
  std::uint64_t key() const;
};

// Reads `body` into `call` as parse_request_body(body, api, call, path) does, except that when
// `prefix` describes the first bytes of `body`, the messages of those bytes are left out (above).
// Afterwards `prefix` describes `body`, or is empty when a later request cannot resume from it.
RequestParsedBy parse_request_resuming(std::string& body, ApiParser& api, ModelCall& call, RequestPrefix& prefix,
                                       JsonParsePath path = JsonParsePath::kAuto);

}  // namespace llmtap
