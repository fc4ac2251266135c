// The text forms of typed cells: parsing a field's text as int64 / double / bool (the rules type
// inference uses) and rendering a double in its shortest round-trip form.
//
// Rules: an integer is an optional sign ('+' or '-') and decimal digits, within int64 range;
// a double is anything std::from_chars accepts in general format after an optional sign,
// including "inf", "infinity" and "nan" in any case (magnitudes beyond double range become
// +-inf, and ParseDoubleInRange refuses them); a bool is "true" or "false" in any case. No
// surrounding whitespace is allowed. Cost: O(length of the text); no allocation except when a
// double overflows.
//
// Thread safety: all functions are pure.
#ifndef URN_TABLE_CELL_TEXT_H_
#define URN_TABLE_CELL_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace urn::table {

bool ParseInt64(std::string_view text, int64_t* out);
bool ParseDouble(std::string_view text, double* out);
// ParseDouble, but false for a numeral whose value a double cannot hold: one past the largest
// double (1e400, which ParseDouble makes inf) or one that is not zero but below the least
// subnormal (1e-400, which would be 0). Subnormals, zeros written any way ("0e-999"), and
// "inf" / "nan" spelled out are accepted. Data columns are typed with it, and text is read as a
// weight with it, so that no cell's value changes silently.
bool ParseDoubleInRange(std::string_view text, double* out);
// For text ParseDouble accepts but ParseDoubleInRange does not: true for such a numeral.
bool IsOutOfDoubleRange(std::string_view text);
bool ParseBool(std::string_view text, bool* out);

// `text` without the spaces (' ' only) before and after it: a weight's text is read with them
// dropped, in a file as in a dataset's text column.
std::string_view TrimSpaces(std::string_view text);

// A cell's text for an error message: its first 40 bytes with control bytes, quotes and
// non-ASCII escaped (a NUL would end a printed message there), then "..." if there were more.
std::string TextForMessage(std::string_view text);

// Whether `text` is an integer of any magnitude: an optional sign and decimal digits (int64 or
// not).
bool IsIntegerText(std::string_view text);

// Appends the shortest text that parses back to `v` ("nan", "inf", "-inf" for non-finite).
void AppendDouble(double v, std::string* out);

}  // namespace urn::table

#endif  // URN_TABLE_CELL_TEXT_H_
