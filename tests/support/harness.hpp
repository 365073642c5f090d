// Test harness: real processes on loopback, in temporary directories, always cleaned up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace sluice::test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path);
void write_file(const fs::path& path, const std::string& text);

// The number after the first "key": at or after `from` (an earlier key that scopes the search);
// -1 when absent.
double json_number(const std::string& json, const std::string& key, const std::string& from = "");

// A loopback TCP port that was free a moment ago.
uint16_t free_port();
// Polls until something accepts on 127.0.0.1:port.
bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout = 5s);

// A child process; killed (SIGKILL) on destruction if still running.
using Process = ChildProcess;

// Runs a command to completion; returns its exit status and captured stdout (+stderr if asked).
struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = 60s);

// nginx from Debian as a backend, one worker, with an access log that records $connection.
struct NginxOptions {
  std::vector<uint16_t> ports;  // one server block per port; empty = one free port
  std::string locations;        // extra nginx `location` blocks inside each server
  std::string http_extra;       // extra directives in the http block
  int keepalive_requests = 100000;
};
class Nginx {
 public:
  explicit Nginx(NginxOptions opts = {});
  ~Nginx();
  uint16_t port(size_t i = 0) const { return opts_.ports.at(i); }
  const fs::path& dir() const { return dir_.path(); }
  // Lines of the access log: "$connection $request_method $request_uri $status $request_length".
  std::vector<std::string> access_log();
  void stop();
  static bool available();

 private:
  NginxOptions opts_;
  TempDir dir_;
  Process proc_;
};

// `sluice serve` with a TOML config written into its own temporary directory.
class Sluice {
 public:
  // `config` is the whole TOML text; `admin_port` must be what it names (see admin()).
  Sluice(const std::string& config, uint16_t wait_port);
  ~Sluice();
  const fs::path& dir() const { return dir_.path(); }
  Process& process() { return proc_; }
  std::string stderr_text() { return read_file(dir_ / "stderr.log"); }
  std::optional<int> stop(std::chrono::milliseconds timeout = 15s) {
    return proc_.stop(15, timeout);
  }

 private:
  TempDir dir_;
  Process proc_;
};

// A parsed HTTP response as a client saw it.
struct Response {
  int status = 0;
  int version_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;
  std::string header(const std::string& name) const;  // first, case-insensitive; "" if absent
  bool has_header(const std::string& name) const;
};

// A blocking loopback client that sends exact bytes, for protocol-level tests.
class RawClient {
 public:
  explicit RawClient(uint16_t port, std::chrono::milliseconds timeout = 10s);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads one response (HEAD-style when head_only). nullopt on timeout, close or garbage.
  std::optional<Response> read_response(bool head_only = false);
  // Reads until the peer closes (or timeout); returns everything not yet consumed.
  std::string read_until_close();
  // True when the peer has closed (EOF within `wait`).
  bool peer_closed(std::chrono::milliseconds wait = 2s);
  void shutdown_write();
  // Bytes already received but not consumed by read_response (e.g. after a 101).
  std::string take_buffered() {
    std::string out;
    out.swap(buf_);
    return out;
  }
  int fd() const { return fd_; }

 private:
  bool fill();
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

// One request on a new connection: "GET /path" style convenience.
std::optional<Response> http_request(uint16_t port, const std::string& method,
                                     const std::string& path, const std::string& body = "",
                                     const std::vector<std::string>& extra_headers = {});

// Resident set size of a process in KiB (from /proc), 0 if unknown.
long rss_kib(pid_t pid);

}  // namespace sluice::test
