#include "parsers/http1_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/ascii.h"
#include "common/transfer_coding.h"

namespace llmtap {
namespace {

constexpr std::size_t kMaxLine = 8 * 1024;

// ASCII case folding inline (common/ascii.h): std::tolower is a libc call per byte, and every
// header name of every message is compared here.
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool icontains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto c = list.find(',');
    std::string_view t = list.substr(0, c);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (iequals(t, token)) return true;
    if (c == std::string_view::npos) break;
    list.remove_prefix(c + 1);
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits header lines "Name: value" (with obsolete line folding) into `out`.
void parse_header_lines(std::string_view text, Headers& out) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().value.push_back(' ');
      out.back().value.append(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // tolerated: not a header
    out.push_back(Header{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
}

bool is_method_token(std::string_view m) {
  if (m.empty() || m.size() > 20) return false;
  return std::all_of(m.begin(), m.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) || c == '-'; });
}

// Is `line` (without terminator) the start line of a message of `kind`?
bool looks_like_start_line(Http1Kind kind, std::string_view line) {
  if (kind == Http1Kind::kResponse) {
    return line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && line[8] == ' ' &&
           std::isdigit(static_cast<unsigned char>(line[9]));
  }
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || !is_method_token(line.substr(0, sp))) return false;
  auto v = line.rfind(" HTTP/1.");
  return v != std::string_view::npos && v > sp;
}

// Position just past the blank line ending a head, or npos.
std::size_t find_head_end(std::string_view s, std::size_t from) {
  for (std::size_t i = s.find('\n', from); i != std::string_view::npos; i = s.find('\n', i + 1)) {
    std::size_t j = i + 1;
    if (j < s.size() && s[j] == '\r') ++j;
    if (j < s.size() && s[j] == '\n') return j + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool Http1Parser::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  buf_.clear();
  return false;
}

bool Http1Parser::feed(std::string_view bytes) {
  std::string carry;  // bytes following a head that was completed inside buf_
  while (!bytes.empty()) {
    switch (state_) {
      case State::kFailed:
        return false;
      case State::kTunnel:
        cb_.on_tunnel_data(bytes);
        return true;
      case State::kResync: {
        // A chunk is what one read returned, and a client or server usually writes a message's head
        // in one write: a chunk that starts with a start line is a message boundary. Without this
        // check, a keep-alive connection whose bodies do not end in a newline (JSON) never resyncs:
        // each start line follows the last body's closing brace, never a '\n'.
        if (const auto nl = bytes.find('\n'); nl != std::string_view::npos) {
          std::string_view line = bytes.substr(0, nl);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (looks_like_start_line(kind_, line)) {
            buf_.clear();
            state_ = State::kHead;
            break;
          }
        }
        buf_.append(bytes);
        bytes = {};
        if (!try_resync()) return true;
        carry.swap(buf_);
        buf_.clear();
        bytes = carry;
        break;
      }
      case State::kHead: {
        if (buf_.empty()) {
          // Stray CRLFs between messages are allowed before a start line.
          while (!bytes.empty() && (bytes[0] == '\r' || bytes[0] == '\n')) bytes.remove_prefix(1);
          if (bytes.empty()) return true;
          // Fail fast on bytes that cannot start a message (TLS records, binary protocols).
          auto c0 = static_cast<unsigned char>(bytes[0]);
          if (kind_ == Http1Kind::kResponse ? c0 != 'H' : !(std::isupper(c0) != 0)) return fail("not HTTP/1");
          cb_.on_message_begin();
        }
        std::size_t from = buf_.size() > 3 ? buf_.size() - 3 : 0;
        std::size_t take = std::min(bytes.size(), max_head_bytes + 4 - std::min(buf_.size(), max_head_bytes));
        buf_.append(bytes.substr(0, take));
        std::size_t end = find_head_end(buf_, from);
        if (end == std::string::npos) {
          if (buf_.size() > max_head_bytes) return fail("head too large");
          bytes.remove_prefix(take);
          break;
        }
        // The head ends inside this chunk: what follows it is still unconsumed input.
        std::size_t used_from_bytes = end - (buf_.size() - take);
        std::string head_text = buf_.substr(0, end);
        buf_.clear();
        bytes.remove_prefix(used_from_bytes);
        if (!parse_head(head_text)) return false;
        break;
      }
      case State::kBodyLength: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
        cb_.on_body(bytes.substr(0, n));
        bytes.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) end_message();
        break;
      }
      case State::kBodyClose:
        cb_.on_body(bytes);
        return true;
      case State::kChunkSize:
      case State::kChunkDataEnd:
      case State::kTrailers: {
        auto nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
          buf_.append(bytes);
          if (buf_.size() > (state_ == State::kTrailers ? max_head_bytes : kMaxLine)) return fail("line too long");
          return true;
        }
        buf_.append(bytes.substr(0, nl));
        bytes.remove_prefix(nl + 1);
        std::string line;
        line.swap(buf_);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (state_ == State::kChunkDataEnd) {
          if (!line.empty()) return fail("missing CRLF after chunk");
          state_ = State::kChunkSize;
        } else if (state_ == State::kChunkSize) {
          std::string_view sz = trim(std::string_view(line).substr(0, line.find(';')));
          std::uint64_t v = 0;
          auto [p, ec] = std::from_chars(sz.data(), sz.data() + sz.size(), v, 16);
          if (sz.empty() || ec != std::errc() || p != sz.data() + sz.size()) return fail("bad chunk size");
          if (v == 0) {
            state_ = State::kTrailers;
          } else {
            remaining_ = v;
            state_ = State::kChunkData;
          }
        } else {  // trailers: header lines until an empty one; buf_ keeps nothing between lines
          if (line.empty()) {
            if (!head_.headers.empty() || true) {
              Headers trailers;
              parse_header_lines(trailer_text_, trailers);
              trailer_text_.clear();
              if (!trailers.empty()) cb_.on_trailers(trailers);
            }
            end_message();
          } else {
            trailer_text_.append(line).push_back('\n');
            if (trailer_text_.size() > max_head_bytes) return fail("trailers too large");
          }
        }
        break;
      }
      case State::kChunkData: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
        cb_.on_body(bytes.substr(0, n));
        bytes.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }
    }
  }
  return state_ != State::kFailed;
}

