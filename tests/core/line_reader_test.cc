#include "table/line_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "support/temp_dir.h"

namespace urn::table {
namespace {

std::vector<std::string> ReadAll(LineReader& r, std::vector<std::string>* where = nullptr) {
  std::vector<std::string> lines;
  std::string_view line;
  while (r.Next(&line)) {
    lines.emplace_back(line);
    if (where) where->push_back(r.file() + ":" + std::to_string(r.line_number()));
  }
  return lines;
}

TEST(LineReader, SplitsLinesAcrossFilesWithPositions) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("a"), "h\n1\r\n2\n");
  testing::WriteFileOrDie(dir.Join("b"), "h\n3");  // no final newline
  LineReader r({dir.Join("a"), dir.Join("b")});
  std::vector<std::string> where;
  EXPECT_EQ(ReadAll(r, &where), (std::vector<std::string>{"h", "1", "2", "h", "3"}));
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(where[2], dir.Join("a") + ":3");
  EXPECT_EQ(where[4], dir.Join("b") + ":2");
}

// A first line shorter than a byte order mark, from a pipe whose writer has not written more
// yet, is read at once (--line-buffered), while a mark split across writes is still dropped.
TEST(LineReader, AShortFirstLineOfAPipeIsNotHeldBackByTheByteOrderMarkCheck) {
  testing::TempDir dir;
  for (const bool marked : {false, true}) {
    SCOPED_TRACE(marked);
    const std::string fifo = dir.Join(marked ? "marked" : "plain");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    absl::Notification got_first;
    bool in_time = false;
    std::thread writer([&] {
      const int fd = ::open(fifo.c_str(), O_WRONLY);
      ASSERT_GE(fd, 0);
      // Marked: the mark's first byte only, so the reader must wait for the rest of it.
      const std::string first = marked ? "\xEF" : "1\n";
      ASSERT_EQ(::write(fd, first.data(), first.size()), static_cast<ssize_t>(first.size()));
      if (!marked) in_time = got_first.WaitForNotificationWithTimeout(absl::Seconds(10));
      const std::string rest = marked ? "\xBB\xBFx\n" : "2\n";
      ASSERT_EQ(::write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
      ::close(fd);
    });
    LineReader r({fifo});
    std::string_view line;
    ASSERT_TRUE(r.Next(&line));
    EXPECT_EQ(line, marked ? "x" : "1");
    got_first.Notify();
    writer.join();
    if (!marked) {
      EXPECT_TRUE(in_time) << "the first line waited for the writer's next one";
    }
    EXPECT_EQ(r.Next(&line), !marked);
  }
}

TEST(LineReader, EmptyLinesAndEmptyFiles) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("e"), "");
  testing::WriteFileOrDie(dir.Join("f"), "\n\nx\n");
  LineReader r({dir.Join("e"), dir.Join("f")});
  EXPECT_EQ(ReadAll(r), (std::vector<std::string>{"", "", "x"}));
}

TEST(LineReader, LinesLongerThanTheBuffer) {
  testing::TempDir dir;
  const std::string big(3 << 20, 'z');
  testing::WriteFileOrDie(dir.Join("big"), "a\n" + big + "\nb\n");
  LineReader r({dir.Join("big")});
  const std::vector<std::string> lines = ReadAll(r);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], big);
  EXPECT_EQ(lines[2], "b");
}

TEST(LineReader, MissingFileNamesTheFileAfterEarlierLines) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("a"), "1\n");
  LineReader r({dir.Join("a"), dir.Join("missing.tsv")});
  EXPECT_EQ(ReadAll(r), (std::vector<std::string>{"1"}));
  EXPECT_TRUE(absl::IsNotFound(r.status()));
  EXPECT_NE(r.status().message().find("missing.tsv: No such file"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace urn::table

namespace urn::table {
namespace {

TEST(LineReader, SkipLinesCountsAcrossBlocksAndStopsAtFileEnd) {
  testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "line " + std::to_string(i) + "\n";
  testing::WriteFileOrDie(dir.Join("a"), text);
  testing::WriteFileOrDie(dir.Join("b"), "x\ny");
  LineReader r({dir.Join("a"), dir.Join("b")});
  std::string_view line;
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(r.SkipLines(5000), 5000u);
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "line 5001");
  EXPECT_EQ(r.line_number(), 5002);
  EXPECT_EQ(r.SkipLines(1000000), 100000u - 5002);
  EXPECT_EQ(r.SkipLines(3), 0u);  // at the end of "a"
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "x");
  EXPECT_EQ(r.file(), dir.Join("b"));
  EXPECT_EQ(r.SkipLines(5), 1u);  // "y" has no newline but is a line
  EXPECT_FALSE(r.Next(&line));
  EXPECT_TRUE(r.status().ok());
}

}  // namespace
}  // namespace urn::table
