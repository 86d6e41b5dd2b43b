#pragma once
// Per-process capture state of the shim: which SSL* connections are captured, their ids, and the
// link to the collector. Every method is noexcept, thread-safe and never blocks on I/O. Fork-safe:
// the child of a fork starts with fresh state and reconnects on its next captured record.
#include <cstddef>
#include <cstdint>

#include "preload/real_ssl.h"

namespace llmtap::preload {

// Reports plaintext that crossed SSL* in direction DIR (0 written by the client, 1 read by it).
void capture_bytes(OpaqueSsl* ssl, std::uint8_t dir, const void* bytes, std::size_t len) noexcept;
// A socket of this thread connected to ADDR: the connect-time peer of a TLS connection whose SSL*
// has no file descriptor (custom BIOs, as in curl) is the last peer its thread connected to.
void remember_connect_peer(const void* addr, unsigned addr_len) noexcept;
// The connection ended (SSL_shutdown) or its object goes away (SSL_free; forgotten afterwards).
void capture_end(OpaqueSsl* ssl, bool freed) noexcept;

}  // namespace llmtap::preload
