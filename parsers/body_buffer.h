#pragma once
// Where whole bodies are read before their JSON parse: one spare buffer per thread, so the next
// large body on the thread is read into memory already mapped. An 8 MiB body read into a fresh
// string grown a read at a time touches 16 MiB of new pages (each doubling a fresh mapping plus a
// copy): ~4k page faults at ~1.5 us each here, more than the parse of the body itself. Bounded: a
// thread keeps at most one spare of at most kSpareCapacity bytes.
#include <cstddef>
#include <string>

namespace llmtap::body_buffer {

// Largest spare a thread keeps (capacity bytes): a doubled 8 MiB body's buffer.
inline constexpr std::size_t kSpareCapacity = 16u << 20;
// Bodies announced smaller than this are read into their own string; the spare is for large ones.
inline constexpr std::size_t kSpareWorthwhile = 64u << 10;

// An empty string for a body of `announced` bytes (0: unknown length) with at least `reserve`
// bytes of capacity: the thread's spare when the body is large or of unknown length.
std::string take(std::size_t announced, std::size_t reserve);
// A parsed body's buffer back: kept (emptied) as the thread's spare when it is larger than the
// current spare and within kSpareCapacity, else freed. `body` is left empty without capacity.
void give_back(std::string& body) noexcept;

}  // namespace llmtap::body_buffer
