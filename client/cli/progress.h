// ProgressBar: one self-rewriting line on standard error while something long runs, such as
// `urn datasets create`: a bar, percent, bytes, rows, rate and ETA. It draws only when standard
// error is a terminal (never into a pipe or a log file), at most ten times a second, and clears
// its line when done.
#ifndef URN_CLIENT_CLI_PROGRESS_H_
#define URN_CLIENT_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace urn::cli {

class ProgressBar {
 public:
  // Enabled when fd 2 is a terminal. `label` starts the line.
  explicit ProgressBar(std::string label);
  ~ProgressBar() { Done(); }

  // `total` < 0 when unknown: then no bar, percent or ETA.
  void Update(int64_t bytes, int64_t total, int64_t rows);
  // Clears the line.
  void Done();

  // The line for these figures after `seconds` (for tests; no terminal needed).
  static std::string Render(const std::string& label, int64_t bytes, int64_t total, int64_t rows,
                            double seconds);

 private:
  const std::string label_;
  const bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_PROGRESS_H_
