// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
#ifndef URN_TESTS_SUPPORT_TEMP_DIR_H_
#define URN_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace urn::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Reads a whole file; "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// Writes `contents` to `path`, replacing it. Fails the test on error.
void WriteFileOrDie(const std::string& path, const std::string& contents);

}  // namespace urn::testing

#endif  // URN_TESTS_SUPPORT_TEMP_DIR_H_
