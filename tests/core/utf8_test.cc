#include "table/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "table/read_options.h"
#include "table/table_builder.h"

namespace urn::table {
namespace {

TEST(Utf8Prefix, AcceptsWellFormedTextOfEveryLength) {
  for (const std::string& s :
       {std::string(""), std::string("plain ascii, longer than eight bytes"),
        std::string("caf\xc3\xa9"), std::string("\xe2\x82\xac euro"),
        std::string("\xf0\x9f\x98\x80 emoji"), std::string("\xef\xbf\xbf"),
        std::string("\xf4\x8f\xbf\xbf"), std::string("\xed\x9f\xbf"), std::string(1, '\0')}) {
    EXPECT_EQ(Utf8Prefix(s), s.size()) << s;
  }
}

// Each bad string is "ok" followed by the bad bytes: the prefix ends at byte 2.
TEST(Utf8Prefix, StopsAtTheFirstMalformedCharacter) {
  for (const std::string& bad : {
           std::string("\xff"),              // never in UTF-8
           std::string("\x80"),              // a continuation byte alone
           std::string("\xc0\xaf"),          // overlong '/'
           std::string("\xc1\xbf"),          // overlong
           std::string("\xe0\x80\xaf"),      // overlong (3 bytes)
           std::string("\xed\xa0\x80"),      // surrogate U+D800
           std::string("\xf0\x80\x80\xaf"),  // overlong (4 bytes)
           std::string("\xf4\x90\x80\x80"),  // U+110000
           std::string("\xf5\x80\x80\x80"),  // past U+10FFFF
           std::string("\xc3"),              // cut short
           std::string("\xe2\x82"),          // cut short
           std::string("\xe2\x28\xa1"),      // second byte not a continuation
           std::string("\xf0\x9f\x98\x28"),  // fourth byte not a continuation
       }) {
    EXPECT_EQ(Utf8Prefix("ok" + bad + "tail text"), 2u) << absl::CHexEscape(bad);
  }
  EXPECT_EQ(Utf8Prefix("eight ok\xff"), 8u);  // after a whole 8-byte ASCII word
}

absl::StatusOr<Table> Build(std::string_view text, Format format, bool require_utf8) {
  ReadOptions o;
  o.format = format;
  o.require_utf8 = require_utf8;
  TableBuilder b(o);
  if (absl::Status s = b.Append(text); !s.ok()) return s;
  return b.Finish();
}

// urnd's uploads (require_utf8) refuse bytes a protobuf string cannot carry and column names
// with control characters, naming the line; the command line passes any bytes through.
TEST(Utf8Prefix, UploadsRequireUtf8TextAndNamesWithoutControlCharacters) {
  const std::string bad_name = "\xff\xfe\tb\n1\t2\n";
  const std::string bad_cell = "a\tb\n1\tok\n2\tx\xff\n";
  EXPECT_TRUE(Build(bad_cell, Format::kTsv, false).ok());
  absl::StatusOr<Table> t = Build(bad_name, Format::kTsv, true);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "line 1: byte 1 of the line is not valid UTF-8 (0xff); urnd keeps text as UTF-8");
  t = Build(bad_cell, Format::kTsv, true);
  EXPECT_EQ(t.status().message(),
            "line 3: byte 4 of the line is not valid UTF-8 (0xff); urnd keeps text as UTF-8");
  t = Build("a,\"b\x1b[31m\"\n1,2\n", Format::kCsv, true);
  EXPECT_EQ(t.status().message(), "line 1: column name 'b\\x1b[31m' holds a control character");
  t = Build("{\"a\\nb\": 1}\n", Format::kJsonl, true);
  EXPECT_EQ(t.status().message(), "line 1: column name 'a\\nb' holds a control character");
  t = Build("{\"caf\xc3\xa9\": \"\xe2\x82\xac\"}\n", Format::kJsonl, true);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows(), 1);
}

}  // namespace
}  // namespace urn::table
