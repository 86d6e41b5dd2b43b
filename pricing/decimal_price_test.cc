#include "pricing/decimal_price.h"

#include <gtest/gtest.h>

namespace llmtap {
namespace {

TEST(DecimalPrice, PerMillionIsPicodollarsPerToken) {
  std::string err;
  // $2.50 per 1M tokens = 2.5e-6 $/token = 2,500,000 pico/token.
  EXPECT_EQ(parse_per_million_price("2.50", &err), 2500000);
  EXPECT_EQ(parse_per_million_price("15", &err), 15000000);
  EXPECT_EQ(parse_per_million_price("0.075", &err), 75000);
  EXPECT_EQ(parse_per_million_price("0.000001", &err), 1);  // the finest representable price
  EXPECT_EQ(parse_per_million_price("3.1250000000", &err), 3125000);  // trailing zeros beyond scale are fine
  EXPECT_EQ(parse_per_million_price("0", &err), 0);
}

TEST(DecimalPrice, PerRequestIsPicodollars) {
  std::string err;
  EXPECT_EQ(parse_per_request_price("0.01", &err), 10000000000);  // 1 cent = 1e10 pico
  EXPECT_EQ(parse_per_request_price("0.000000000001", &err), 1);
}

TEST(DecimalPrice, RejectsWhatIsNotAPlainDecimal) {
  for (const char* bad : {"", ".5", "5.", "-1", "+1", "1e-6", "1,5", " 1", "1 ", "abc", "1.2.3", "0x10"}) {
    std::string err;
    EXPECT_FALSE(parse_per_million_price(bad, &err)) << bad;
    EXPECT_NE(err.find("not a valid price"), std::string::npos) << bad;
  }
}

TEST(DecimalPrice, RejectsSubPicodollarPrecisionInsteadOfRounding) {
  std::string err;
  EXPECT_FALSE(parse_per_million_price("0.0000001", &err));
  EXPECT_NE(err.find("6 decimal places"), std::string::npos);
  EXPECT_FALSE(parse_per_request_price("0.0000000000001", &err));
}

TEST(DecimalPrice, RejectsOverflow) {
  std::string err;
  EXPECT_FALSE(parse_per_million_price("99999999999999999999", &err));
  EXPECT_NE(err.find("too large"), std::string::npos);
}

TEST(DecimalPrice, FormatsBack) {
  EXPECT_EQ(format_per_million(2500000), "2.5");
  EXPECT_EQ(format_per_million(1), "0.000001");
  EXPECT_EQ(format_per_million(15000000), "15");
  EXPECT_EQ(format_usd(1234567), "0.000001234567");
  EXPECT_EQ(format_usd(-5000000000000), "-5");
  EXPECT_EQ(format_usd(0), "0");
}

}  // namespace
}  // namespace llmtap
