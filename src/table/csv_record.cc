#include "table/csv_record.h"

#include <cstring>

namespace urn::table {

size_t CsvRecordScanner::FindEnd(std::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  while (p < end) {
    switch (state_) {
      case State::kQuoted: {
        const void* q = std::memchr(p, '"', static_cast<size_t>(end - p));
        const char* stop = q ? static_cast<const char*>(q) : end;
        for (const char* s = p; s < stop; ++s) newlines_ += (*s == '\n');
        if (q == nullptr) return std::string_view::npos;
        p = stop + 1;
        state_ = State::kQuoteInQuoted;
        break;
      }
      case State::kQuoteInQuoted:
        if (*p == '"') {  // "" inside a quoted field
          state_ = State::kQuoted;
          ++p;
          break;
        }
        // The closing quote: the delimiter or the record's end must follow.
        if (*p != delimiter_ && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n') &&
            malformed_field_ < 0) {
          malformed_field_ = field_;
        }
        state_ = State::kUnquoted;
        break;
      case State::kFieldStart:
        if (*p == '"') {
          state_ = State::kQuoted;
          ++p;
          break;
        }
        state_ = State::kUnquoted;
        break;
      case State::kUnquoted:
        for (; p < end; ++p) {
          const char c = *p;
          if (c == '\n') return static_cast<size_t>(p - data.data());
          if (c == delimiter_) {
            state_ = State::kFieldStart;
            ++field_;
            ++p;
            break;
          }
        }
        break;
    }
  }
  return std::string_view::npos;
}

bool SplitCsvRecord(std::string_view record, char delimiter, std::string* scratch,
                    std::vector<std::string_view>* fields, CsvSplitError* error) {
  fields->clear();
  scratch->clear();
  // Unescaped text is never longer than the record, so views into scratch stay valid.
  scratch->reserve(record.size());
  const char* p = record.data();
  const char* const end = p + record.size();
  for (;;) {
    const int index = static_cast<int>(fields->size());
    if (p < end && *p == '"') {
      ++p;
      const char* seg = p;
      bool escaped = false;
      size_t scratch_begin = scratch->size();
      for (;;) {
        const void* q = p < end ? std::memchr(p, '"', static_cast<size_t>(end - p)) : nullptr;
        if (q == nullptr) {
          error->field = index;
          error->message = "unterminated quoted field";
          return false;
        }
        const char* quote = static_cast<const char*>(q);
        if (quote + 1 < end && quote[1] == '"') {  // "" stands for "
          if (!escaped) {
            escaped = true;
            scratch_begin = scratch->size();
          }
          scratch->append(seg, quote + 1);
          p = seg = quote + 2;
          continue;
        }
        if (escaped) {
          scratch->append(seg, quote);
          fields->emplace_back(scratch->data() + scratch_begin, scratch->size() - scratch_begin);
        } else {
          fields->emplace_back(seg, static_cast<size_t>(quote - seg));
        }
        p = quote + 1;
        break;
      }
      if (p == end) return true;
      if (*p != delimiter) {
        error->field = index;
        error->message = "unexpected character after closing quote";
        return false;
      }
      ++p;
      continue;
    }
    if (p == end) {
      fields->emplace_back();
      return true;
    }
    const void* d = std::memchr(p, delimiter, static_cast<size_t>(end - p));
    if (d == nullptr) {
      fields->emplace_back(p, static_cast<size_t>(end - p));
      return true;
    }
    const char* delim = static_cast<const char*>(d);
    fields->emplace_back(p, static_cast<size_t>(delim - p));
    p = delim + 1;
  }
}

}  // namespace urn::table
