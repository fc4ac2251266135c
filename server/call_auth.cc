#include "call_auth.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "status_details.h"

namespace urn::server {
namespace {

// The principal of `context`'s call, from its `authorization` metadata.
absl::StatusOr<auth::Principal> Authorize(const auth::Authenticator& authenticator,
                                          const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  const std::string_view value = it == metadata.end()
                                     ? std::string_view()
                                     : std::string_view(it->second.data(), it->second.size());
  return authenticator.Authenticate(value);
}

absl::Mutex hidden_mu(absl::kConstInit);
std::vector<std::string>* const hidden_paths ABSL_PT_GUARDED_BY(hidden_mu) =
    new std::vector<std::string>();

}  // namespace

absl::StatusOr<auth::Principal> CallGate::Enter(const grpc::ServerContextBase& context,
                                                std::string_view feature) const {
  absl::StatusOr<auth::Principal> who = Authorize(*authenticator_, context);
  if (!who.ok()) {
    // The authenticator's messages never contain a secret.
    spdlog::warn("audit: unauthenticated call from {}: {}", context.peer(),
                 std::string(who.status().message()));
    return who;
  }
  if (absl::Status s = admission_->Admit(*who, feature); !s.ok()) return s;
  return who;
}

absl::Status CallGate::StillValid(auth::Principal& who, std::string_view call,
                                  std::string_view feature, std::string_view consequence) const {
  if (!authenticator_->StillValid(who)) {
    return absl::UnauthenticatedError(absl::StrCat("the key of this ", std::string(call),
                                                   " was revoked or its user deleted",
                                                   std::string(consequence)));
  }
  if (absl::Status s = admission_->CheckFeature(who, feature); !s.ok()) {
    absl::Status ended(s.code(), absl::StrCat(s.message(), std::string(consequence)));
    s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
      ended.SetPayload(url, payload);  // the details (ErrorInfo) a fresh call would get
    });
    return ended;
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

std::string StatusMessageForWire(std::string message) {
  if (message.size() <= kMaxStatusMessageBytes) return message;
  // Cut on a UTF-8 character boundary (never before a continuation byte).
  size_t keep = kMaxStatusMessageBytes - 64;
  while (keep > 0 && (static_cast<unsigned char>(message[keep]) & 0xC0) == 0x80) --keep;
  const size_t size = message.size();
  message.resize(keep);
  return absl::StrCat(message, "... (message cut: ", size, " bytes)");
}

void HideOnWire(const std::string& path) {
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  // The root, or a path of one component ("/data"), could be part of ordinary text.
  if (ec || std::count(absolute.begin(), absolute.end(), '/') < 2) return;
  absl::MutexLock lock(&hidden_mu);
  if (absl::c_linear_search(*hidden_paths, absolute)) return;
  hidden_paths->push_back(absolute);
  // Longest first, so that a path is not half replaced by a shorter one it starts with.
  absl::c_sort(*hidden_paths,
               [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

namespace {

// Whether `c` may continue a file name (so "/d/data" in "/d/database" is not a match).
bool NameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

// Replaces each whole occurrence of `path` in `text` (not preceded or followed by a character
// that would make it part of a longer name) with "<data dir>"; says whether there was one.
bool HidePath(const std::string& path, std::string& text) {
  bool hid = false;
  for (size_t at = text.find(path); at != std::string::npos; at = text.find(path, at)) {
    const size_t end = at + path.size();
    if ((at > 0 && (NameChar(text[at - 1]) || text[at - 1] == '/')) ||
        (end < text.size() && NameChar(text[end]))) {
      at = end;
      continue;
    }
    text.replace(at, path.size(), "<data dir>");
    at += std::string_view("<data dir>").size();
    hid = true;
  }
  return hid;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message = std::string(status.message());
  // Only the errors of urnd's own storage name its files; messages that repeat what a caller
  // sent (NOT_FOUND, INVALID_ARGUMENT, ...) are left as they are, or a caller could guess the
  // path from whether it comes back hidden.
  const absl::StatusCode c = status.code();
  if (c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kInternal ||
      c == absl::StatusCode::kDataLoss || c == absl::StatusCode::kUnknown) {
    absl::MutexLock lock(&hidden_mu);
    bool hid = false;
    for (const std::string& path : *hidden_paths) hid |= HidePath(path, message);
    if (hid) {
      // Cut and escaped: the message may hold a caller's text (a name with line breaks).
      spdlog::warn("sent without the data directory's path: {}",
                   absl::CHexEscape(StatusMessageForWire(status.ToString())));
    }
  }
  message = StatusMessageForWire(std::move(message));
  if (std::optional<std::string> details = StatusDetails(status)) {
    return grpc::Status(code, std::move(message), *details);
  }
  return grpc::Status(code, std::move(message));
}

}  // namespace urn::server
