#include "table/decimal.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "random/counter_rng.h"
#include "table/cell_text.h"

namespace urn::table {
namespace {

double Reference(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

TEST(Decimal, FastPathAgreesWithFromCharsBitForBit) {
  random::KeyedStream s(1, random::Stream::kShuffle);
  for (uint64_t i = 0; i < 200000; ++i) {
    const uint64_t bits = s.Bits(i);
    const uint64_t mantissa = bits % 10000000000000ULL;  // up to 13 digits
    const int frac = static_cast<int>((bits >> 50) % 12);
    char buf[64];
    uint64_t scale = 1;
    for (int f = 0; f < frac; ++f) scale *= 10;
    if (frac == 0) {
      std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(mantissa));
    } else {
      std::snprintf(buf, sizeof(buf), "%llu.%0*llu",
                    static_cast<unsigned long long>(mantissa / scale), frac,
                    static_cast<unsigned long long>(mantissa % scale));
    }
    const std::string text = buf;
    double fast = -1;
    ASSERT_TRUE(ParseDecimalFast(text, &fast)) << text;
    ASSERT_EQ(fast, Reference(text)) << text;
  }
}

TEST(Decimal, OtherFormsFallBackToTheFullParser) {
  double v = 0;
  EXPECT_FALSE(ParseDecimalFast("1e5", &v));
  EXPECT_TRUE(ParseDouble("1e5", &v));
  EXPECT_EQ(v, 1e5);
  EXPECT_TRUE(ParseDouble("12345678901234567890123", &v));
  EXPECT_EQ(v, 12345678901234567890123.0);
  EXPECT_TRUE(ParseDouble("1e-300", &v));
  EXPECT_EQ(v, 1e-300);
  EXPECT_TRUE(ParseDouble("-2.5", &v));
  EXPECT_EQ(v, -2.5);
  EXPECT_TRUE(ParseDouble("+7", &v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(ParseDouble("nan", &v));
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(ParseDouble("1e999", &v));
  EXPECT_TRUE(std::isinf(v));
  for (const char* bad : {"", "-", ".", "1.2.3", "abc", "1,5", " 1", "1 ", "0x10", "++1"}) {
    EXPECT_FALSE(ParseDouble(bad, &v)) << bad;
  }
}

}  // namespace
}  // namespace urn::table
