// `urn stats --dataset NAME --by COLUMN [--query Q]`: the class counts of a column as a
// horizontal bar chart; with a query, the counts before and after the sampler side by side (as
// in Deep Lake's rebalancing figure). Counts come from streaming the column's values (every row,
// then the query's rows), so they are exact and charged as rows like any sample. In a list
// column (multi-label, e.g. findings "Hernia|Edema") each label of a row counts once.
#ifndef URN_CLIENT_CLI_STATS_H_
#define URN_CLIENT_CLI_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "urn/client.h"

namespace urn::cli {

struct ClassCount {
  std::string value;
  int64_t before = 0;
  int64_t after = 0;
};

// The chart: one line per class, largest `before` first, at most `max_classes` (then a line
// counting the rest), bars scaled to `width` characters.
std::string RenderStats(const std::string& column, const std::vector<ClassCount>& counts,
                        bool with_after, int width = 40, size_t max_classes = 30);

absl::Status RunStats(const Client& client, const std::string& dataset, const std::string& by,
                      const std::string& query, std::string* chart);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_STATS_H_
