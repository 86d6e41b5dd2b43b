#include "export/make_exporters.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "export/sqlite_store.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

ExportOptions no_env() {
  ExportOptions o;
  o.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  return o;
}

TEST(MakeExporters, DefaultIsTheSqliteStoreInTheDataDir) {
  testing::TempDir dir;
  std::string data = dir.path + "/data", error;
  auto setup = make_export_setup({}, data, &error, no_env());
  ASSERT_TRUE(setup.sink) << error;
  EXPECT_EQ(setup.store_path, data + "/traces.db");
  EXPECT_EQ(setup.descriptions, std::vector<std::string>{"sqlite " + data + "/traces.db"});
  setup.sink->on_trace(testing::support_trace());
  setup.sink->flush();
  auto reader = TraceStoreReader::open(setup.store_path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->recent(10).size(), 1u);
}

TEST(MakeExporters, TheStoreQueueHasAQuarterOfTheMemoryBudget) {
  testing::TempDir dir;
  std::string error;
  ExportOptions opts = no_env();
  opts.memory_budget = std::make_shared<MemoryBudget>(std::size_t{16} << 20);
  auto setup = make_export_setup({}, dir.path + "/a", &error, opts);
  ASSERT_TRUE(setup.sink) << error;
  ASSERT_EQ(setup.stores.size(), 1u);
  EXPECT_EQ(setup.stores[0]->max_queued_bytes(), std::size_t{4} << 20);
  // A budget larger than four times the store's own bound leaves that bound; no budget, no share.
  opts.memory_budget = std::make_shared<MemoryBudget>(std::size_t{1} << 30);
  auto big = make_export_setup({}, dir.path + "/b", &error, opts);
  ASSERT_TRUE(big.sink) << error;
  EXPECT_EQ(big.stores[0]->max_queued_bytes(), StoreOptions{}.max_queued_bytes);
  auto none = make_export_setup({}, dir.path + "/c", &error, no_env());
  ASSERT_TRUE(none.sink) << error;
  EXPECT_EQ(none.stores[0]->max_queued_bytes(), StoreOptions{}.max_queued_bytes);
}

TEST(MakeExporters, JsonlNeverWritesThroughASymlink) {
  testing::TempDir dir;
  std::string victim = dir.path + "/victim", link = dir.path + "/out.jsonl", error;
  std::ofstream(victim) << "keep";
  std::filesystem::create_symlink(victim, link);
  auto setup = make_export_setup({"jsonl=" + link}, dir.path + "/data", &error, no_env());
  EXPECT_FALSE(setup.sink);
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  EXPECT_EQ(std::filesystem::file_size(victim), 4u);
  // A device is fine (jsonl=/dev/null), and so is a regular file of ours.
  EXPECT_TRUE(make_export_setup({"jsonl=/dev/null"}, dir.path + "/data", &error, no_env()).sink) << error;
  EXPECT_TRUE(make_export_setup({"jsonl=" + dir.path + "/real.jsonl"}, dir.path + "/data", &error, no_env()).sink)
      << error;
}

TEST(MakeExporters, RefusesADataDirectoryOthersCanWrite) {
  testing::TempDir dir;
  std::string data = dir.path + "/data", error;
  std::filesystem::create_directory(data);
  std::filesystem::permissions(data, std::filesystem::perms::all);
  EXPECT_FALSE(make_export_setup({}, data, &error, no_env()).sink);
  EXPECT_NE(error.find("chmod 700"), std::string::npos) << error;
}

TEST(MakeExporters, BadSpecsAreClearErrors) {
  testing::TempDir dir;
  std::string error;
  for (const char* bad : {"jsonl", "jsonl=", "kafka", "otlp,console", "console=x", "sqlite=", "otlp="}) {
    error.clear();
    EXPECT_FALSE(make_exporters({bad}, dir.path, &error, no_env())) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  make_exporters({"kafka"}, dir.path, &error, no_env());
  EXPECT_NE(error.find("unknown --export value 'kafka'"), std::string::npos) << error;
  EXPECT_NE(error.find("jsonl=PATH"), std::string::npos);
}

TEST(MakeExporters, JsonlOneSpanPerLineRedacted) {
  testing::TempDir dir;
  std::string path = dir.path + "/spans.jsonl", error;
  const std::string key = "sk-ant-api03-JsonlSecret0123456789abcdef";
  {
    auto opts = no_env();
    opts.capture_content = true;
    auto setup = make_export_setup({"jsonl=" + path}, dir.path + "/data", &error, opts);
    ASSERT_TRUE(setup.sink) << error;
    EXPECT_TRUE(setup.store_path.empty());  // explicit exports replace the default store
    setup.sink->on_trace(testing::support_trace("0af7651916cd43dd8448eb211c80319c", key));
    setup.sink->flush();
  }
  std::ifstream f(path);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "line " << n;
    EXPECT_EQ(j["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    EXPECT_EQ(j["span_id"].get<std::string>().size(), 16u);
    ++n;
  }
  EXPECT_EQ(n, 6);
  EXPECT_FALSE(testing::any_file_contains(dir.path, key));
  EXPECT_TRUE(testing::any_file_contains(dir.path, "gen_ai.input.messages"));  // content kept, redacted
}

TEST(MakeExporters, ContentStrippedByDefault) {
  testing::TempDir dir;
  std::string path = dir.path + "/spans.jsonl", error;
  {
    auto sink = make_exporters({"jsonl=" + path}, dir.path, &error, no_env());
    ASSERT_TRUE(sink) << error;
    sink->on_trace(testing::support_trace("0af7651916cd43dd8448eb211c80319c", "sk-whatever-0123456789abcdef"));
  }
  EXPECT_FALSE(testing::any_file_contains(dir.path, "gen_ai.input.messages"));
  EXPECT_TRUE(testing::any_file_contains(dir.path, "gen_ai.usage.input_tokens"));
}

TEST(MakeExporters, OtlpEnabledByEnvironmentWithSpoolInDataDir) {
  testing::TempDir dir;
  std::string error;
  ExportOptions opts;
  opts.env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "OTEL_EXPORTER_OTLP_ENDPOINT") return "http://127.0.0.1:9";  // nothing listens: spooled
    return std::nullopt;
  };
  auto setup = make_export_setup({"console"}, dir.path, &error, opts);
  ASSERT_TRUE(setup.sink) << error;
  ASSERT_EQ(setup.descriptions.size(), 2u);
  EXPECT_EQ(setup.descriptions[1], "otlp http://127.0.0.1:9/v1/traces");
  EXPECT_TRUE(std::filesystem::is_directory(dir.path + "/spool/otlp"));
}

}  // namespace
}  // namespace llmtap::exporting
