// Subprocess: runs a real binary for end-to-end tests, with stdout and stderr captured to
// files, bounded waits, and a kill on destruction so a failed test never leaves a process.
#ifndef URN_TESTS_SUPPORT_SUBPROCESS_H_
#define URN_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace urn::testing {

class Subprocess {
 public:
  // Starts `argv[0]` with `argv`; output goes to files in `output_dir`. `stdin_path`, when not
  // empty, is opened as standard input (otherwise /dev/null).
  Subprocess(std::vector<std::string> argv, const std::string& output_dir,
             const std::string& stdin_path = "");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;

  // The exit code, or 128 + signal, once the process ends within `timeout`; nullopt if it is
  // still running then.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
  std::string stdout_path_;
  std::string stderr_path_;
};

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed; -1 on timeout
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after `timeout`).
RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_path = "",
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace urn::testing

#endif  // URN_TESTS_SUPPORT_SUBPROCESS_H_
