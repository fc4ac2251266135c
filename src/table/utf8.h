// Utf8Prefix: how many leading bytes of a string are well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF), as protobuf requires of its
// string fields.
//
// Cost: O(n); ASCII runs are checked 8 bytes at a time. Thread safety: a pure function.
#ifndef URN_TABLE_UTF8_H_
#define URN_TABLE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace urn::table {

// The length of the longest prefix of `s` made of whole, valid UTF-8 characters: s.size()
// exactly when all of `s` is valid.
size_t Utf8Prefix(std::string_view s);

}  // namespace urn::table

#endif  // URN_TABLE_UTF8_H_
