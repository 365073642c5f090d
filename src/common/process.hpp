// Child processes: spawn with redirected output, signal, wait with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

class ChildProcess {
 public:
  ChildProcess() = default;
  // stdout and stderr go to the given files ("" = inherit). argv[0] is looked up in PATH.
  // Throws std::runtime_error.
  static ChildProcess spawn(const std::vector<std::string>& argv, const std::string& out_file = "",
                            const std::string& err_file = "");
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ~ChildProcess();  // kills a child still running

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit status (128 + signal when killed), or nullopt if it is still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Sends `sig`, waits up to `timeout`, then kills. Returns the exit status if it exited in time.
  std::optional<int> stop(int sig = 15,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The path of the running executable, to start sibling subcommands.
std::string self_executable();

}  // namespace sluice
