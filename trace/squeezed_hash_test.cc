#include "trace/squeezed_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace llmtap::trace {
namespace {

std::string without_spaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!is_squeezed_space(c)) out.push_back(c);
  return out;
}

std::uint64_t plain_hash(std::string_view s) {
  SqueezedHash h;
  h.add(s);
  return h.value();
}

// Text of LEN bytes where about one byte in SPACE_EVERY is one of the four spaces.
std::string text(std::mt19937& rng, std::size_t len, unsigned space_every) {
  static constexpr char kSpaces[] = {' ', '\n', '\r', '\t'};
  std::string s(len, 'a');
  for (auto& c : s)
    c = rng() % space_every == 0 ? kSpaces[rng() % 4] : static_cast<char>('!' + rng() % 90);
  return s;
}

TEST(SqueezedHash, IsThePlainHashOfTheTextWithoutItsSpacesAtEveryLengthAndDensity) {
  std::mt19937 rng(7);
  for (unsigned every : {1u, 2u, 3u, 6u, 17u, 1000u})
    for (std::size_t len = 0; len < 1200; len += 1 + len / 8) {
      const std::string s = text(rng, len, every);
      SqueezedHash h;
      EXPECT_EQ(h.add_squeezed(s), without_spaces(s).size()) << len << " " << every;
      EXPECT_EQ(h.value(), plain_hash(without_spaces(s))) << len << " " << every;
    }
}

TEST(SqueezedHash, DoesNotDependOnHowTheTextIsSplit) {
  std::mt19937 rng(11);
  const std::string s = text(rng, 3000, 5);
  const std::uint64_t whole = plain_hash(without_spaces(s));
  for (std::size_t cut : {0u, 1u, 15u, 16u, 17u, 511u, 512u, 2999u, 3000u}) {
    SqueezedHash h;
    h.add_squeezed(std::string_view(s).substr(0, cut));
    h.add_squeezed(std::string_view(s).substr(cut));
    EXPECT_EQ(h.value(), whole) << cut;
  }
}

TEST(FieldHash, SeparatesFieldsAndIgnoresWhitespaceOnlyInSqueezedOnes) {
  EXPECT_NE(FieldHash().add("ab").add("c").value(), FieldHash().add("a").add("bc").value());
  EXPECT_EQ(FieldHash().add("u").add_squeezed("a b\n c").value(), FieldHash().add("u").add_squeezed("abc").value());
  EXPECT_NE(FieldHash().add("u").add_squeezed("abc").value(), FieldHash().add("u").add_squeezed("abd").value());
  EXPECT_NE(FieldHash().add("a b").value(), FieldHash().add("ab").value());
}

}  // namespace
}  // namespace llmtap::trace
