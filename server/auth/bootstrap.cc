#include "auth/bootstrap.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auth/api_key.h"
#include "auth/users.h"

namespace urn::auth {
namespace {

absl::Status WriteSecretFile(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  const bool ok =
      ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(path, ": ", std::strerror(ok ? errno : err)));
  }
  // The rename is durable only once the directory is synced: without that a host crash could
  // lose the file while the admin user it holds the key of (synced) remains.
  const std::string parent = std::filesystem::path(path).parent_path().string();
  const int dir = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir >= 0 && ::fsync(dir) == 0;
  const int sync_err = errno;
  if (dir >= 0) ::close(dir);
  if (!synced) return absl::UnavailableError(absl::StrCat(parent, ": ", std::strerror(sync_err)));
  return absl::OkStatus();
}

absl::StatusOr<ApiKey> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--admin-key-file: cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<ApiKey> key = ParseApiKey(std::string(absl::StripAsciiWhitespace(buf.str())));
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin-key-file: ", path, ": ", key.status().message()));
  }
  return key;
}

}  // namespace

absl::Status EnsureAdmin(storage::MetadataStore& store, const std::string& data_dir,
                         const std::string& admin_key_file) {
  bool has_users = false;
  absl::Status scan = store.Scan("user/", [&](std::string_view, std::string_view) {
    has_users = true;
    return false;
  });
  if (!scan.ok()) return scan;
  if (has_users) return absl::OkStatus();

  absl::StatusOr<ApiKey> key =
      admin_key_file.empty() ? GenerateApiKey() : ReadKeyFile(admin_key_file);
  if (!key.ok()) return key.status();

  const std::string key_path = (std::filesystem::path(data_dir) / "admin.key").string();
  if (admin_key_file.empty()) {
    if (absl::Status s = WriteSecretFile(key_path, key->ToString() + "\n"); !s.ok()) return s;
  }

  if (absl::Status s = CreateUser(store, kAdminUser, "enterprise", /*admin=*/true, *key); !s.ok()) {
    return s;
  }
  if (admin_key_file.empty()) {
    spdlog::info("created admin user '{}'; its key is in {}", kAdminUser, key_path);
  } else {
    spdlog::info("created admin user '{}' with the key from {}", kAdminUser, admin_key_file);
  }
  return absl::OkStatus();
}

}  // namespace urn::auth
