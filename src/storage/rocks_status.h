// FromRocks: a RocksDB status as an absl::Status whose code says what the caller can do.
//   Corruption                                   -> DataLoss (damaged files; never served)
//   IOError on the lock file, when opening        -> FailedPrecondition ("in use by another
//                                                    process": another urnd holds the directory)
//   any other IOError (a full disk, say)          -> Unavailable
//   InvalidArgument, when opening                 -> InvalidArgument (the operator's options)
//   anything else                                -> Internal
// The message starts with `what` (the operation and, when opening, the path).
#ifndef URN_STORAGE_ROCKS_STATUS_H_
#define URN_STORAGE_ROCKS_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace rocksdb {
class Status;
}

namespace urn::storage {

enum class RocksCall { kOpen, kOther };

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what,
                       RocksCall call = RocksCall::kOther);

}  // namespace urn::storage

#endif  // URN_STORAGE_ROCKS_STATUS_H_
