// InField: an error about one field of a request says which, as "field: reason", so that a
// client (and the CLI's message) can tell what to change.
#ifndef URN_SERVER_FIELD_ERROR_H_
#define URN_SERVER_FIELD_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace urn::server {

// `s` with "field: " before its message; OK stays OK.
inline absl::Status InField(absl::string_view field, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

// InField for the errors of a lookup or deletion by name that are about the named resource
// (NOT_FOUND, DATA_LOSS for a damaged one, ABORTED while another call deletes it); others (a disk
// that failed) are passed on as they are.
inline absl::Status NamedIn(absl::string_view field, const absl::Status& s) {
  if (absl::IsNotFound(s) || absl::IsDataLoss(s) || absl::IsAborted(s)) return InField(field, s);
  return s;
}

}  // namespace urn::server

#endif  // URN_SERVER_FIELD_ERROR_H_
