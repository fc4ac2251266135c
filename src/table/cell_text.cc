#include "table/cell_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "absl/strings/escaping.h"
#include "table/decimal.h"

namespace urn::table {
namespace {

// Removes one leading '+' (std::from_chars accepts only '-'); false when what is left cannot
// start a number ("", "+-1", "++1").
bool StripPlus(std::string_view* text) {
  if (!text->empty() && text->front() == '+') {
    text->remove_prefix(1);
    if (!text->empty() && (text->front() == '-' || text->front() == '+')) return false;
  }
  return !text->empty();
}

}  // namespace

bool ParseInt64(std::string_view text, int64_t* out) {
  if (!StripPlus(&text)) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, 10);
  return ec == std::errc() && ptr == end;
}

namespace {

enum class DoubleText { kNumber, kOutOfRange, kNotANumber };

DoubleText ReadDouble(std::string_view text, double* out) {
  if (ParseDecimalFast(text, out)) return DoubleText::kNumber;  // plain decimals, exactly
  if (!StripPlus(&text)) return DoubleText::kNotANumber;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, std::chars_format::general);
  if (ptr != end) return DoubleText::kNotANumber;
  if (ec == std::errc()) return DoubleText::kNumber;
  if (ec != std::errc::result_out_of_range) return DoubleText::kNotANumber;
  // Overflow or underflow: strtod gives +-HUGE_VAL, a subnormal, or 0 (when even the least
  // subnormal is too large; from_chars refuses a numeral of 0 written with a large negative
  // exponent only when it is not zero).
  std::string copy(text);
  *out = std::strtod(copy.c_str(), nullptr);
  return std::isinf(*out) || *out == 0 ? DoubleText::kOutOfRange : DoubleText::kNumber;
}

}  // namespace

bool ParseDouble(std::string_view text, double* out) {
  return ReadDouble(text, out) != DoubleText::kNotANumber;
}

bool ParseDoubleInRange(std::string_view text, double* out) {
  return ReadDouble(text, out) == DoubleText::kNumber;
}

bool IsOutOfDoubleRange(std::string_view text) {
  double d;
  return ReadDouble(text, &d) == DoubleText::kOutOfRange;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string TextForMessage(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string shown = absl::CHexEscape(absl::string_view(text.data(), std::min(text.size(), kMax)));
  if (text.size() > kMax) shown += "...";
  return shown;
}

bool IsIntegerText(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (const char ch : text) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  auto iequals = [](std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower[i]) return false;
    }
    return true;
  };
  if (iequals(text, "true")) {
    *out = true;
    return true;
  }
  if (iequals(text, "false")) {
    *out = false;
    return true;
  }
  return false;
}

void AppendDouble(double v, std::string* out) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  if (r.ec != std::errc()) return;  // cannot happen with 64 bytes
  out->append(buf, r.ptr);
}

}  // namespace urn::table
