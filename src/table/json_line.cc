#include "table/json_line.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace urn::table {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string_view JsonKindName(JsonKind kind) {
  switch (kind) {
    case JsonKind::kNull:
      return "null";
    case JsonKind::kNumber:
      return "number";
    case JsonKind::kString:
      return "string";
    case JsonKind::kBool:
      return "bool";
    case JsonKind::kArray:
      return "array";
  }
  return "unknown";
}

bool JsonLineParser::Fail(const char* what, const char* at) {
  error_ = absl::StrCat("invalid JSON: ", what, " at column ", at - begin_ + 1);
  return false;
}

void JsonLineParser::SkipSpace() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
}

bool JsonLineParser::Parse(std::string_view line) {
  begin_ = p_ = line.data();
  end_ = p_ + line.size();
  fields_.clear();
  elements_.clear();
  scratch_.clear();
  // Unescaped strings are never longer than their escaped form: views into scratch_ stay valid.
  scratch_.reserve(line.size());
  error_.clear();
  empty_ = false;
  SkipSpace();
  if (p_ == end_) {
    empty_ = true;
    return true;
  }
  if (*p_ != '{') return Fail("expected '{' at the start of the line", p_);
  ++p_;
  SkipSpace();
  if (p_ < end_ && *p_ == '}') {
    ++p_;
  } else {
    for (;;) {
      SkipSpace();
      if (p_ >= end_ || *p_ != '"') return Fail("expected a string key", p_);
      JsonField f;
      if (!ParseString(&f.key)) return false;
      SkipSpace();
      if (p_ >= end_ || *p_ != ':') return Fail("expected ':' after key", p_);
      ++p_;
      SkipSpace();
      if (p_ < end_ && *p_ == '[') {
        ++p_;
        f.kind = JsonKind::kArray;
        f.elements_begin = elements_.size();
        SkipSpace();
        if (p_ < end_ && *p_ == ']') {
          ++p_;
        } else {
          for (;;) {
            SkipSpace();
            JsonKind kind;
            std::string_view text;
            if (!ParseScalar(&kind, &text, f.key, /*in_array=*/true)) return false;
            elements_.push_back(text);
            SkipSpace();
            if (p_ < end_ && *p_ == ',') {
              ++p_;
              continue;
            }
            if (p_ < end_ && *p_ == ']') {
              ++p_;
              break;
            }
            return Fail("expected ',' or ']' in array", p_);
          }
        }
        f.elements_end = elements_.size();
      } else if (!ParseScalar(&f.kind, &f.text, f.key, /*in_array=*/false)) {
        return false;
      }
      fields_.push_back(f);
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        break;
      }
      return Fail("expected ',' or '}' after a value", p_);
    }
  }
  SkipSpace();
  if (p_ != end_) return Fail("unexpected text after the object", p_);
  return true;
}

bool JsonLineParser::ParseString(std::string_view* out) {
  const char* const open = p_;
  ++p_;  // the opening quote
  const char* start = p_;
  bool escaped = false;
  size_t scratch_begin = 0;
  while (p_ < end_) {
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      if (escaped) {
        scratch_.append(start, p_);
        *out = std::string_view(scratch_.data() + scratch_begin, scratch_.size() - scratch_begin);
      } else {
        *out = std::string_view(start, static_cast<size_t>(p_ - start));
      }
      ++p_;
      return true;
    }
    if (c < 0x20) return Fail("control character in string", p_);
    if (c != '\\') {
      ++p_;
      continue;
    }
    if (!escaped) {
      escaped = true;
      scratch_begin = scratch_.size();
    }
    scratch_.append(start, p_);
    const char* const esc = p_;
    ++p_;
    if (p_ >= end_) break;
    const char e = *p_++;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        scratch_.push_back(e);
        break;
      case 'b':
        scratch_.push_back('\b');
        break;
      case 'f':
        scratch_.push_back('\f');
        break;
      case 'n':
        scratch_.push_back('\n');
        break;
      case 'r':
        scratch_.push_back('\r');
        break;
      case 't':
        scratch_.push_back('\t');
        break;
      case 'u': {
        auto hex4 = [this](uint32_t* v) {
          if (end_ - p_ < 4) return false;
          uint32_t r = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = HexValue(p_[i]);
            if (h < 0) return false;
            r = r * 16 + static_cast<uint32_t>(h);
          }
          p_ += 4;
          *v = r;
          return true;
        };
        uint32_t cp;
        if (!hex4(&cp)) return Fail("invalid \\u escape", esc);
        if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate", esc);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
            return Fail("high surrogate without a low surrogate", esc);
          }
          p_ += 2;
          if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
            return Fail("high surrogate without a low surrogate", esc);
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(cp, &scratch_);
        break;
      }
      default:
        return Fail("invalid escape", esc);
    }
    start = p_;
  }
  return Fail("unterminated string", open);
}

bool JsonLineParser::ParseNumber(std::string_view* out) {
  const char* const s = p_;
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ >= end_) return Fail("invalid number", s);
  if (*p_ == '0') {
    ++p_;
  } else if (IsDigit(*p_)) {
    while (p_ < end_ && IsDigit(*p_)) ++p_;
  } else {
    return Fail("invalid number", s);
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || !IsDigit(*p_)) return Fail("invalid number", s);
    while (p_ < end_ && IsDigit(*p_)) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ >= end_ || !IsDigit(*p_)) return Fail("invalid number", s);
    while (p_ < end_ && IsDigit(*p_)) ++p_;
  }
  *out = std::string_view(s, static_cast<size_t>(p_ - s));
  return true;
}

bool JsonLineParser::ParseScalar(JsonKind* kind, std::string_view* text, std::string_view key,
                                 bool in_array) {
  if (p_ >= end_) return Fail("expected a value", p_);
  auto literal = [this](std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  };
  const char c = *p_;
  if (c == '"') {
    *kind = JsonKind::kString;
    return ParseString(text);
  }
  if (c == '-' || IsDigit(c)) {
    *kind = JsonKind::kNumber;
    return ParseNumber(text);
  }
  if (c == '{' || (c == '[' && in_array)) {
    error_ = absl::StrCat("field '", std::string(key),
                          "': ", c == '{' ? "nested objects are" : "arrays inside arrays are",
                          " not supported (column ", p_ - begin_ + 1, ")");
    return false;
  }
  const char* const at = p_;
  if (literal("true")) {
    *kind = JsonKind::kBool;
    *text = "true";
  } else if (literal("false")) {
    *kind = JsonKind::kBool;
    *text = "false";
  } else if (literal("null")) {
    *kind = JsonKind::kNull;
    *text = std::string_view();
  } else {
    return Fail("expected a value", p_);
  }
  if (in_array && *kind == JsonKind::kNull) {
    error_ =
        absl::StrCat("field '", std::string(key),
                     "': null inside an array is not supported (column ", at - begin_ + 1, ")");
    return false;
  }
  return true;
}

}  // namespace urn::table
