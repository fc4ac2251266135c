// Query errors that point at the spot: every error the lexer, parser and planner report is an
// InvalidArgument status whose message starts with `line:col: ` (1-based; the column counts
// UTF-8 characters) and which carries the byte span it refers to as a payload. FormatError
// turns such a status into what a person reads on a terminal:
//
//   2:21: unknown column 'lable'; did you mean 'label'?
//     WHERE lable == 'cat'
//           ^~~~~
//
// A status without a span (say, a data error found while running) is rendered as its message.
//
// Thread safety: pure functions.
#ifndef URN_QUERY_ERROR_H_
#define URN_QUERY_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace urn::query {

// A byte range of the query text.
struct SourceSpan {
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t end() const { return offset + length; }
  // The smallest span covering both.
  static SourceSpan Cover(SourceSpan a, SourceSpan b);
};

// Where an error points, as stored in the status.
struct ErrorLocation {
  SourceSpan span;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in UTF-8 characters
};

// InvalidArgument "line:col: message" for the span of `text`, with the span attached.
// A span past the end of the text is clamped to its end.
absl::Status QueryError(std::string_view text, SourceSpan span, std::string_view message);

// The location attached by QueryError, if any.
std::optional<ErrorLocation> ErrorLocationOf(const absl::Status& status);

// The message, then (when the status has a location) the query line it points into and a
// line of carets under the span. Lines longer than ~100 characters are shown as a window
// around the spot. No trailing newline.
std::string FormatError(std::string_view query_text, const absl::Status& status);

}  // namespace urn::query

#endif  // URN_QUERY_ERROR_H_
