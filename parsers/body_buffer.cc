#include "parsers/body_buffer.h"

#include <utility>

namespace llmtap::body_buffer {
namespace {

std::string& spare() {
  thread_local std::string s;
  return s;
}

}  // namespace

std::string take(std::size_t announced, std::size_t reserve) {
  std::string body;
  if (announced == 0 || announced >= kSpareWorthwhile) body = std::exchange(spare(), std::string());
  body.reserve(reserve);
  return body;
}

void give_back(std::string& body) noexcept {
  std::string& s = spare();
  if (body.capacity() <= kSpareCapacity && body.capacity() > s.capacity()) {
    body.clear();
    s.swap(body);
  }
  std::string().swap(body);
}

}  // namespace llmtap::body_buffer
