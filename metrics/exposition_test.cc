#include "metrics/exposition.h"

#include <gtest/gtest.h>

namespace llmtap::metrics {
namespace {

TEST(Exposition, OtelNamesBecomePrometheusNames) {
  EXPECT_EQ(prometheus_name("gen_ai.client.token.usage"), "gen_ai_client_token_usage");
  EXPECT_EQ(prometheus_name("gen_ai.provider.name"), "gen_ai_provider_name");
  EXPECT_EQ(prometheus_name("error.type"), "error_type");
  EXPECT_EQ(prometheus_name("9lives"), "_9lives");
}

TEST(Exposition, CounterWithEscapedLabels) {
  CounterFamily c("llmtap_cost_usd_total", "Cost", {"model", "agent"}, 10);
  c.add({"gpt-4o", "Tri\"age\\\n"}, 0.25);
  c.add({"gpt-4o", "Tri\"age\\\n"}, 0.5);
  Exposition out;
  c.write(out);
  EXPECT_EQ(out.text(),
            "# HELP llmtap_cost_usd_total Cost\n# TYPE llmtap_cost_usd_total counter\n"
            "llmtap_cost_usd_total{model=\"gpt-4o\",agent=\"Tri\\\"age\\\\\\n\"} 0.75\n");
}

TEST(Exposition, LabelSetsAreCappedIntoAnOverflowSeries) {
  CounterFamily c("x_total", "X", {"user"}, 2);
  for (const char* u : {"a", "b", "c", "d", "a"}) c.add({u}, 1);
  EXPECT_EQ(c.series(), 3u);  // a, b and the overflow
  Exposition out;
  c.write(out);
  EXPECT_NE(out.text().find("x_total{user=\"_other\"} 2\n"), std::string::npos) << out.text();
  EXPECT_NE(out.text().find("x_total{user=\"a\"} 2\n"), std::string::npos) << out.text();
}

TEST(Exposition, HistogramBucketsAreCumulative) {
  HistogramFamily h("d_seconds", "D", {"op"}, {0.1, 1}, 10);
  h.observe({"chat"}, 0.05);
  h.observe({"chat"}, 0.1);  // on the bound: counts in le=0.1
  h.observe({"chat"}, 0.5);
  h.observe({"chat"}, 7);
  Exposition out;
  h.write(out);
  EXPECT_EQ(out.text(),
            "# HELP d_seconds D\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{op=\"chat\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{op=\"chat\",le=\"1\"} 3\n"
            "d_seconds_bucket{op=\"chat\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{op=\"chat\"} 7.65\n"
            "d_seconds_count{op=\"chat\"} 4\n");
}

}  // namespace
}  // namespace llmtap::metrics
