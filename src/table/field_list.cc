#include "table/field_list.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace urn::table {
namespace {

// A range this wide is a typo, not a line's fields (and would cost memory per field).
constexpr int kMaxRangeFields = 1 << 20;

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// One side of an entry with its escapes removed: `literal[i]` says whether text[i] was escaped
// (an escaped '*' is not a wildcard; escaped digits are a name, not a number).
struct Term {
  std::string raw;  // as written, for messages
  std::string text;
  std::vector<bool> literal;
  bool escaped = false;
  bool IsNumber() const {
    return !escaped && !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  }
  bool HasWildcard() const {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '*' && !literal[i]) return true;
    }
    return false;
  }
};

// Splits `s` at the unescaped `sep` characters (at most once if `once`), keeping escapes.
std::vector<std::string_view> SplitUnescaped(std::string_view s, char sep, bool once) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == sep && !(once && !out.empty())) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Drops unescaped spaces and tabs at both ends.
std::string_view TrimUnescaped(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t') &&
         !(s.size() >= 2 && s[s.size() - 2] == '\\')) {
    s.remove_suffix(1);
  }
  return s;
}

absl::StatusOr<Term> Decode(std::string_view raw) {
  Term t;
  t.raw = std::string(raw);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\') {
      if (i + 1 == raw.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("field '", t.raw, "' ends with a lone backslash"));
      }
      t.text.push_back(raw[++i]);
      t.literal.push_back(true);
      t.escaped = true;
    } else {
      t.text.push_back(raw[i]);
      t.literal.push_back(false);
    }
  }
  return t;
}

// Whether `name` matches the glob `t` ('*' unescaped: any run of characters).
bool Matches(const Term& t, std::string_view name) {
  size_t p = 0, n = 0, star = std::string::npos, resume = 0;
  while (n < name.size()) {
    if (p < t.text.size() && t.text[p] == '*' && !t.literal[p]) {
      star = p++;
      resume = n;
    } else if (p < t.text.size() && t.text[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < t.text.size() && t.text[p] == '*' && !t.literal[p]) ++p;
  return p == t.text.size();
}

// The 0-based field a number names (>= 1).
absl::StatusOr<int> Number(const Term& t) {
  int v = 0;
  if (!ParseInt(t.text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", t.raw, "': too large a field number"));
  }
  if (v < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", t.raw, "': numbers start at 1 (0 alone means the whole line)"));
  }
  return v - 1;
}

// Every header field whose name matches `t`, in header order; at least one.
absl::StatusOr<std::vector<int>> Names(const Term& t, const std::vector<std::string_view>* header) {
  if (header == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", t.raw, "' is not a number (names need -H/--header)"));
  }
  std::vector<int> found;
  for (size_t i = 0; i < header->size(); ++i) {
    if (Matches(t, (*header)[i])) found.push_back(static_cast<int>(i));
  }
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("unknown field name '", t.raw, "' (not in the header",
                                            t.HasWildcard() ? "; no name matches" : "", ")"));
  }
  return found;
}

// The single field a range end names.
absl::StatusOr<int> RangeEnd(const Term& t, const std::vector<std::string_view>* header,
                             std::string_view entry) {
  if (t.IsNumber()) return Number(t);
  if (t.HasWildcard()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field range '", std::string(entry), "': a range's ends cannot be wildcards"));
  }
  absl::StatusOr<std::vector<int>> names = Names(t, header);
  if (!names.ok()) return names.status();
  return names->front();
}

// One comma-separated entry: a number, a name (with wildcards), or a range of either.
absl::Status AddEntry(std::string_view entry, const std::vector<std::string_view>* header,
                      FieldList* out) {
  if (entry.empty()) return absl::InvalidArgumentError("empty entry in the field list");
  const std::vector<std::string_view> sides = SplitUnescaped(entry, '-', /*once=*/true);
  if (sides.size() == 2 && !sides[0].empty()) {
    absl::StatusOr<Term> a = Decode(sides[0]), b = Decode(sides[1]);
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    if (a->IsNumber() != b->IsNumber() && !b->text.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field range '", std::string(entry), "' mixes a number and a name"));
    }
    absl::StatusOr<int> first = RangeEnd(*a, header, entry);
    absl::StatusOr<int> last =
        b->text.empty() ? absl::StatusOr<int>(absl::InvalidArgumentError("empty range end"))
                        : RangeEnd(*b, header, entry);
    if (first.ok() && last.ok()) {
      if (std::abs(*last - *first) >= kMaxRangeFields) {
        return absl::InvalidArgumentError(absl::StrCat(
            "field range '", std::string(entry), "' spans more than ", kMaxRangeFields, " fields"));
      }
      // Either direction, as tsv-utils: 5-2 is fields 5, 4, 3, 2.
      const int step = *first <= *last ? 1 : -1;
      for (int i = *first;; i += step) {
        out->indices.push_back(i);
        if (i == *last) break;
      }
      return absl::OkStatus();
    }
    // "time-stamp" written without its escape still names a field called exactly that.
    absl::StatusOr<Term> whole = Decode(entry);
    if (!a->IsNumber() && whole.ok() && header != nullptr) {
      for (size_t i = 0; i < header->size(); ++i) {
        if ((*header)[i] == whole->text) {
          out->indices.push_back(static_cast<int>(i));
          return absl::OkStatus();
        }
      }
    }
    if (a->IsNumber()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field range '", std::string(entry), "' is not M-N with M, N >= 1"));
    }
    return !first.ok() ? first.status() : last.status();
  }
  absl::StatusOr<Term> t = Decode(entry);
  if (!t.ok()) return t.status();
  if (t->IsNumber()) {
    absl::StatusOr<int> n = Number(*t);
    if (!n.ok()) return n.status();
    out->indices.push_back(*n);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int>> names = Names(*t, header);
  if (!names.ok()) return names.status();
  out->indices.insert(out->indices.end(), names->begin(), names->end());
  return absl::OkStatus();
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
  if (TrimUnescaped(spec) == "0") {
    out.whole_line = true;
    return out;
  }
  if (TrimUnescaped(spec).empty()) return absl::InvalidArgumentError("empty field list");
  for (std::string_view entry : SplitUnescaped(spec, ',', /*once=*/false)) {
    if (absl::Status s = AddEntry(TrimUnescaped(entry), header, &out); !s.ok()) return s;
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
