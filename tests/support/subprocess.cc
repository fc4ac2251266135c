#include "support/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "support/temp_dir.h"

namespace urn::testing {
namespace {

std::atomic<int> g_counter{0};

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, const std::string& output_dir,
                       const std::string& stdin_path) {
  const int n = g_counter.fetch_add(1);
  stdout_path_ = output_dir + "/proc" + std::to_string(n) + ".out";
  stderr_path_ = output_dir + "/proc" + std::to_string(n) + ".err";
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
    int out = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Subprocess::Signal(int sig) const {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  if (exit_) return exit_;
  const auto started = std::chrono::steady_clock::now();
  const auto end = started + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return std::nullopt;
    // Short commands end within milliseconds: poll finely at first, then back off.
    std::this_thread::sleep_for(
        std::chrono::microseconds(now - started < std::chrono::milliseconds(200) ? 200 : 5000));
  }
}

std::string Subprocess::Stdout() const { return ReadFileOrEmpty(stdout_path_); }
std::string Subprocess::Stderr() const { return ReadFileOrEmpty(stderr_path_); }

RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_path,
              std::chrono::milliseconds timeout) {
  TempDir dir;
  Subprocess p(argv, dir.path(), stdin_path);
  RunResult r;
  std::optional<int> code = p.Wait(timeout);
  r.exit_code = code ? *code : -1;
  if (!code) p.Signal(SIGKILL), p.Wait(std::chrono::seconds(5));
  r.out = p.Stdout();
  r.err = p.Stderr();
  return r;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace urn::testing
