// Users and their keys in the metadata store: "user/<name>" (internal.UserRecord) and
// "key/<key id>" (internal.KeyRecord, holding only the secret's SHA-256).
#ifndef URN_SERVER_AUTH_USERS_H_
#define URN_SERVER_AUTH_USERS_H_

#include <string>

#include "absl/status/status.h"
#include "auth/api_key.h"
#include "storage/metadata_store.h"

namespace urn::auth {

// Creates user `name` on `plan` with `key` as its first key, in one synced write.
// ALREADY_EXISTS when the user exists; INVALID_ARGUMENT (naming the field) for a bad name or
// plan. Call Authenticator::Invalidate() afterwards.
absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_USERS_H_
