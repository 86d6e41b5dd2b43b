// dump_like_nlohmann prints exactly what nlohmann's dump() prints for the same value
// (of SimdView::to_json(), as json_fields::compact_arguments and schema_hash call it), which is the text the reference path
// keeps for tool arguments and function responses and hashes for schemas.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

#include "parsers/json_fields.h"
#include "parsers/simd_json_view.h"

namespace llmtap::json_view {
namespace {

// The reference text (nlohmann over the same DOM) and the direct one; "" when simdjson rejects it.
std::pair<std::string, std::string> both(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) return {};
  std::string direct;
  dump_like_nlohmann(root, direct);
  return {SimdView(root).to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), direct};
}

TEST(SimdJsonDump, PrintsWhatNlohmannDumpPrints) {
  for (const std::string text : {
           R"({})", R"([])", R"({"b":1,"a":2})", R"({"a":1,"a":2,"a":{"z":null,"y":[]}})",
           R"({"k":"quote\" back\\ slash/ \b\f\n\r\t \u0001\u001f\u007f \u0000 end"})",
           R"({"é":1,"e":2,"E":3,"\u00ff":4,"z":5,"":6,"ab":7,"a":8,"a\u0000":9})",
           R"([0,-0,1,-1,9223372036854775807,-9223372036854775808,18446744073709551615,12345678901234567890])",
           R"([0.0,-0.0,1.5,-2.25,1e10,1e15,1e16,1e-5,1e-4,3.141592653589793,1.7976931348623157e308,5e-324,100.0,2E3])",
           R"([true,false,null,"",[[]],[{}],{"x":[1,{"y":"z"}]}])",
           R"({"path":"src/f1.cc","content":"line one\nline \"two\"\twith tab caf\u00e9 \ud83d\ude00"})",
           R"("just a string")", R"(42)", R"(null)", R"(-7.5e-3)",
           R"({"b":{"d":1,"c":2,"d":3},"a":[{"y":1,"x":2}],"b":{"q":0}})"}) {
    auto [reference, direct] = both(text);
    ASSERT_FALSE(reference.empty()) << text;
    EXPECT_EQ(direct, reference) << text;
  }
}

// Random values (nested, repeated keys, every escape class, numbers of each kind).
std::string random_value(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_string = [&] {
    static const char* kPieces[] = {"a", "b", "ab", "\\\"", "\\\\", "\\n", "\\u0003", "\\u001f", "/", "\\/",
                                    "\\u00e9", "é", "\\ud83d\\ude00", "\\t", " ", "\\u2028", "\x7f", "Z"};
    std::string s = "\"";
    for (int i = pick(5); i > 0; --i) s += kPieces[pick(18)];
    return s + "\"";
  };
  switch (depth > 3 ? pick(4) : pick(6)) {
    case 0: return random_string();
    case 1: {
      static const char* kNumbers[] = {"0", "-1", "7", "1.5", "-0.25", "1e3", "2.5E-7", "123456789012", "-0",
                                       "18446744073709551615", "0.1", "1e22", "9007199254740993"};
      return kNumbers[pick(13)];
    }
    case 2: return pick(2) ? "true" : "null";
    case 3: return "false";
    case 4: {
      std::string s = "[";
      for (int i = pick(4); i > 0; --i) s += random_value(rng, depth + 1) + (i > 1 ? "," : "");
      return s + "]";
    }
    default: {
      std::string s = "{";
      for (int i = pick(5); i > 0; --i) s += random_string() + ":" + random_value(rng, depth + 1) + (i > 1 ? "," : "");
      return s + "}";
    }
  }
}

TEST(SimdJsonDump, RandomValuesPrintAsNlohmannDoes) {
  std::mt19937 rng(16);
  int compared = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_value(rng, 0);
    auto [reference, direct] = both(text);
    if (reference.empty()) continue;
    ++compared;
    ASSERT_EQ(direct, reference) << text;
  }
  EXPECT_GT(compared, 2500);
}

// Long strings go eight bytes at a time past the bytes that need no escape: every escaped byte (and
// a few that need none) at every offset of strings of every length up to 40, so each lands in each
// byte of a word and in the tail after the last whole word.
TEST(SimdJsonDump, EscapesAtEveryOffsetOfLongStrings) {
  std::vector<std::string> specials = {"\\\"", "\\\\", "\x7f", "\xc3\xa9", "\xf0\x9f\x98\x80", " ", "!", "[", "]"};
  for (int c = 0; c < 0x20; ++c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    specials.emplace_back(buf);
  }
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (const std::string& special : specials) {
        const std::string text = "\"" + std::string(at, 'a') + special + std::string(len - at, 'b') + "\"";
        auto [reference, direct] = both(text);
        ASSERT_FALSE(reference.empty()) << text;
        ASSERT_EQ(direct, reference) << text;
      }
    }
  }
}

TEST(SimdJsonDump, SchemaHashAndArgumentsMatchTheReferencePath) {
  const std::string text = R"({"type":"object","properties":{"path":{"type":"string"},"n":{"type":"integer","minimum":0.5}},"required":["path"],"type":"object"})";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(text).get(root), simdjson::SUCCESS);
  const nlohmann::json reference = json_fields::parse(text);
  EXPECT_EQ(SimdView(root).schema_hash(), json_fields::schema_hash(reference));
  EXPECT_EQ(SimdView(root).compact_arguments(), json_fields::compact_arguments(reference));
  EXPECT_EQ(SimdView().compact_arguments(), json_fields::compact_arguments(nullptr));
  EXPECT_EQ(SimdView().schema_hash(), json_fields::schema_hash(nullptr));
}

}  // namespace
}  // namespace llmtap::json_view
