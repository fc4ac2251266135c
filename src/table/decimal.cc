#include "table/decimal.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace urn::table {
namespace {

constexpr double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

}  // namespace

bool ParseDecimalFast(std::string_view text, double* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (p < end && (*p == '-' || *p == '+')) ++p;
  // At most 19 digits in all, so the mantissa cannot overflow 64 bits.
  const char* const limit = p + std::min<ptrdiff_t>(end - p, 20);
  const char* const digits_begin = p;
  uint64_t mantissa = 0;
  while (p < limit && static_cast<unsigned>(*p - '0') < 10) mantissa = mantissa * 10 + (*p++ - '0');
  int integer_digits = static_cast<int>(p - digits_begin);
  int fraction = 0;
  if (p < limit && *p == '.') {
    const char* const f = ++p;
    while (p < limit && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + (*p++ - '0');
    }
    fraction = static_cast<int>(p - f);
  }
  if (p != end || integer_digits + fraction == 0 || integer_digits + fraction > 19 ||
      mantissa >= (uint64_t{1} << 53) || fraction > 22) {
    return false;
  }
  const double v = static_cast<double>(mantissa) / kPow10[fraction];
  *out = negative ? -v : v;
  return true;
}

}  // namespace urn::table
