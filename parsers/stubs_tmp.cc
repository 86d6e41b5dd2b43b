#include "parsers/api_factories.h"
namespace llmtap {
std::unique_ptr<ApiParser> make_responses_parser() { return make_chat_completions_parser(); }
std::unique_ptr<ApiParser> make_anthropic_messages_parser() { return make_chat_completions_parser(); }
std::unique_ptr<ApiParser> make_gemini_parser() { return make_chat_completions_parser(); }
std::unique_ptr<ApiParser> make_embeddings_parser(bool) { return make_chat_completions_parser(); }
std::unique_ptr<ApiParser> make_ollama_chat_parser() { return make_chat_completions_parser(); }
}
