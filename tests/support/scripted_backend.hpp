// A backend whose every answer the test decides: records what it received (raw head, body
// size, connection), then replies, delays, closes, never answers, or echoes after a 101.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string head;  // raw bytes of the head as received
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t body_bytes = 0;
  std::string body;  // the first 1 MB of it
  int connection = 0;
  std::string header(const std::string& name) const;
  int count(const std::string& name) const;
};

struct BackendReply {
  std::string raw;  // full response bytes; empty = "200 OK" with body "ok"
  std::chrono::milliseconds delay{0};
  bool close_after = false;
  bool no_reply = false;        // keep the connection open and never answer
  bool close_no_reply = false;  // close without answering
  bool upgrade_echo = false;    // answer 101 and echo every byte after it
};

class ScriptedBackend {
 public:
  using Script = std::function<BackendReply(const ReceivedRequest&)>;
  explicit ScriptedBackend(Script script = {});
  ~ScriptedBackend();
  uint16_t port() const { return port_; }
  std::vector<ReceivedRequest> requests();
  int connections() const { return connections_.load(); }  // accepted so far
  int max_open_connections() const { return max_open_.load(); }
  // Stops accepting and closes every connection (a crashed backend).
  void kill();

 private:
  void accept_loop();
  void serve(int fd, int id);

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> open_{0};
  std::atomic<int> max_open_{0};
  std::mutex mu_;
  std::vector<ReceivedRequest> received_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace sluice::test
