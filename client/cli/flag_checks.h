// Checks for integer flags. CLI11 2.1 turns "-1" into 2^64 - 1 for an unsigned option and
// clamps digits past a type's range to its limit, so that `--seed -1` and `--seed 2^64` would
// silently be another seed; these validators refuse such text with the flag's name.
#ifndef URN_CLIENT_CLI_FLAG_CHECKS_H_
#define URN_CLIENT_CLI_FLAG_CHECKS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"

namespace urn::cli {

// An integer in [0, 2^64 - 1], written in decimal digits.
inline CLI::Validator UnsignedInteger() {
  return CLI::Validator(
      [](std::string& text) {
        uint64_t v = 0;
        if (!text.empty() && text[0] != '-' && text[0] != '+' && absl::SimpleAtoi(text, &v)) {
          return std::string();
        }
        return "must be an integer from 0 to 18446744073709551615, not " + text;
      },
      "UINT");
}

// An integer in [min, 2^63 - 1], written in decimal digits.
inline CLI::Validator IntegerAtLeast(int64_t min) {
  return CLI::Validator(
      [min](std::string& text) {
        int64_t v = 0;
        if (absl::SimpleAtoi(text, &v) && v >= min) return std::string();
        return "must be an integer from " + std::to_string(min) + " to 9223372036854775807, not " +
               text;
      },
      "INT");
}

// An integer in [-2^63, 2^63 - 1], written in decimal digits.
inline CLI::Validator SignedInteger() {
  return IntegerAtLeast(std::numeric_limits<int64_t>::min());
}

// A finite number > 0 (seconds, say).
inline CLI::Validator PositiveNumber() {
  return CLI::Validator(
      [](std::string& text) {
        double v = 0;
        if (absl::SimpleAtod(text, &v) && v > 0 && v <= 1e9) return std::string();
        return "must be a number above 0 (and at most 1e9), not " + text;
      },
      "NUMBER");
}

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_FLAG_CHECKS_H_
