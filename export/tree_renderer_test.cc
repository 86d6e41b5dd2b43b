#include "export/tree_renderer.h"

#include <gtest/gtest.h>

#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

TEST(TreeRenderer, GoldenSupportTrace) {
  TreeRenderer r;
  EXPECT_EQ(r.render_text(testing::support_trace()),
            "Agent Run: Support Agent [380ms, $0.014]\n"
            "├── Tool: search_knowledge_base [45ms]\n"
            "├── LLM: gpt-4o [180ms, $0.009]\n"
            "└── Handoff: → Billing Agent\n"
            "    └── Agent: Billing Agent [135ms]\n"
            "        └── Tool: refund [1.50s] ✗ error: order not found\n");
}

// Names and messages come from the wire: a model, tool or provider must not drive the terminal.
TEST(TreeRenderer, ControlCharactersAreEscaped) {
  Trace t = testing::support_trace();
  t.spans[1].set("gen_ai.tool.name", std::string("search\x1b[2J"));
  t.spans[2].set("gen_ai.response.model", std::string("gpt\x1b]0;pwned\x07-4o"));
  t.spans[5].status_message = "order \x1b[2Jnot found\xe2\x80\xae";
  const std::string text = TreeRenderer().render_text(t);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_NE(text.find("├── Tool: search\\u001b[2J [45ms]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("├── LLM: gpt\\u001b]0;pwned\\u0007-4o [180ms, $0.009]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("✗ error: order \\u001b[2Jnot found\\u202e\n"), std::string::npos) << text;
}

TEST(TreeRenderer, ChildrenInStartOrderWhateverTheInputOrder) {
  Trace t = testing::support_trace();
  std::swap(t.spans[1], t.spans[2]);
  std::swap(t.spans[0], t.spans[5]);  // root not first either
  TreeRenderer r;
  EXPECT_EQ(r.render_text(t), r.render_text(testing::support_trace()));
}

TEST(TreeRenderer, RollsUpCostWhenRootHasNone) {
  Trace t = testing::support_trace();
  t.spans[0].attributes.erase(t.spans[0].attributes.begin() + 3);  // drop llm.cost.total on root
  ASSERT_EQ(t.spans[0].find("llm.cost.total"), nullptr);
  auto text = TreeRenderer().render_text(t);
  EXPECT_EQ(text.substr(0, text.find('\n')), "Agent Run: Support Agent [380ms, $0.009]");
}

TEST(TreeRenderer, Formats) {
  EXPECT_EQ(TreeRenderer::format_duration(45 * testing::kMs), "45ms");
  EXPECT_EQ(TreeRenderer::format_duration(1250 * testing::kMs), "1.25s");
  EXPECT_EQ(TreeRenderer::format_duration(42'000 * testing::kMs), "42.0s");
  EXPECT_EQ(TreeRenderer::format_cost(0.0142), "$0.014");
  EXPECT_EQ(TreeRenderer::format_cost(0.009), "$0.009");
  EXPECT_EQ(TreeRenderer::format_cost(0.00042), "$0.00042");
  EXPECT_EQ(TreeRenderer::format_cost(1.2), "$1.20");
  EXPECT_EQ(TreeRenderer::format_cost(0), "$0");
}

TEST(TreeRenderer, JsonMirrorsTheTree) {
  auto j = TreeRenderer().render_json(testing::support_trace());
  EXPECT_EQ(j["trace_id"], "0af7651916cd43dd8448eb211c80319c");
  ASSERT_EQ(j["roots"].size(), 1u);
  const auto& root = j["roots"][0];
  EXPECT_EQ(root["label"], "Agent Run: Support Agent");
  ASSERT_EQ(root["children"].size(), 3u);
  EXPECT_EQ(root["children"][1]["attributes"]["gen_ai.request.model"], "gpt-4o");
  EXPECT_DOUBLE_EQ(root["children"][1]["cost_usd"].get<double>(), 0.009);
  const auto& refund = root["children"][2]["children"][0]["children"][0];
  EXPECT_EQ(refund["status"]["code"], "ERROR");
  EXPECT_EQ(refund["status"]["message"], "order not found");
}

TEST(ConsoleExporter, PrintsTreeOfEachTrace) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  {
    ConsoleExporter c(mem);
    c.on_trace(testing::support_trace());
    c.flush();
  }
  std::fclose(mem);
  std::string out(buf, len);
  free(buf);
  EXPECT_EQ(out, TreeRenderer().render_text(testing::support_trace()));
}

}  // namespace
}  // namespace llmtap::exporting
