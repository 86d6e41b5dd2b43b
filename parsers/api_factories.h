#pragma once
// Factories of the ApiParser implementations, one .cc per API shape.
#include <memory>

#include "parsers/api_parser.h"

namespace llmtap {

std::unique_ptr<ApiParser> make_chat_completions_parser();  // openai_chat_parser.cc
std::unique_ptr<ApiParser> make_responses_parser();         // openai_responses_parser.cc
std::unique_ptr<ApiParser> make_anthropic_messages_parser(); // anthropic_messages_parser.cc
std::unique_ptr<ApiParser> make_gemini_parser();             // gemini_parser.cc
std::unique_ptr<ApiParser> make_embeddings_parser(bool gemini);  // embeddings_parser.cc
std::unique_ptr<ApiParser> make_ollama_chat_parser();        // ollama_chat_parser.cc

}  // namespace llmtap
