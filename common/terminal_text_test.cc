#include "common/terminal_text.h"

#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace llmtap {
namespace {

TEST(TerminalSafe, EscapesTerminalControlSequences) {
  EXPECT_EQ(terminal_safe("gpt\x1b]0;pwned\x07-4o"), "gpt\\u001b]0;pwned\\u0007-4o");
  EXPECT_EQ(terminal_safe("\x1b[2Jclear"), "\\u001b[2Jclear");
  EXPECT_EQ(terminal_safe("a\tb\nc\rd\x7f"), "a\\u0009b\\u000ac\\u000dd\\u007f");
  EXPECT_EQ(terminal_safe(std::string("nul\0x", 5)), "nul\\u0000x");
}

TEST(TerminalSafe, EscapesC1AndBidiControlsButKeepsText) {
  EXPECT_EQ(terminal_safe("\xc2\x9b" "31m"), "\\u009b31m");  // U+009B CSI
  EXPECT_EQ(terminal_safe("abc\xe2\x80\xae" "fdp.exe"), "abc\\u202efdp.exe");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(terminal_safe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
  const std::string text = "Agent: Café → 請求 ✗ 🙂 \\ \"quoted\"";
  EXPECT_TRUE(is_terminal_safe(text));
  EXPECT_EQ(terminal_safe(text), text);
}

TEST(TerminalSafe, IllFormedUtf8BecomesHexBytes) {
  EXPECT_EQ(terminal_safe("a\x9b" "b"), "a\\x9bb");      // a lone 8-bit CSI
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");    // overlong '/'
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(terminal_safe("\xe2\x80"), "\\xe2\\x80");    // truncated
  EXPECT_FALSE(is_terminal_safe("\xff"));
}

TEST(TerminalSafe, JsonKeepsLayoutAndStaysValid) {
  EXPECT_EQ(terminal_safe_json("{\n  \"m\": \"a\xc2\x9b\xe2\x80\xae" "b\\u001b\"\n}"),
            "{\n  \"m\": \"a\\u009b\\u202eb\\u001b\"\n}");
}

TEST(TerminalSafe, LogPayloadIsEscaped) {
  std::ostringstream os;
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(os));
  use_terminal_safe_log_format(*logger);
  logger->warn("upstream said {}", "\x1b]0;title\x07\x1b[2J");
  logger->flush();
  const std::string line = os.str();
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_NE(line.find("upstream said \\u001b]0;title\\u0007\\u001b[2J"), std::string::npos) << line;
  EXPECT_NE(line.find("[warning]"), std::string::npos) << line;
}

}  // namespace
}  // namespace llmtap
