#pragma once
// Minimal protobuf wire-format writer and reader: enough for OTLP trace requests without a protoc
// step. Nested messages are built bottom-up into their own buffers, then length-prefixed.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace llmtap::exporting::pb {

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

class Writer {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) { out_.push_back(static_cast<char>(v | 0x80)); v >>= 7; }
    out_.push_back(static_cast<char>(v));
  }
  void tag(std::uint32_t field, WireType type) { varint((std::uint64_t{field} << 3) | type); }
  void uint_field(std::uint32_t field, std::uint64_t v) { tag(field, kVarint); varint(v); }
  void bool_field(std::uint32_t field, bool v) { uint_field(field, v ? 1 : 0); }
  void bytes_field(std::uint32_t field, std::string_view v) {
    tag(field, kLen);
    varint(v.size());
    out_.append(v);
  }
  void fixed64_field(std::uint32_t field, std::uint64_t v) {
    tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void double_field(std::uint32_t field, double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    fixed64_field(field, bits);
  }
  std::string& data() { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Pull reader over one message; next() yields fields until the end or a malformed byte.
class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  struct Field {
    std::uint32_t number = 0;
    WireType type = kVarint;
    std::uint64_t value = 0;  // varint / fixed
    std::string_view bytes;   // kLen
  };
  bool next(Field* f) {
    if (pos_ >= d_.size()) return false;
    std::uint64_t key;
    if (!read_varint(&key)) return fail();
    f->number = static_cast<std::uint32_t>(key >> 3);
    f->type = static_cast<WireType>(key & 7);
    switch (f->type) {
      case kVarint: return read_varint(&f->value) || fail();
      case kFixed64: return read_fixed(8, &f->value) || fail();
      case kFixed32: return read_fixed(4, &f->value) || fail();
      case kLen: {
        std::uint64_t n;
        if (!read_varint(&n) || n > d_.size() - pos_) return fail();
        f->bytes = d_.substr(pos_, n);
        pos_ += n;
        return true;
      }
    }
    return fail();
  }
  bool ok() const { return ok_; }

 private:
  bool fail() { ok_ = false; pos_ = d_.size(); return false; }
  bool read_varint(std::uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && pos_ < d_.size(); shift += 7) {
      auto b = static_cast<unsigned char>(d_[pos_++]);
      *v |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool read_fixed(int n, std::uint64_t* v) {
    if (d_.size() - pos_ < static_cast<std::size_t>(n)) return false;
    *v = 0;
    for (int i = 0; i < n; ++i) *v |= std::uint64_t{static_cast<unsigned char>(d_[pos_ + i])} << (8 * i);
    pos_ += n;
    return true;
  }
  std::string_view d_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace llmtap::exporting::pb
