// Users and their keys in the metadata store: "user/<name>" (internal.UserRecord) and
// "key/<key id>" (internal.KeyRecord, holding only the secret's SHA-256).
//
// Thread safety: the changes (create, add key, set plan, revoke, delete) run one at a time, so
// concurrent calls act as if in some order: of two creations of one name exactly one succeeds,
// and a key added while its user is deleted is either refused or deleted with the user.
#ifndef URN_SERVER_AUTH_USERS_H_
#define URN_SERVER_AUTH_USERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/api_key.h"
#include "storage/metadata_store.h"

namespace urn::auth {

// Creates user `name` on `plan` with `key` as its first key, in one synced write.
// ALREADY_EXISTS when the user exists; INVALID_ARGUMENT (naming the field) for a bad name or
// plan. Call Authenticator::Invalidate() afterwards.
absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key);

// Adds `key` to an existing user (NOT_FOUND otherwise). Synced.
absl::Status AddKey(storage::MetadataStore& store, const std::string& user, const ApiKey& key);

// Sets a user's plan. NOT_FOUND for an unknown user. Synced.
absl::Status SetUserPlan(storage::MetadataStore& store, const std::string& name,
                         const std::string& plan);

// Marks a key revoked. NOT_FOUND for an unknown key id. Synced.
absl::Status RevokeKey(storage::MetadataStore& store, const std::string& key_id);

// Deletes a user and all their keys in one synced write; returns the number of keys.
// NOT_FOUND for an unknown user; FAILED_PRECONDITION for an admin.
absl::StatusOr<int> DeleteUser(storage::MetadataStore& store, const std::string& name);

struct KeyListing {
  std::string key_id;
  std::string user;
  int64_t created_unix = 0;
  bool revoked = false;
};
// Every key (of `user`, when not empty), by key id.
absl::StatusOr<std::vector<KeyListing>> ListKeys(storage::MetadataStore& store,
                                                 const std::string& user);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_USERS_H_
