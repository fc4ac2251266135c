#include "storage/rocks_status.h"

#include <rocksdb/status.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace urn::storage {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what, RocksCall call) {
  if (s.ok()) return absl::OkStatus();
  const std::string text = s.ToString();
  const std::string msg = absl::StrCat(what, ": ", text);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  // RocksDB reports a held LOCK file as "While lock file: <dir>/LOCK: ..." (another process) or
  // "lock hold by current process ... <dir>/LOCK: ..." (this one). Only Open takes the lock.
  if (call == RocksCall::kOpen && s.IsIOError() &&
      (text.find("While lock file") != std::string::npos ||
       text.find("lock hold by current process") != std::string::npos)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": in use by another process (", text, ")"));
  }
  if (s.IsIOError()) return absl::UnavailableError(msg);
  // Past Open, an argument RocksDB refuses is urnd's own (its keys and options), never a
  // caller's: Internal, whose message urnd's service layer keeps free of the data directory.
  if (call == RocksCall::kOpen && s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

}  // namespace urn::storage
