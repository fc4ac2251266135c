#include "table/field_list.h"

#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace urn::table {
namespace {

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string_view> SplitFields(std::string_view line, char delimiter) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = line.find(delimiter, start);
    if (pos == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

absl::StatusOr<FieldList> ParseFieldList(std::string_view spec,
                                         const std::vector<std::string_view>* header) {
  FieldList out;
  if (Trim(spec) == "0") {
    out.whole_line = true;
    return out;
  }
  if (Trim(spec).empty()) return absl::InvalidArgumentError("empty field list");
  for (std::string_view entry : SplitFields(spec, ',')) {
    entry = Trim(entry);
    const size_t dash = entry.find('-');
    int a = 0, b = 0;
    if (ParseInt(entry, &a)) {
      if (a < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "field '", std::string(entry), "': numbers start at 1 (0 alone means the whole line)"));
      }
      out.indices.push_back(a - 1);
    } else if (dash != std::string_view::npos && dash > 0 && ParseInt(entry.substr(0, dash), &a) &&
               ParseInt(entry.substr(dash + 1), &b)) {
      if (a < 1 || b < a) {
        return absl::InvalidArgumentError(
            absl::StrCat("field range '", std::string(entry), "' is not M-N with 1 <= M <= N"));
      }
      for (int i = a; i <= b; ++i) out.indices.push_back(i - 1);
    } else {
      if (header == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "field '", std::string(entry), "' is not a number (names need -H/--header)"));
      }
      int found = -1;
      for (size_t i = 0; i < header->size(); ++i) {
        if ((*header)[i] == entry) {
          found = static_cast<int>(i);
          break;
        }
      }
      if (found < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown field name '", std::string(entry), "' (not in the header)"));
      }
      out.indices.push_back(found);
    }
  }
  return out;
}

bool FieldAt(std::string_view line, char delimiter, int index, std::string_view* field) {
  const char* p = line.data();
  const char* end = p + line.size();
  for (int i = 0; i < index; ++i) {
    const void* d = std::memchr(p, delimiter, end - p);
    if (d == nullptr) return false;
    p = static_cast<const char*>(d) + 1;
  }
  const void* d = std::memchr(p, delimiter, end - p);
  const char* stop = d ? static_cast<const char*>(d) : end;
  *field = std::string_view(p, stop - p);
  return true;
}

}  // namespace urn::table
