#include "parsers/api_factories.h"

namespace llmtap {

std::unique_ptr<ApiParser> make_api_parser(ApiShape shape) {
  switch (shape) {
    case ApiShape::kChatCompletions: return make_chat_completions_parser();
    case ApiShape::kResponses: return make_responses_parser();
    case ApiShape::kAnthropicMessages: return make_anthropic_messages_parser();
    case ApiShape::kGemini: return make_gemini_parser();
    case ApiShape::kGeminiEmbeddings: return make_embeddings_parser(true);
    case ApiShape::kEmbeddings: return make_embeddings_parser(false);
    case ApiShape::kOllamaChat: return make_ollama_chat_parser();
    case ApiShape::kNone: break;
  }
  return nullptr;
}

}  // namespace llmtap
