// Fuzzes the capture spool's decoders: the input as a chunk's plaintext (records), then as a segment
// file opened with a fixed key (header, chunk framing, GCM open).
#include <cstddef>
#include <cstdint>
#include <string>

#include "collector/capture_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmtap::capture;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view in = input;
  RecordView rec;
  std::string error;
  volatile std::size_t sink = 0;
  while (next_record(in, rec, &error) == DecodeStatus::kRecord) sink = sink + rec.bytes.size() + rec.info.host.size();

  Key key{};
  SegmentReader reader(key);
  // Fed in two pieces, as a file read in parts would be.
  reader.feed(input.substr(0, size / 2));
  std::string plaintext;
  while (reader.next(&plaintext, &error) == SegmentReader::Status::kChunk) sink = sink + plaintext.size();
  reader.feed(input.substr(size / 2));
  while (reader.next(&plaintext, &error) == SegmentReader::Status::kChunk) sink = sink + plaintext.size();
  return 0;
}
