#pragma once
// Per-request noise in an agent's instructions: clients stamp their system prompt with a checksum
// (Claude Code's `cch=`), today's date, the time, a request or session id, a cache-busting marker.
// One agent must keep one fingerprint across its requests, so the fingerprint hashes the stable
// part: every volatile token masked by shape, whatever client wrote it.
#include <string>
#include <string_view>

namespace llmtap::trace {

// TEXT with each volatile token replaced by a placeholder naming its shape:
//  - UUIDs (8-4-4-4-12 hex)                                   -> <uuid>
//  - ISO dates and date-times (2026-12-01, 2026-12-01T10:00:00.5Z, 2026/12/01), month-name dates
//    ("December 1, 2026", "1 Dec 2026") and weekday names      -> <date>
//  - clock times (10:00, 10:00:00.123, 9:05 PM)                -> <time>
//  - numbers of 6+ digits (epoch times, counters, ids), with a fraction -> <n>
//  - hex runs of 8+ characters mixing digits and letters (hashes, ids)  -> <hex>
//  - base64/id runs of 16+ characters mixing letters and digits (mixed case, or a quarter digits)
//                                                              -> <id>
//  - the value after a volatile key (cch, checksum, nonce, timestamp, date, time, request_id,
//    session_id, trace_id, cache, seed, ... followed by '=' or ':')  -> <v>
// Everything else is kept byte for byte, so instructions that really differ (another role, other
// rules, small numbers such as limits) still differ.
std::string mask_volatile_tokens(std::string_view text);

}  // namespace llmtap::trace
