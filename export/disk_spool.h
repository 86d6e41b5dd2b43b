#pragma once
// Bounded on-disk queue of encoded OTLP request bodies, used while the endpoint is unreachable.
// One file per batch, written atomically (temp file 0600 + fsync + rename), named so that the
// oldest sorts first; a new exporter on the same directory picks up where the last one stopped,
// for the batches meant for its own destination and content setting (the file name records both).
// Full: the oldest batches are dropped (counted and logged). Several llmtap processes may share the
// directory: a batch is claimed (renamed to .sending-<pid>-...) before it is sent, so only one of
// them delivers it; claims and temp files of dead processes are recovered on open(). With an empty directory the same
// queue is kept in memory (lost at exit). Not thread-safe: the exporter thread owns it.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::exporting {

class DiskSpool {
 public:
  struct Entry {
    std::string path;
    std::uint64_t seq = 0;
    std::size_t spans = 0;
    std::string suffix;  // ".json" | ".pb": the encoding of the body
    std::uint64_t bytes = 0;
    std::string body;    // memory mode only
    std::string claimed;  // path while claimed for sending
    std::string policy;   // from the file name
    long writer_pid = 0;
  };

  // POLICY (16 hex digits) fingerprints where and how batches are meant to be delivered (endpoint,
  // headers, encoding, content capture); "" stands for one fixed policy.
  DiskSpool(std::string dir, std::uint64_t max_bytes, std::size_t max_files, std::string policy = "");
  // Creates the directory (0700), removes stale temp files, indexes existing batches of this policy.
  // Batches of another policy (or from before batches recorded one) are dropped with a log line,
  // unless the live process that wrote them may still deliver them.
  std::string open();

  // Persists one batch; drops the oldest batches to stay within the bounds. False if not written.
  bool push(std::string_view body, std::string_view suffix, std::size_t spans);
  const Entry* oldest() const { return entries_.empty() ? nullptr : &entries_.front(); }
  std::optional<std::string> read(const Entry& e) const;  // without claiming (inspection, tests)
  // Claims the oldest batch for sending and returns its body; nullopt if another process claimed
  // it first or it cannot be read (then pop_oldest() it).
  std::optional<std::string> claim_oldest();
  void unclaim_oldest();  // sending failed: the batch waits in the spool again
  void pop_oldest();      // after delivery (or a permanent rejection)

  bool empty() const { return entries_.empty(); }
  std::size_t files() const { return entries_.size(); }
  std::size_t spans() const;
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t dropped_batches() const { return dropped_batches_; }
  std::uint64_t dropped_spans() const { return dropped_spans_; }
  const std::string& dir() const { return dir_; }
  bool in_memory() const { return dir_.empty(); }

 private:
  void drop_oldest();

  std::string dir_;
  std::uint64_t max_bytes_;
  std::size_t max_files_;
  std::string policy_;
  std::deque<Entry> entries_;
  std::uint64_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_batches_ = 0, dropped_spans_ = 0;
};

}  // namespace llmtap::exporting
