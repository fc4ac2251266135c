// First-start bootstrap: a data directory with no users gets an admin user and its key.
#ifndef URN_SERVER_AUTH_BOOTSTRAP_H_
#define URN_SERVER_AUTH_BOOTSTRAP_H_

#include <string>

#include "absl/status/status.h"
#include "storage/metadata_store.h"

namespace urn::auth {

// The user name of the bootstrap administrator.
inline constexpr char kAdminUser[] = "admin";

// When `store` has no users: creates the admin user with a key and, unless `admin_key_file`
// supplies the key, writes it to `<data_dir>/admin.key` (mode 0600) and logs that path (never
// the key). The key file is written and synced before the user is committed, so a crash in
// between cannot leave an admin whose key was never written. Does nothing when users exist.
absl::Status EnsureAdmin(storage::MetadataStore& store, const std::string& data_dir,
                         const std::string& admin_key_file);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_BOOTSTRAP_H_
