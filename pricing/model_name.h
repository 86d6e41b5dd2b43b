#pragma once
// Model-name normalization for price lookup. Only whole-name transformations: never substring
// matching, so "gpt-4o-mini-search-preview" can never be mistaken for "gpt-4o".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

// A spelling of the requested model name to look up, with why it differs from the original.
struct ModelNameForm {
  std::string name;     // lower-case
  std::string derived;  // "" for the name as sent; otherwise what was removed, e.g. "path prefix 'models/'"
};

// The names to try, in order: the name as sent (lower-cased, trimmed); the last path segment when the
// name has a provider/path prefix ("openai/gpt-4o", "models/gemini-2.5-pro",
// "projects/p/locations/l/publishers/google/models/gemini-2.5-pro", Bedrock ARNs); and the plain
// Anthropic id inside a Bedrock model id ("us.anthropic.claude-sonnet-4-20250514-v1:0"); the name
// without a Gemini ":generateContent" method suffix; Claude versions with dashes for dots
// ("anthropic/claude-sonnet-4.5" -> "claude-sonnet-4-5", as OpenRouter spells them).
std::vector<ModelNameForm> model_name_forms(std::string_view model);

// If `name` ends in a date-style snapshot suffix (-2024-08-06, -20250514, @20250514, -0613),
// returns the name without it.
std::optional<std::string> strip_date_suffix(std::string_view name);

}  // namespace llmtap
