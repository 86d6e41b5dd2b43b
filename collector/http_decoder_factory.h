#pragma once
// Decoders for HTTP connections: each connection starts in a sniffer that waits for the client's
// first bytes; the HTTP/2 client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") selects H2Stitcher,
// anything else the HTTP/1.1 ConnectionStitcher. Bytes seen while sniffing are replayed in order.
#include <memory>

#include "collector/connection_decoder.h"
#include "common/sinks.h"
#include "parsers/exchange_parser.h"

namespace llmtap {

std::unique_ptr<ConnectionDecoderFactory> make_http_decoder_factory(ModelCallSink& sink,
                                                                    const ParserOptions& opts);

}  // namespace llmtap
