#include "query/error.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace urn::query {
namespace {

constexpr char kLocationUrl[] = "type.urn.dev/urn.query.ErrorLocation";
constexpr int kWindowChars = 100;  // widest line shown whole
constexpr int kContextChars = 40;  // characters shown before the spot in a window

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Characters (UTF-8 lead bytes) in s.
int CountChars(std::string_view s) {
  int n = 0;
  for (char c : s) n += !IsContinuation(c);
  return n;
}

// One character of a query line as it is echoed: control bytes other than tab become spaces
// so that the terminal shows one cell for them.
char Printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7F ? ' ' : c;
}

}  // namespace

SourceSpan SourceSpan::Cover(SourceSpan a, SourceSpan b) {
  const uint32_t begin = std::min(a.offset, b.offset);
  const uint32_t end = std::max(a.end(), b.end());
  return SourceSpan{begin, end - begin};
}

absl::Status QueryError(std::string_view text, SourceSpan span, std::string_view message) {
  const auto size = static_cast<uint32_t>(std::min<size_t>(text.size(), UINT32_MAX));
  span.offset = std::min(span.offset, size);
  span.length = std::min(span.length, size - span.offset);
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < span.offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const int column = 1 + CountChars(text.substr(line_start, span.offset - line_start));
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(line, ":", column, ": ", std::string(message)));
  status.SetPayload(kLocationUrl, absl::Cord(absl::StrCat(span.offset, ":", span.length, ":", line,
                                                          ":", column)));
  return status;
}

std::optional<ErrorLocation> ErrorLocationOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kLocationUrl);  // absl::optional (Debian)
  if (!payload) return std::nullopt;
  const std::string text(*payload);
  ErrorLocation loc;
  if (std::sscanf(text.c_str(), "%u:%u:%d:%d", &loc.span.offset, &loc.span.length, &loc.line,
                  &loc.column) != 4) {
    return std::nullopt;
  }
  return loc;
}

std::string FormatError(std::string_view query_text, const absl::Status& status) {
  std::string out(status.message());
  const std::optional<ErrorLocation> loc = ErrorLocationOf(status);
  if (!loc || loc->span.offset > query_text.size()) return out;
  // The line holding the spot.
  const size_t at = loc->span.offset;
  size_t line_start = at;
  while (line_start > 0 && query_text[line_start - 1] != '\n') --line_start;
  size_t line_end = query_text.find('\n', at);
  if (line_end == std::string_view::npos) line_end = query_text.size();
  const std::string_view line = query_text.substr(line_start, line_end - line_start);
  const size_t spot = at - line_start;
  const size_t span_end = std::min<size_t>(spot + loc->span.length, line.size());

  // Window of characters [first, last) to show.
  const int total = CountChars(line);
  const int spot_char = CountChars(line.substr(0, spot));
  int first = 0;
  if (total > kWindowChars && spot_char > kContextChars) first = spot_char - kContextChars;
  const int last = std::min(total, first + kWindowChars);

  std::string shown = first > 0 ? "..." : "";
  std::string carets(shown.size(), ' ');
  int ch = -1;
  bool marked = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (!IsContinuation(line[i])) ++ch;
    if (ch < first || ch >= last) continue;
    shown.push_back(Printable(line[i]));
    if (IsContinuation(line[i])) continue;
    if (i < spot) {
      carets.push_back(line[i] == '\t' ? '\t' : ' ');
    } else if (i < span_end || !marked) {
      carets.push_back(marked ? '~' : '^');
      marked = true;
    }
  }
  if (last < total) shown += "...";
  if (!marked) carets.push_back('^');  // the spot is the end of the line
  absl::StrAppend(&out, "\n  ", shown, "\n  ", carets);
  return out;
}

}  // namespace urn::query
