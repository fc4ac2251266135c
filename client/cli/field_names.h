// urnd's errors name the request field they are about ("name: ...", "header.name: ..."); the
// command line names what the user typed instead: the flag (--dataset) or the positional
// argument as `urn ... --help` lists it (name).
#ifndef URN_CLIENT_CLI_FIELD_NAMES_H_
#define URN_CLIENT_CLI_FIELD_NAMES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace urn::cli {

// `status` with a message that starts "<wire_field>: " restarted as "<typed>: ", with the same
// code and payloads (quota and retry details); any other status as it is.
absl::Status RenameField(const absl::Status& status, absl::string_view wire_field,
                         absl::string_view typed);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_FIELD_NAMES_H_
