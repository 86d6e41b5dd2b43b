#pragma once
// Sans-IO HTTP/1.1 message framing for the proxy: learns where a message (header, Content-Length or
// chunked body, or body-until-EOF) ends, without storing or altering the body. The proxy forwards the
// exact bytes it received, so the wire bytes stay unchanged and nothing is buffered whole.
#include <boost/beast/http/basic_parser.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/transfer_coding.h"

namespace llmtap::proxy {

namespace http = boost::beast::http;

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// A message's header fields in arrival order, as received (names keep their case), all in one
// buffer: a field costs no allocation of its own, and a store a connection reuses for each of its
// messages costs none once it has grown to the connection's largest header (the proxy profile
// showed a string pair per field and the vector's regrowth as the IO threads' top malloc callers).
class HeaderFields {
 public:
  class const_iterator {
   public:
    HeaderField operator*() const { return owner_->at(i_); }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    friend class HeaderFields;
    const_iterator(const HeaderFields* owner, std::size_t i) : owner_(owner), i_(i) {}
    const HeaderFields* owner_;
    std::size_t i_;
  };

  void clear() {
    bytes_.clear();
    spans_.clear();
  }
  void add(std::string_view name, std::string_view value) {
    spans_.push_back({static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(name.size()),
                      static_cast<std::uint32_t>(value.size())});
    bytes_.append(name);
    bytes_.append(value);
  }
  std::size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  HeaderField at(std::size_t i) const {
    const Span& s = spans_[i];
    const std::string_view all(bytes_);
    return {all.substr(s.at, s.name_len), all.substr(s.at + s.name_len, s.value_len)};
  }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, spans_.size()}; }

 private:
  struct Span {
    std::uint32_t at, name_len, value_len;  // the header is bounded by header_limit, far below 4 GB
  };
  std::string bytes_;
  std::vector<Span> spans_;
};

template <bool isRequest>
class MessageFraming final : public http::basic_parser<isRequest> {
 public:
  explicit MessageFraming(std::size_t header_limit) : MessageFraming(header_limit, own_fields_) {}
  // Keeps the fields in FIELDS (cleared here), which must outlive this parser: a connection passes
  // the same store for each of its messages.
  MessageFraming(std::size_t header_limit, HeaderFields& fields) : fields_(fields) {
    fields_.clear();
    this->header_limit(static_cast<std::uint32_t>(header_limit));
    this->body_limit(std::numeric_limits<std::uint64_t>::max());
    this->eager(true);
  }

  // Request line / status line.
  http::verb method() const { return method_; }
  const std::string& method_string() const { return method_str_; }
  const std::string& target() const { return target_; }
  int status() const { return status_; }
  int version() const { return version_; }
  // Header fields in arrival order, as received (names keep their case).
  const HeaderFields& fields() const { return fields_; }
  std::string_view field_value(std::string_view lower_name) const {
    for (const auto& f : fields_)
      if (iequals(f.name, lower_name)) return f.value;
    return {};
  }
  bool expects_continue() const { return iequals(field_value("expect"), "100-continue"); }

  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(http::verb method, string_view method_str, string_view target, int version,
                       error_code&) override {
    method_ = method;
    method_str_.assign(method_str.data(), method_str.size());
    target_.assign(target.data(), target.size());
    version_ = version;
  }
  void on_response_impl(int code, string_view, int version, error_code&) override {
    status_ = code;
    version_ = version;
  }
  void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
    fields_.add({name.data(), name.size()}, {value.data(), value.size()});
  }
  // Beast reads a request whose last transfer coding is not chunked as having no body, and its body
  // as the next request. RFC 9112 §6.3: such a request cannot be framed; answer 400 and close.
  void on_header_impl(error_code& ec) override {
    if constexpr (isRequest) {
      TransferCodingList codings;
      for (const auto& f : fields_)
        if (iequals(f.name, "transfer-encoding")) codings.add(f.value);
      auto framing = codings.framing();
      if (framing == TransferFraming::kNotChunked || framing == TransferFraming::kInvalid)
        ec = http::error::bad_transfer_encoding;
    }
  }
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override { return body.size(); }
  void on_finish_impl(error_code&) override {}

  http::verb method_ = http::verb::unknown;
  std::string method_str_;
  std::string target_;
  int status_ = 0;
  int version_ = 11;
  HeaderFields own_fields_;  // unused when the caller passes a store
  HeaderFields& fields_;
};

// How far a read buffer has been forwarded, apart from how far the parser has consumed it. Beast takes
// the CRLF closing a chunk's data only together with the next chunk-size line, so forwarding just the
// consumed bytes would hold that CRLF back until the next chunk arrives. While a message's body is
// still open, every received byte belongs to it and goes out at once; once the message is complete,
// only the bytes up to its end do (what follows is the next message).
class ForwardCursor {
 public:
  struct Slice {
    std::size_t offset = 0;  // from the buffer front (= the parser's position)
    std::size_t size = 0;
  };
  // After put() consumed PARSED of BUFFERED bytes: the slice not yet forwarded to send now.
  // BODY_OPEN: header done and message not complete.
  Slice next(std::size_t parsed, std::size_t buffered, bool body_open) const {
    std::size_t end = body_open ? buffered : parsed;
    return end > ahead_ ? Slice{ahead_, end - ahead_} : Slice{ahead_, 0};
  }
  // Once SENT is out and PARSED bytes are dropped from the buffer front.
  void advance(Slice sent, std::size_t parsed) {
    std::size_t sent_end = std::max(ahead_, sent.offset + sent.size);
    ahead_ = sent_end > parsed ? sent_end - parsed : 0;
  }
  // Bytes at the buffer front already forwarded but not yet parsed. Nonzero once the message is
  // complete means the peer sent bytes past the message end that went out with it.
  std::size_t ahead() const { return ahead_; }
  void reset() { ahead_ = 0; }

 private:
  std::size_t ahead_ = 0;
};

using RequestFraming = MessageFraming<true>;
using ResponseFraming = MessageFraming<false>;

}  // namespace llmtap::proxy
