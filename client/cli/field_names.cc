#include "field_names.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace urn::cli {

absl::Status RenameField(const absl::Status& status, absl::string_view wire_field,
                         absl::string_view typed) {
  absl::string_view reason = status.message();
  if (!absl::ConsumePrefix(&reason, wire_field) || !absl::ConsumePrefix(&reason, ": ")) {
    return status;
  }
  absl::Status renamed(status.code(), absl::StrCat(typed, ": ", reason));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { renamed.SetPayload(url, payload); });
  return renamed;
}

}  // namespace urn::cli