bool Http1Parser::parse_head(std::string_view text) {
  head_ = Http1Head{};
  auto nl = text.find('\n');
  std::string_view start = text.substr(0, nl);
  if (!start.empty() && start.back() == '\r') start.remove_suffix(1);
  if (!looks_like_start_line(kind_, start)) return fail("bad start line");
  if (kind_ == Http1Kind::kRequest) {
    auto sp1 = start.find(' ');
    auto sp2 = start.rfind(' ');
    head_.method.assign(start.substr(0, sp1));
    head_.target.assign(trim(start.substr(sp1 + 1, sp2 - sp1 - 1)));
    std::string_view ver = start.substr(sp2 + 1);
    head_.version_minor = ver.size() > 7 && ver[7] == '0' ? 0 : 1;
  } else {
    head_.version_minor = start[7] == '0' ? 0 : 1;
    std::string_view code = start.substr(9, 3);
    int st = 0;
    auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), st);
    if (ec != std::errc() || p != code.data() + code.size()) return fail("bad status");
    head_.status = st;
    if (start.size() > 13) head_.reason.assign(start.substr(13));
  }
  parse_header_lines(text.substr(nl + 1), head_.headers);

  bool te_seen = false, cl_seen = false;
  TransferCodingList codings;
  head_.keep_alive = head_.version_minor >= 1;
  for (const auto& h : head_.headers) {
    if (iequals(h.name, "transfer-encoding")) {
      te_seen = true;
      codings.add(h.value);
    } else if (iequals(h.name, "content-length")) {
      std::string_view v = trim(h.value);
      if (auto c = v.find(','); c != std::string_view::npos) v = trim(v.substr(0, c));
      std::int64_t n = -1;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 0) return fail("bad content-length");
      if (cl_seen && n != head_.content_length) return fail("conflicting content-length");
      cl_seen = true;
      head_.content_length = n;
    } else if (iequals(h.name, "connection")) {
      if (icontains_token(h.value, "close")) head_.keep_alive = false;
      if (icontains_token(h.value, "keep-alive")) head_.keep_alive = true;
    }
  }
  if (te_seen) head_.content_length = -1;  // Transfer-Encoding overrides Content-Length
  // Chunked counts only as the final coding; otherwise a response runs to close, and a request
  // cannot be framed (RFC 9112 §6.3): the proxy answered it 400, so its bytes are not a message.
  head_.chunked = codings.framing() == TransferFraming::kChunked;
  if (kind_ == Http1Kind::kRequest && te_seen && !head_.chunked)
    return fail("request transfer-encoding does not end in chunked");
  begin_body();
  return state_ != State::kFailed;
}

