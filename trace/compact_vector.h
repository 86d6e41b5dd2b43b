#pragma once
// A vector in 8 bytes: one pointer to a heap block holding its size, capacity and elements
// (nothing when empty). Open traces and conversations hold a dozen mostly empty or one-element
// vectors each, tens of thousands at once; std::vector's 24-byte header for each was a fifth of
// an idle conversation. Growth starts at one element (most hold one), then doubles; one element
// of at most 4 bytes is kept in the 8 bytes themselves.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace llmtap::trace {

template <class T>
class CompactVector {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  CompactVector() = default;
  CompactVector(std::initializer_list<T> init) { assign_range(init.begin(), init.end()); }
  CompactVector(const std::vector<T>& v) { assign_range(v.begin(), v.end()); }  // NOLINT: drop-in for std::vector
  CompactVector(std::vector<T>&& v) { assign_moved(v); }                         // NOLINT
  CompactVector(const CompactVector& o) { assign_range(o.begin(), o.end()); }
  CompactVector(CompactVector&& o) noexcept { take(o); }
  ~CompactVector() { destroy(); }
  CompactVector& operator=(const CompactVector& o) {
    if (this != &o) {
      destroy();
      assign_range(o.begin(), o.end());
    }
    return *this;
  }
  CompactVector& operator=(CompactVector&& o) noexcept {
    if (this != &o) {
      destroy();
      take(o);
    }
    return *this;
  }
  CompactVector& operator=(const std::vector<T>& v) {
    destroy();
    assign_range(v.begin(), v.end());
    return *this;
  }
  CompactVector& operator=(std::vector<T>&& v) {
    destroy();
    assign_moved(v);
    return *this;
  }

  std::size_t size() const { return one() ? 1 : block() ? block()->size : 0; }
  bool empty() const { return size() == 0; }
  T* data() { return one() ? the_one() : block() ? elems(block()) : nullptr; }
  const T* data() const { return const_cast<CompactVector*>(this)->data(); }
  iterator begin() { return data(); }
  iterator end() { return data() + size(); }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size() - 1]; }
  const T& back() const { return data()[size() - 1]; }

  void clear() { destroy(); }
  void shrink_to_fit() {
    Block* b = block();
    if (b == nullptr || b->size == b->cap) return;
    if constexpr (kOneInline) {
      if (b->size == 1) {
        const T v = elems(b)[0];
        ::operator delete(b);
        set_one(v);
        return;
      }
    }
    regrow(b->size);
  }
  void reserve(std::size_t n) {
    if (n > capacity() && !(kOneInline && n == 1)) regrow(n);
  }
  std::size_t capacity() const { return one() ? 1 : block() ? block()->cap : 0; }

  template <class... A>
  T& emplace_back(A&&... args) {
    if constexpr (kOneInline) {
      if (word() == 0) {
        set_one(T(std::forward<A>(args)...));
        return *the_one();
      }
    }
    if (size() == capacity()) regrow(capacity() == 0 ? 1 : 2 * capacity());
    Block* b = block();
    T* p = new (elems(b) + b->size) T(std::forward<A>(args)...);
    ++b->size;
    return *p;
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }

  iterator insert(const_iterator pos, T v) {
    const std::size_t at = static_cast<std::size_t>(pos - begin());
    emplace_back(std::move(v));
    std::rotate(begin() + at, end() - 1, end());
    return begin() + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const std::size_t at = static_cast<std::size_t>(first - begin());
    const std::size_t n = static_cast<std::size_t>(last - first);
    if (n == 0) return begin() + at;
    T* new_end = std::move(begin() + at + n, end(), begin() + at);
    for (T* p = new_end; p != end(); ++p) p->~T();
    if (one()) {
      set_word(0);
      return begin();
    }
    block()->size -= static_cast<std::uint32_t>(n);
    if (block()->size == 0) destroy();
    return begin() + at;
  }

  friend bool operator==(const CompactVector& a, const CompactVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  struct Block {
    std::uint32_t size;
    std::uint32_t cap;
  };
  // A vector of one small element (a node index) holds it in its own word, after a tag byte
  // (a block's address has its low bits clear), instead of a 24-byte block: most hold one.
  static constexpr bool kOneInline =
      sizeof(T) <= 4 && alignof(T) <= 4 && std::is_trivially_copyable_v<T> && std::endian::native == std::endian::little;
  static constexpr unsigned char kOneTag = 1;
  static constexpr std::size_t kOneAt = 4;

  static constexpr std::size_t kOffset = (sizeof(Block) + alignof(T) - 1) / alignof(T) * alignof(T);
  static T* elems(Block* b) { return reinterpret_cast<T*>(reinterpret_cast<char*>(b) + kOffset); }
  static Block* allocate(std::size_t cap) {
    auto* b = static_cast<Block*>(::operator new(kOffset + cap * sizeof(T)));
    b->size = 0;
    b->cap = static_cast<std::uint32_t>(cap);
    return b;
  }

  std::uintptr_t word() const {
    std::uintptr_t w;
    std::memcpy(&w, w_, sizeof w);
    return w;
  }
  void set_word(std::uintptr_t w) { std::memcpy(w_, &w, sizeof w); }
  bool one() const { return kOneInline && w_[0] == kOneTag; }
  T* the_one() { return std::launder(reinterpret_cast<T*>(w_ + kOneAt)); }
  void set_one(const T& v) {
    set_word(kOneTag);
    new (w_ + kOneAt) T(v);
  }
  Block* block() const { return one() ? nullptr : reinterpret_cast<Block*>(word()); }
  void take(CompactVector& o) noexcept {
    std::memcpy(w_, o.w_, sizeof w_);  // a block's address, or the one element (trivially copyable)
    o.set_word(0);
  }

  void regrow(std::size_t cap) {
    Block* nb = allocate(cap);
    const std::size_t n = size();
    T* from = data();
    for (std::size_t i = 0; i < n; ++i) {
      new (elems(nb) + i) T(std::move(from[i]));
      from[i].~T();
    }
    nb->size = static_cast<std::uint32_t>(n);
    if (Block* b = block()) ::operator delete(b);
    set_word(reinterpret_cast<std::uintptr_t>(nb));
  }
  template <class It>
  void assign_range(It first, It last) {
    const auto n = static_cast<std::size_t>(std::distance(first, last));
    if (n == 0) return;
    if (!(kOneInline && n == 1)) set_word(reinterpret_cast<std::uintptr_t>(allocate(n)));
    for (; first != last; ++first) emplace_back(*first);
  }
  void assign_moved(std::vector<T>& v) {
    if (v.empty()) return;
    if (!(kOneInline && v.size() == 1)) set_word(reinterpret_cast<std::uintptr_t>(allocate(v.size())));
    for (auto& e : v) emplace_back(std::move(e));
  }
  void destroy() {
    if (word() == 0) return;
    for (T& e : *this) e.~T();
    if (Block* b = block()) ::operator delete(b);
    set_word(0);
  }
  // A Block's address (null when empty), or kOneTag and one element at kOneAt.
  alignas(std::uintptr_t) unsigned char w_[sizeof(std::uintptr_t)] = {};
};

}  // namespace llmtap::trace
