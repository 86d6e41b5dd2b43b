#include "export/redaction_memo.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "export/redactor.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

// Names, ids, secrets and personal data, short and long, as attribute values carry them.
std::vector<std::string> corpus() {
  return {"gpt-4o-mini",
          "chat",
          "",
          "sk-proj-Abc123def456ghi789JKL012mno345",
          "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
          "mail jane.doe@example.com now",
          "call +1 415 555 0100",
          "https://x/v1beta/models?key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv&alt=sse",
          "authorization: Bearer abcdefgh12345678",
          std::string(RedactionMemo::kMaxValueBytes + 40, 'a') + " sk-ant-api03-ZZZZyyyyXXXXwwww1111-2222_3333",
          "stop",
          "resp_0123456789abcdef"};
}

TEST(RedactionMemo, GivesWhatRedactionGivesAcrossGenerations) {
  Redactor r;
  for (const auto kind : {TextKind::kAny, TextKind::kFreeText}) {
    RedactionMemo memo(/*max_entries=*/3);  // rolls over every few values
    for (int round = 0; round < 5; ++round) {
      for (const auto& value : corpus()) {
        for (int twice = 0; twice < 2; ++twice) {  // the second from the memo
          std::string text = value;
          const std::string expected = kind == TextKind::kAny ? r.redact(value) : r.redact_free_text(value);
          memo.apply(text, [&](std::string_view t) {
            return kind == TextKind::kAny ? r.redact(t) : r.redact_free_text(t);
          });
          EXPECT_EQ(text, expected) << value;
        }
      }
    }
    EXPECT_GT(memo.hits(), 0u);
  }
}

TEST(RedactionMemo, BoundedAndKeepsWhatRecurs) {
  RedactionMemo memo(/*max_entries=*/8);
  int calls = 0;
  auto upper = [&](std::string_view t) {
    ++calls;
    return std::string(t) + "!";
  };
  for (int i = 0; i < 10'000; ++i) {
    std::string once = "id-" + std::to_string(i);  // a one-off id
    memo.apply(once, upper);
    EXPECT_EQ(once, "id-" + std::to_string(i) + "!");
    std::string model = "gpt-4o";  // recurs in every trace
    memo.apply(model, upper);
    EXPECT_EQ(model, "gpt-4o!");
    EXPECT_LE(memo.entries(), 16u);
  }
  EXPECT_EQ(calls, 10'000 + 1);  // the recurring value was redacted once
  std::string long_value(RedactionMemo::kMaxValueBytes + 1, 'x');
  memo.apply(long_value, upper);
  memo.apply(long_value = std::string(RedactionMemo::kMaxValueBytes + 1, 'x'), upper);
  EXPECT_EQ(calls, 10'000 + 3);  // long values are not remembered
}

TEST(RedactionMemo, ASinkRedactsRepeatedTracesAsTheFirst) {
  struct Keep : TraceSink {
    std::vector<Trace> traces;
    void on_trace(const Trace& t) override { traces.push_back(t); }
  };
  auto keep = std::make_unique<Keep>();
  Keep* kept = keep.get();
  RedactingSink sink(std::move(keep), /*capture_content=*/true);
  Redactor plain;
  for (int i = 0; i < 3; ++i) {
    Trace t = testing::numbered_trace(i, 3);
    for (auto& s : t.spans) {
      s.set("gen_ai.request.model", "gpt-4o");
      s.set("http.request.header.x-api-key", "sk-proj-Abc123def456ghi789JKL012mno345");
      s.set("llmtap.note", "key sk-proj-Abc123def456ghi789JKL012mno345 here");
      s.set("gen_ai.input.messages", "reach me at jane.doe@example.com");
    }
    const Trace expected = plain.redact_trace(t);
    sink.take_trace(std::move(t));
    ASSERT_EQ(kept->traces.size(), static_cast<std::size_t>(i + 1));
    const Trace& got = kept->traces.back();
    ASSERT_EQ(got.spans.size(), expected.spans.size());
    for (std::size_t k = 0; k < got.spans.size(); ++k) {
      EXPECT_EQ(got.spans[k].name, expected.spans[k].name);
      ASSERT_EQ(got.spans[k].attributes.size(), expected.spans[k].attributes.size());
      for (std::size_t a = 0; a < got.spans[k].attributes.size(); ++a)
        EXPECT_EQ(got.spans[k].attributes[a].value, expected.spans[k].attributes[a].value)
            << got.spans[k].attributes[a].key;
    }
  }
}

}  // namespace
}  // namespace llmtap::exporting
