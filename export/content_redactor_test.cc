#include "export/content_redactor.h"
#include "export/redactor.h"

#include <gtest/gtest.h>

namespace llmtap::exporting {
namespace {

std::string redact(std::string_view s, TextKind kind = TextKind::kFreeText) {
  return ContentRedactor::default_instance()->redacted(s, kind);
}

TEST(ContentRedactor, EachSecretClass) {
  EXPECT_EQ(redact("id AKIAIOSFODNN7EXAMPLE ok"), "id [REDACTED:aws_access_key_id] ok");
  EXPECT_EQ(redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
            "aws_secret_access_key = [REDACTED:aws_secret_access_key]\n");
  EXPECT_EQ(redact("{\\\"SecretAccessKey\\\": \\\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\\"}"),
            "{\\\"SecretAccessKey\\\": \\\"[REDACTED:aws_secret_access_key]\\\"}");
  EXPECT_EQ(redact("use ghp_" + std::string(36, 'a') + "."), "use [REDACTED:github_token].");
  EXPECT_EQ(redact("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"), "[REDACTED:github_token]");
  EXPECT_EQ(redact("glpat-abcdefghij0123456789"), "[REDACTED:gitlab_token]");
  EXPECT_EQ(redact("xoxb-1234567890-abcdefghij"), "[REDACTED:slack_token]");
  EXPECT_EQ(redact("https://hooks.slack.com/services/T000/B000/XXXX"), "[REDACTED:slack_token]");
  EXPECT_EQ(redact("sk-ant-api03-ZZZZyyyyXXXXwwww1111-2222_3333"), "[REDACTED:anthropic_key]");
  EXPECT_EQ(redact("sk-proj-Abc123def456ghi789JKL012mno345"), "[REDACTED:openai_key]");
  EXPECT_EQ(redact("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv"), "[REDACTED:google_api_key]");
  EXPECT_EQ(redact("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            "t=[REDACTED:jwt]");
  EXPECT_EQ(redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc+/=\n-----END RSA PRIVATE KEY----- after"),
            "[REDACTED:private_key] after");
  EXPECT_EQ(redact("\"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n\""),
            "\"[REDACTED:private_key]\\n\"");
  EXPECT_EQ(redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz"), "Authorization: Bearer [REDACTED:bearer_token]");
  EXPECT_EQ(redact("password=hunter22&user=bob"), "password=[REDACTED:password]&user=bob");
  EXPECT_EQ(redact("{\"client_secret\": \"s3cr3t-value\"}"), "{\"client_secret\": \"[REDACTED:password]\"}");
  EXPECT_EQ(redact("TOKEN: abc123xyz"), "TOKEN: [REDACTED:password]");
  EXPECT_EQ(redact("key Zx9Qm2Lr8Tp4Wv6Yb1Nc3Kd5Fg7Hj0Ms2Ra4Eu"), "key [REDACTED:high_entropy]");
}

TEST(ContentRedactor, PersonalData) {
  EXPECT_EQ(redact("mail jane.doe+x@example.co.uk now"), "mail [REDACTED:email] now");
  EXPECT_EQ(redact("call +1 415-555-0132 or (415) 555-0199 or 415.555.0100"),
            "call [REDACTED:phone] or [REDACTED:phone] or [REDACTED:phone]");
  EXPECT_EQ(redact("+44 20 7946 0958"), "[REDACTED:phone]");
  EXPECT_EQ(redact("card 4111 1111 1111 1111 exp"), "card [REDACTED:card_number] exp");
  EXPECT_EQ(redact("card 4111-1111-1111-1111"), "card [REDACTED:card_number]");
  EXPECT_EQ(redact("card 4111111111111112"), "card 4111111111111112");  // fails the Luhn check
}

TEST(ContentRedactor, LeavesOrdinaryTextAlone) {
  for (const char* s : {"max_tokens: 100", "tokens: 3", "the password policy", "gpt-4o-2024-08-06",
                        "version 10 100 1000", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        "ThisIsAnOrdinaryCamelCaseIdentifierName", "2026-12-01T08:16:44Z", "order 12345678",
                        "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"}) {
    if (std::string(s).rfind("chatcmpl", 0) == 0) {
      EXPECT_EQ(redact(s, TextKind::kAny), s);  // ids outside free text keep their shape
      continue;
    }
    EXPECT_EQ(redact(s), s);
  }
  // Personal data classes apply to free text only.
  EXPECT_EQ(redact("jane@example.com", TextKind::kAny), "jane@example.com");
  EXPECT_EQ(redact("ghp_" + std::string(36, 'b'), TextKind::kAny), "[REDACTED:github_token]");
}

TEST(ContentRedactor, IdempotentAndClassesSwitchable) {
  std::string once = redact("token=ghp_" + std::string(36, 'c') + " a@b.io 4111 1111 1111 1111");
  EXPECT_EQ(once, "token=[REDACTED:github_token] [REDACTED:email] [REDACTED:card_number]");
  EXPECT_EQ(redact(once), once);

  std::string error;
  RedactionOptions options;
  options.disabled_classes = {"email", "phone"};
  options.patterns = {"ACME-[0-9]{4}"};
  auto r = ContentRedactor::create(options, &error);
  ASSERT_NE(r, nullptr) << error;
  EXPECT_EQ(r->redacted("a@b.io 555-123-4567 ACME-1234", TextKind::kFreeText), "a@b.io 555-123-4567 [REDACTED:custom]");
  options = {};
  options.disabled_classes = {"emails"};
  EXPECT_EQ(ContentRedactor::create(options, &error), nullptr);
  EXPECT_NE(error.find("unknown redaction class 'emails'"), std::string::npos) << error;
  EXPECT_NE(error.find("card_number"), std::string::npos) << error;
  options = {};
  options.patterns = {"(a)\\1"};
  EXPECT_EQ(ContentRedactor::create(options, &error), nullptr);
  EXPECT_NE(error.find("--redact: invalid regular expression '(a)\\1'"), std::string::npos) << error;
}

// Linear time on big prompts, whatever the patterns: a 1 MB prompt with and without secrets, and a
// user pattern that backtracking engines take exponential time on.
TEST(ContentRedactor, OneMegabytePromptsAndPathologicalPatterns) {
  std::string error;
  RedactionOptions options;
  options.patterns = {"(a|aa)+$", "(x+x+)+y"};
  auto r = ContentRedactor::create(options, &error);
  ASSERT_NE(r, nullptr) << error;
  std::string big(1 << 20, 'a');
  // EXPECT_TRUE, not EXPECT_EQ: a failure must not print a megabyte.
  EXPECT_TRUE(r->redacted(big, TextKind::kFreeText) == "[REDACTED:custom]");
  std::string xs(1 << 20, 'x');
  EXPECT_TRUE(r->redacted(xs, TextKind::kFreeText) == xs);
  std::string prose;
  while (prose.size() < (1 << 20)) prose += "The quick brown fox jumps over the lazy dog, 42 times. ";
  std::string with_secret = prose + "mail ops@example.com key AKIAIOSFODNN7EXAMPLE " + prose;
  std::string out = ContentRedactor::default_instance()->redacted(with_secret, TextKind::kFreeText);
  EXPECT_TRUE(out == prose + "mail [REDACTED:email] key [REDACTED:aws_access_key_id] " + prose);
  EXPECT_TRUE(ContentRedactor::default_instance()->redacted(prose, TextKind::kFreeText) == prose);
}

}  // namespace
}  // namespace llmtap::exporting

// Found by redactor_fuzz (docs/fuzzing.md, 1 Dec): a phone number's placeholder in the tail of a longer
// token handed the token's head the boundary the high-entropy rule needs, so a second pass redacted
// more. A phone number inside a token is now part of that token.
TEST(ContentRedactor, PhoneInsideATokenKeepsRedactionIdempotent) {
  const std::string in(
      "\x73\x61\x59\x29\x00\x00\x00\x73\x41\x49\x41\x41\x6c\x61\x2d\x38\x38\x38\x38\x38\x37\x30\x32\x37"
      "\x32\x2d\x4e\x63\x61\x30\x5f\x73\x31\x78\x5f\x58\x62\x2d\x2d\x69\x6b\x2b\x30\x30\x30\x30\x38\x30"
      "\x30\x9d\x24\x9d\x41\xc1\x41\x53\x24\x43\x43\x43\xff\xff\xff\xff\x26\xff\xff\x30\x30\x30\x31\x34"
      "\x38\x31\x34\x35\x31\x30\x35\x35\x39\x33\x30\x32\xff\xf5\x41\x01\x00\x00\x00\x00\x00\x21\x1d",
      95);
  llmtap::exporting::Redactor r;
  const std::string once = r.redact_free_text(in);
  EXPECT_EQ(r.redact_free_text(once), once);
}

// Found by redactor_fuzz in CI: "+digits+digits" redacted its first half, whose placeholder then gave
// the second half the boundary the phone rule needs, so a second pass redacted more. A phone number
// now needs a boundary on both sides.
TEST(ContentRedactor, PhoneNumbersRunTogetherStayIdempotent) {
  const std::string in("\0\0+07875807875+078758078758", 27);
  llmtap::exporting::Redactor r;
  const std::string once = r.redact_free_text(in);
  EXPECT_EQ(r.redact_free_text(once), once);
  EXPECT_EQ(r.redact_free_text("call +1 415-555-0132."), "call [REDACTED:phone].");
  EXPECT_EQ(r.redact_free_text("id x+14155550132+1"), "id x+14155550132+1");
}

// Found by redactor_fuzz: a key's placeholder gave the "+0000721" after it the boundary a phone number
// needs, and the phone rule had not matched the original text, so only a second pass redacted it.
TEST(ContentRedactor, APlaceholdersNewBoundaryIsRedactedInTheSamePass) {
  const std::string in("skk-\nsk-AIzaddddbdddkkAwwwwwwwwwwwwwwwwwwwwwwww00072A+0000721\0+0dd_ddd\0", 71);
  llmtap::exporting::Redactor r;
  const std::string once = r.redact(in);
  EXPECT_EQ(r.redact(once), once);
  const std::string free_text = r.redact_free_text(in);
  EXPECT_EQ(r.redact_free_text(free_text), free_text);
  EXPECT_EQ(free_text.substr(0, 5 + 21 + 16), "skk-\n[REDACTED:openai_key][REDACTED:phone]");
}
