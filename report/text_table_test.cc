#include "report/text_table.h"

#include <gtest/gtest.h>

namespace llmtap::report {
namespace {

TEST(TerminalSafe, EscapesControlsKeepsUtf8) {
  EXPECT_EQ(terminal_safe("plain → text"), "plain → text");
  EXPECT_EQ(terminal_safe("a\nb\tc\x1b[31m\x7f"), "a\\nb\\tc\\x1b[31m\\x7f");
  EXPECT_EQ(terminal_safe("\xc2\x9b" "2J"), "\\xc2\\x9b2J");  // C1 CSI
  EXPECT_EQ(terminal_safe("bad \xff\xc3"), "bad \\xff\\xc3");
  EXPECT_EQ(terminal_safe(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(TextTable, AlignsByDisplayWidthAndCuts) {
  TextTable t({"NAME", "N"}, {false, true});
  t.add({"→ arrow", "1"});
  t.add({"abcdefghij", "100"});
  EXPECT_EQ(t.render("", 40), "NAME          N\n→ arrow       1\nabcdefghij  100\n");
  EXPECT_EQ(t.render("> ", 5), "> NAME     N\n> → ar…    1\n> abcd…  100\n");
}

}  // namespace
}  // namespace llmtap::report