void Http1Parser::begin_body() {
  if (kind_ == Http1Kind::kRequest) {
    cb_.on_head(head_);
    bool connect = head_.method == "CONNECT";
    if (head_.chunked) {
      state_ = State::kChunkSize;
    } else if (head_.content_length > 0) {
      remaining_ = static_cast<std::uint64_t>(head_.content_length);
      state_ = State::kBodyLength;
    } else {
      end_message();
    }
    if (connect && state_ == State::kHead) state_ = State::kTunnel;
    return;
  }
  std::string method = cb_.request_method();
  int st = head_.status;
  cb_.on_head(head_);
  if (st >= 100 && st < 200) {
    state_ = st == 101 ? State::kTunnel : State::kHead;  // interim: the final response follows
    return;
  }
  if (method == "CONNECT" && st >= 200 && st < 300) {
    end_message();
    state_ = State::kTunnel;
    return;
  }
  if (method == "HEAD" || st == 204 || st == 304) {
    end_message();
  } else if (head_.chunked) {
    state_ = State::kChunkSize;
  } else if (head_.content_length >= 0) {
    remaining_ = static_cast<std::uint64_t>(head_.content_length);
    if (remaining_ == 0) {
      end_message();
    } else {
      state_ = State::kBodyLength;
    }
  } else {
    state_ = State::kBodyClose;
  }
}

void Http1Parser::end_message() {
  state_ = State::kHead;
  cb_.on_message_end();
}

bool Http1Parser::eof() {
  switch (state_) {
    case State::kBodyClose:
      end_message();
      return true;
    case State::kHead:
      return buf_.empty();
    case State::kTunnel:
    case State::kResync:
      return true;
    default:
      return false;
  }
}

bool Http1Parser::enter_tunnel() {
  if (state_ != State::kHead || !buf_.empty()) return state_ == State::kTunnel;
  state_ = State::kTunnel;
  return true;
}

void Http1Parser::resync() {
  if (state_ == State::kTunnel) return;
  state_ = State::kResync;
  buf_.clear();
  trailer_text_.clear();
  resync_line_start_ = true;
}

bool Http1Parser::try_resync() {
  // Candidates: the first byte after the gap and every byte after a '\n'.
  std::size_t pos = 0;
  bool candidate = resync_line_start_;
  while (pos < buf_.size()) {
    auto nl = buf_.find('\n', pos);
    if (nl == std::string::npos) break;
    if (candidate) {
      std::string_view line(buf_.data() + pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (looks_like_start_line(kind_, line)) {
        buf_.erase(0, pos);
        state_ = State::kHead;
        return true;
      }
    }
    candidate = true;
    pos = nl + 1;
  }
  // Keep only the unterminated tail (bounded) for the next round.
  resync_line_start_ = candidate;
  buf_.erase(0, pos);
  if (buf_.size() > kMaxLine) {
    buf_.clear();
    resync_line_start_ = false;
  }
  return false;
}

}  // namespace llmtap
