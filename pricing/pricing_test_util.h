#pragma once
// Helpers shared by the pricing tests: exact expected dollars and ModelCall construction.
#include <string>

#include <gtest/gtest.h>

#include "common/model_call.h"
#include "pricing/decimal_price.h"

namespace llmtap::testing {

// "0.012345" USD -> picodollars, exactly (the tests write expected dollars as decimal strings).
inline PicoUsd usd(const std::string& dollars) {
  std::string err;
  auto v = parse_decimal_scaled(dollars, 12, &err);
  EXPECT_TRUE(v.has_value()) << err;
  return v.value_or(-1);
}

struct Tokens {
  std::int64_t input = 0, cache_read = 0, cache_write_5m = 0, cache_write_1h = 0, output = 0, reasoning = 0;
};

inline ModelCall make_call(const std::string& model, Tokens t, const std::string& service_tier = "") {
  ModelCall c;
  c.request_model = model;
  c.service_tier = service_tier;
  c.usage.present = true;
  c.usage.input_uncached = t.input;
  c.usage.cache_read = t.cache_read;
  c.usage.cache_write_5m = t.cache_write_5m;
  c.usage.cache_write_1h = t.cache_write_1h;
  c.usage.output = t.output;
  c.usage.reasoning = t.reasoning;
  return c;
}

}  // namespace llmtap::testing
