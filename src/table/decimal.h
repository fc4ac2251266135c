// Fast exact parsing of plain decimal numbers ("12", "-0.5", "3.250000"), the common case of
// weight columns.
//
// Clinger's fast path ("How to read floating point numbers accurately", PLDI 1990): when the
// digits form an integer m < 2^53 and there are at most 22 digits after the point, m and 10^f
// are exact doubles and the IEEE division m / 10^f is correctly rounded, so the result equals
// what a full parser (std::from_chars) returns. Anything else (exponents, more digits, inf, nan,
// hex) is left to the caller's full parser: table::ParseDouble (cell_text.h) is the one that
// calls this first.
//
// Cost: one pass over the digits and one division. Thread safety: pure.
#ifndef URN_TABLE_DECIMAL_H_
#define URN_TABLE_DECIMAL_H_

#include <string_view>

namespace urn::table {

// Sets *out and returns true when `text` is [+-]digits[.digits] within the fast path's
// limits; returns false (leaving *out alone) otherwise, including when it is not a number.
bool ParseDecimalFast(std::string_view text, double* out);

}  // namespace urn::table

#endif  // URN_TABLE_DECIMAL_H_
