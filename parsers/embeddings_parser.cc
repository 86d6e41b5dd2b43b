// Embeddings: OpenAI-shaped /embeddings (OpenAI, Azure, compatible servers) and Gemini
// :embedContent / :batchEmbedContents. Inputs are recorded as user messages; no output messages.
#include "parsers/api_factories.h"
#include "parsers/attribution.h"
#include "parsers/json_fields.h"
#include "parsers/openai_shared.h"

namespace llmtap {
namespace {

using namespace json_fields;

class EmbeddingsParser : public ApiParser {
 public:
  explicit EmbeddingsParser(bool gemini) : gemini_(gemini) {}

  void parse_request(const json& body, ModelCall& call) override {
    std::string model = str(body, "model");
    if (!model.empty() && (!gemini_ || call.request_model.empty())) call.request_model = model;
    if (gemini_) {
      const json& reqs = at(body, "requests");
      if (reqs.is_array()) {
        for (const auto& r : reqs) add_text(content_text(at(at(r, "content"), "parts"), "\n"), call);
      } else {
        add_text(content_text(at(at(body, "content"), "parts"), "\n"), call);
      }
      return;
    }
    attribution::read_openai_body(body, call.attribution);
    const json& input = at(body, "input");
    if (input.is_string()) {
      add_text(input.get<std::string>(), call);
    } else if (input.is_array()) {
      for (const auto& i : input) {
        if (i.is_string()) add_text(i.get<std::string>(), call);
        // token-id arrays carry no text worth recording
      }
    }
  }

  void on_json_body(const json& body, ModelCall& call) override {
    std::string model = str(body, "model");
    if (!model.empty()) call.response_model = model;
    const json& u = at(body, "usage");
    if (u.is_object()) {
      Usage out;
      out.present = true;
      out.input_uncached = has(u, "prompt_tokens") ? i64(u, "prompt_tokens") : i64(u, "total_tokens");
      call.usage = out;
    }
    const json& gu = at(body, "usageMetadata");
    if (gu.is_object()) {
      Usage out;
      out.present = true;
      out.input_uncached = i64(gu, "promptTokenCount");
      call.usage = out;
    }
  }

  bool on_stream_event(std::string_view, const json& data, UnixNanos, ModelCall& call) override {
    on_json_body(data, call);
    return false;
  }

  bool finish(ModelCall&, bool) override { return true; }

 private:
  static void add_text(std::string text, ModelCall& call) {
    Message m;
    m.role = "user";
    m.text = std::move(text);
    call.input.push_back(std::move(m));
  }
  bool gemini_;
};

}  // namespace

std::unique_ptr<ApiParser> make_embeddings_parser(bool gemini) { return std::make_unique<EmbeddingsParser>(gemini); }

}  // namespace llmtap
