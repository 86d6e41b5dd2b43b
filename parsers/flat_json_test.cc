// FlatJson against simdjson and nlohmann: whatever it accepts, simdjson accepts too and the values
// are nlohmann's; what it declines is left to them. Read whole and through learned layouts.
#include "parsers/flat_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace llmtap::json_view {
namespace {

// Parses `text` from a padded copy; on acceptance, checks it against simdjson and nlohmann.
bool read_like_reference(FlatJson& doc, const std::string& text) {
  std::string padded = text;
  padded.append(FlatJson::kPadding, '\x7f');  // odd bytes past the end: never taken
  const bool accepted = doc.parse(std::string_view(padded.data(), text.size()));
  if (!accepted) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
  const nlohmann::json reference = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(reference.is_discarded()) << text;
  EXPECT_EQ(FlatView(doc).to_json(), reference) << text;
  EXPECT_EQ(FlatView(doc).to_json().dump(), reference.dump()) << text;
  return true;
}

TEST(FlatJson, AcceptsTheSubsetWithTheReferenceValues) {
  const std::vector<std::string> texts = {
      R"({})",
      R"({"a":1})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})",
      R"( { "a" : [ 1 , 2 , { "b" : null } ] , "c" : true , "d" : false } )",
      "{\"a\":\"tab\\t nl\\n quote\\\" bs\\\\ slash\\/ b\\b f\\f r\\r\"}",
      R"({"a":"caf\u00e9 \u2014 \u0041 \u0000 end"})",
      "{\"a\":\"raw caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80\"}",
      R"({"k\u00e9y":"v","":"empty key","a":[],"b":{}})",
      R"({"a":1,"a":2,"a":"last"})",
      R"({"n":999999999999999999,"z":0})",
      R"({"long":"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"})",
      R"([1,[2,[3,[]]],"x"])",
  };
  FlatJson doc;
  for (const std::string& t : texts) EXPECT_TRUE(read_like_reference(doc, t)) << t;
}

TEST(FlatJson, DeclinesWhatItDoesNotKnowAndWhatIsInvalid) {
  std::vector<std::string> texts = {
      R"({"a":1.5})", R"({"a":-1})", R"({"a":1e5})", R"({"a":01})", R"({"a":1234567890123456789})",
      R"({"a":5555555555555555555555555})",
      R"({"a":"\ud83d\ude00"})", R"({"a":"\udc00"})", R"({"a":"\x"})", R"({"a":"\u12"})",
      "{\"a\":\"\xc3\"}", "{\"a\":\"\xff\"}", "{\"a\":\"ctl\x01\"}", R"({"a":1,})", R"({"a":1}x)",
      R"({"a":1} {"b":2})", R"({"a" 1})", R"({"a":tru})", R"({"a":nul})", R"({"a":truex})", R"({a:1})",
      R"({"a":"open)", "{\"a\":1", "", "   ", R"([1,])", R"({"a":[1 2]})",
  };
  texts.push_back(std::string(33, '[') + std::string(33, ']'));
  texts.push_back("{\"a\":\"" + std::string(FlatJson::kMaxText, 'x') + "\"}");
  FlatJson doc;
  for (const std::string& t : texts) EXPECT_FALSE(read_like_reference(doc, t)) << t;
  // Depth up to kMaxDepth is read.
  EXPECT_TRUE(read_like_reference(doc, std::string(32, '[') + std::string(32, ']')));
}

// After one event is read whole, events of its layout are matched against it: each still reads as
// the reference does, and any change of layout (a key, a kind of value, spacing) or any invalid
// value is read whole or declined, never matched.
TEST(FlatJson, LayoutsReadAsTheReference) {
  FlatJson doc;
  const std::string learned = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})";
  ASSERT_TRUE(read_like_reference(doc, learned));
  const std::vector<std::string> same_layout = {
      R"({"type":"content_block_delta","index":12,"delta":{"type":"text_delta","text":"world"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\"quoted\" caf\u00e9\n"}})",
      "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"caf\xc3\xa9\"}}",
      R"({"type":"other","index":3,"delta":{"type":"thinking_delta","text":"x"}})",
  };
  for (const std::string& t : same_layout) EXPECT_TRUE(read_like_reference(doc, t)) << t;
  const std::vector<std::string> other = {
      R"({"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","more":1}})",
      R"({"type":"content_block_delta", "index":0,"delta":{"type":"text_delta","text":"x"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"x"}})",
      R"({"type":"content_block_stop","index":0})",
  };
  for (const std::string& t : other) {
    read_like_reference(doc, t);  // read whole (and learned) or declined: either way as the reference
    ASSERT_TRUE(read_like_reference(doc, learned));
  }
  const std::vector<std::string> invalid = {
      R"({"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"x"}})",
      R"({"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}})",
      R"({"type":"content_block_delta","index":1.5,"delta":{"type":"text_delta","text":"x"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\q"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ud800"}})",
      "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\xc3\"}}",
      "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\x01\"}}",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x})",
  };
  for (const std::string& t : invalid) EXPECT_FALSE(read_like_reference(doc, t)) << t;
}

// A root that is not an object or array teaches no layout (found by flat_json_fuzz: after "0" the
// empty text matched the layout of a lone value).
TEST(FlatJson, ScalarRootsTeachNoLayout) {
  FlatJson doc;
  for (const std::string t : {"0", "\"s\"", "true"}) {
    EXPECT_TRUE(read_like_reference(doc, t)) << t;
    EXPECT_FALSE(read_like_reference(doc, "")) << t;
    EXPECT_FALSE(read_like_reference(doc, "\t")) << t;
    EXPECT_TRUE(read_like_reference(doc, "1")) << t;
  }
}

// Several layouts alternate (a stream's starts, deltas and stops): each keeps reading as the reference.
TEST(FlatJson, AlternatingLayoutsReadAsTheReference) {
  FlatJson doc;
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_TRUE(read_like_reference(doc, R"({"type":"a","i":)" + n + "}"));
    EXPECT_TRUE(read_like_reference(doc, R"({"type":"b","s":")" + n + R"(","o":{"x":[1,2,)" + n + "]}}"));
    EXPECT_TRUE(read_like_reference(doc, R"({ "spaced": ")" + n + R"(" })"));
    EXPECT_TRUE(read_like_reference(doc, R"({"c":[")" + n + R"("],"d":true})"));
    EXPECT_TRUE(read_like_reference(doc, R"({"e":null,"f":")" + n + R"("})"));
  }
}

}  // namespace
}  // namespace llmtap::json_view
