#include "table/read_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "table/table_builder.h"

namespace urn::table {
namespace {

constexpr size_t kBlockBytes = size_t{4} << 20;

absl::Status ErrnoStatus(const std::string& name, int err) {
  std::string message = absl::StrCat(name, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

// Feeds the file open at `fd` to `builder` block by block.
absl::Status FeedFile(int fd, const std::string& name, std::string* block, TableBuilder* builder) {
  for (;;) {
    const ssize_t n = ::read(fd, block->data(), block->size());
    if (n == 0) return absl::OkStatus();
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(name, errno);
    }
    absl::Status s = builder->Append(std::string_view(block->data(), static_cast<size_t>(n)));
    if (!s.ok()) return s;
  }
}

}  // namespace

absl::StatusOr<Table> ReadTableFromFiles(const std::vector<std::string>& paths,
                                         const ReadOptions& options) {
  TableBuilder builder(options);
  std::string block(kBlockBytes, '\0');
  for (const std::string& path : paths) {
    const bool is_stdin = path == "-";
    const std::string name = is_stdin ? "stdin" : path;
    absl::Status s = builder.StartInput(name);
    if (!s.ok()) return s;
    const int fd = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(name, errno);
#ifdef POSIX_FADV_SEQUENTIAL
    if (!is_stdin) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    s = FeedFile(fd, name, &block, &builder);
    if (!is_stdin) ::close(fd);
    if (!s.ok()) return s;
  }
  return builder.Finish();
}

}  // namespace urn::table
