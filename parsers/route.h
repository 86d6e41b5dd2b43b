#pragma once
// Which provider and API a request is for: gateway prefix, absolute-form target, connection host
// or Host header, the provider registry, then the path.
#include <cstdint>
#include <string>

#include "collector/tap.h"
#include "parsers/api_parser.h"
#include "parsers/exchange_parser.h"
#include "parsers/provider_registry.h"

namespace llmtap {

struct Route {
  ExchangeKind kind = ExchangeKind::kOther;  // model call, token count, or anything else
  std::string provider = "unknown";
  std::string api = "unknown";
  std::string operation;
  ApiShape shape = ApiShape::kNone;
  std::string host;             // lowercase, no port
  std::string path;             // without gateway prefix and query
  std::string query;
  std::string model_from_path;  // Gemini models/{m}, Azure deployments/{d}
  bool stream_from_path = false;  // Gemini :streamGenerateContent
  // False for a provider host's paths that are known not to be model calls (chatgpt.com outside
  // the Codex Responses path): such an exchange is framed but never recorded.
  bool records = true;
};

Route route_request(const RequestHead& head, const ConnectionInfo& conn, const ProviderRegistry* registry);

}  // namespace llmtap
