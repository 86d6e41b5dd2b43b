#pragma once
// Incremental Server-Sent Events decoder (WHATWG "event stream" framing). Sans-IO: bytes in any
// chunking (down to one byte) in, complete events out. Lines end in CRLF, LF or CR; multi-line
// `data:` fields are joined with "\n"; comment lines are skipped. Bytes are kept as-is, so UTF-8
// sequences split across chunks come out whole.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

struct SseEvent {
  std::string event;  // the `event:` field, "" when absent (WHATWG default "message")
  std::string data;   // `data:` lines joined with "\n" (in an SseEventSink: see text)
  std::string id;     // the `id:` field when the event carried one
  // In an SseEventSink, the data: `data`, or (a single data line followed by at least kPadding
  // more bytes of the chunk being fed) that line where it lies in the chunk, valid during
  // on_event only. Either way kPadding bytes past its end are readable: a JSON parser that needs
  // padding (simdjson) reads it in place, without a copy.
  std::string_view text;
  static constexpr std::size_t kPadding = 64;  // simdjson's SIMDJSON_PADDING
};

// Receives each completed event. The event's storage is reused for the next one (no allocation
// per event): move from it to keep it.
class SseEventSink {
 public:
  virtual ~SseEventSink() = default;
  virtual void on_event(SseEvent& event) = 0;
};

class SseDecoder {
 public:
  // Hands every event completed by `bytes` to `sink`, in order.
  void feed(std::string_view bytes, SseEventSink& sink);
  // Appends every event completed by `bytes` to `out`.
  void feed(std::string_view bytes, std::vector<SseEvent>& out);
  // End of stream: an event whose lines are complete but whose blank line never came is still
  // delivered (lenient: servers that close right after the last event); a partial line is dropped.
  void finish(SseEventSink& sink);
  void finish(std::vector<SseEvent>& out);
  // Bytes of an unterminated line were pending when finish() was called.
  bool had_partial_line() const { return partial_at_finish_; }
  std::size_t max_line_bytes = 64u << 20;  // longer lines are cut (memory bound)

 private:
  // `in_chunk`: l lies in the bytes being fed, `rest` bytes of them follow it.
  void line(std::string_view l, bool in_chunk, std::size_t rest, SseEventSink& sink);
  void dispatch(SseEventSink& sink);
  void keep_in_place_data();

  std::string buf_;          // the current, unterminated line
  bool skip_lf_ = false;     // last chunk ended in CR: a leading LF belongs to it
  bool started_ = false;     // BOM check done
  bool has_data_ = false;
  bool has_fields_ = false;
  bool partial_at_finish_ = false;
  // The event's only data line so far, where it lies in the bytes being fed (not yet copied).
  std::string_view in_place_;
  bool has_in_place_ = false;
  SseEvent cur_;
};

}  // namespace llmtap
