// Users and their keys in the metadata store: "user/<name>" (internal.UserRecord) and
// "key/<key id>" (internal.KeyRecord, holding only the secret's SHA-256); "udel/<name>" marks a
// deleted user whose datasets and weight stores may not all be removed yet.
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
// ALREADY_EXISTS when the user exists; FAILED_PRECONDITION while the deletion of an earlier user
// of that name is unfinished; INVALID_ARGUMENT (naming the field) for a bad name or plan. Call
// Authenticator::Invalidate() afterwards.
absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key);

// Adds `key` to an existing user (NOT_FOUND otherwise). Synced.
absl::Status AddKey(storage::MetadataStore& store, const std::string& user, const ApiKey& key);

// Sets a user's plan. NOT_FOUND for an unknown user. Synced.
absl::Status SetUserPlan(storage::MetadataStore& store, const std::string& name,
                         const std::string& plan);

// Marks a key revoked. NOT_FOUND for an unknown key id. Synced.
absl::Status RevokeKey(storage::MetadataStore& store, const std::string& key_id);

// Deletes a user and all their keys in one synced write, with a tombstone "udel/<name>" that
// stays until EndUserDeletion: what the user owned (datasets, weight stores, usage) is removed
// after this, and a crash in between must not hand it to a new user of that name. Returns the
// number of keys. NOT_FOUND for an unknown user, unless its deletion is unfinished (then 0
// keys, so that a repeated DeleteUser finishes it); FAILED_PRECONDITION for an admin.
absl::StatusOr<int> DeleteUser(storage::MetadataStore& store, const std::string& name);
// Removes the tombstone, once everything the user owned is gone. Synced.
absl::Status EndUserDeletion(storage::MetadataStore& store, const std::string& name);
// The users whose deletion is unfinished (their tombstones), for urnd to finish at start.
absl::StatusOr<std::vector<std::string>> UnfinishedUserDeletions(storage::MetadataStore& store);

struct KeyListing {
  std::string key_id;
  std::string user;
  int64_t created_unix = 0;
  bool revoked = false;
};
// Every key (of `user`, when not empty), by key id. NOT_FOUND "user: ..." when `user` names no
// user (one being deleted included).
absl::StatusOr<std::vector<KeyListing>> ListKeys(storage::MetadataStore& store,
                                                 const std::string& user);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_USERS_H_
