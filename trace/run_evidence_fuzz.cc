// libFuzzer target: a tool call's arguments come from the wire; reading their texts never crashes,
// stays bounded (at most 65 keys), and agrees with arguments_carry: the whole arguments always carry
// themselves, and every key found is one the arguments carry. The same bytes cut into user messages
// (at NUL bytes) give at most five user-content keys, the first the whole's, whatever the cut; and
// the rolling scan for carried text finds every window the input holds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/conversation_items.h"
#include "trace/run_evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmtap::trace;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto keys = argument_text_keys(in);
  if (keys.size() > 65) __builtin_trap();
  if (text_key(in) != 0 && !arguments_carry(in, in)) __builtin_trap();
  (void)carries_output(in, in.substr(0, size / 2));

  std::vector<llmtap::Message> messages;
  std::string joined;
  for (std::size_t from = 0; from <= in.size();) {
    const std::size_t cut = std::min(in.find('\0', from), in.size());
    llmtap::Message m;
    m.role = (messages.size() % 3 == 2) ? "assistant" : "user";
    m.text = std::string(in.substr(from, cut - from));
    if (m.role == "user" && !trim(m.text).empty()) joined += m.text;
    messages.push_back(std::move(m));
    from = cut + 1;
  }
  const auto user_keys = user_content_keys(messages);
  if (user_keys.size() > 5) __builtin_trap();
  if (!user_keys.empty() && user_keys.front() != text_key(joined)) __builtin_trap();

  // Any window of the input is found by the rolling scan, and its text is carried.
  const std::string_view tail = in.substr(size / 3);
  if (const std::uint64_t key = carried_key(tail); key != 0 && in.size() <= kMaxCarryScan) {
    if (!find_carried_keys(in, [&](std::uint64_t k) { return k == key; })) __builtin_trap();
    if (!carries_text(in, tail)) __builtin_trap();
  }
  return 0;
}
