#pragma once
// A vector in 8 bytes: one pointer to a heap block holding its size, capacity and elements
// (nothing when empty). Open traces and conversations hold a dozen mostly empty or one-element
// vectors each, tens of thousands at once; std::vector's 24-byte header for each was a fifth of
// an idle conversation. Growth starts at one element (most hold one), then doubles.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <new>
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
  CompactVector(CompactVector&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
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
      b_ = std::exchange(o.b_, nullptr);
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

  std::size_t size() const { return b_ ? b_->size : 0; }
  bool empty() const { return size() == 0; }
  T* data() { return b_ ? elems(b_) : nullptr; }
  const T* data() const { return b_ ? elems(b_) : nullptr; }
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
    if (b_ != nullptr && b_->size < b_->cap) regrow(b_->size);
  }
  void reserve(std::size_t n) {
    if (n > capacity()) regrow(n);
  }
  std::size_t capacity() const { return b_ ? b_->cap : 0; }

  template <class... A>
  T& emplace_back(A&&... args) {
    if (size() == capacity()) regrow(capacity() == 0 ? 1 : 2 * capacity());
    T* p = new (elems(b_) + b_->size) T(std::forward<A>(args)...);
    ++b_->size;
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
    b_->size -= static_cast<std::uint32_t>(n);
    if (b_->size == 0) destroy();
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
  static constexpr std::size_t kOffset = (sizeof(Block) + alignof(T) - 1) / alignof(T) * alignof(T);
  static T* elems(Block* b) { return reinterpret_cast<T*>(reinterpret_cast<char*>(b) + kOffset); }
  static const T* elems(const Block* b) {
    return reinterpret_cast<const T*>(reinterpret_cast<const char*>(b) + kOffset);
  }
  static Block* allocate(std::size_t cap) {
    auto* b = static_cast<Block*>(::operator new(kOffset + cap * sizeof(T)));
    b->size = 0;
    b->cap = static_cast<std::uint32_t>(cap);
    return b;
  }
  void regrow(std::size_t cap) {
    Block* nb = allocate(cap);
    for (std::size_t i = 0; i < size(); ++i) {
      new (elems(nb) + i) T(std::move(elems(b_)[i]));
      elems(b_)[i].~T();
    }
    nb->size = static_cast<std::uint32_t>(size());
    if (b_ != nullptr) ::operator delete(b_);
    b_ = nb;
  }
  template <class It>
  void assign_range(It first, It last) {
    const auto n = static_cast<std::size_t>(std::distance(first, last));
    if (n == 0) return;
    b_ = allocate(n);
    for (; first != last; ++first) emplace_back(*first);
  }
  void assign_moved(std::vector<T>& v) {
    if (v.empty()) return;
    b_ = allocate(v.size());
    for (auto& e : v) emplace_back(std::move(e));
  }
  void destroy() {
    if (b_ == nullptr) return;
    for (T& e : *this) e.~T();
    ::operator delete(b_);
    b_ = nullptr;
  }
  Block* b_ = nullptr;
};

}  // namespace llmtap::trace
