#include "listing.h"

namespace urn::server {

absl::StatusOr<ListPage> ParseListPage(const auth::Principal& who, int32_t page_size,
                                       const std::string& page_token) {
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be between 0 and 1000");
  }
  ListPage page;
  page.size = page_size == 0 ? 100 : static_cast<size_t>(page_size);
  page.owner = who.admin ? "" : who.user;
  page.after_owner = page.owner;
  if (!page_token.empty()) {
    const size_t slash = page_token.find('/');
    if (slash == std::string::npos ||
        (!page.owner.empty() && page_token.substr(0, slash) != page.owner)) {
      return absl::InvalidArgumentError("page_token: not from this listing");
    }
    page.after_owner = page_token.substr(0, slash);
    page.after_name = page_token.substr(slash + 1);
  }
  return page;
}

}  // namespace urn::server
