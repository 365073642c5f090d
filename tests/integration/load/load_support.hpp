// Helpers for the load tests: run `sluice load`, read numbers out of its JSON.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/harness.hpp"

namespace sluice::test {

inline CommandResult sluice(std::vector<std::string> args,
                            std::chrono::milliseconds timeout = 30s) {
  args.insert(args.begin(), SLUICE_BINARY);
  return run_command(args, timeout);
}

inline std::string url_of(const Nginx& n, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(n.port()) + path;
}

// The bins of the histogram object under `key` as (lowest value, count).
inline std::map<uint64_t, uint64_t> json_bins(const std::string& json, const std::string& key) {
  std::map<uint64_t, uint64_t> bins;
  size_t p = json.find("\"" + key + "\":");
  if (p == std::string::npos) return bins;
  p = json.find("\"bins\":[", p);
  size_t end = json.find("]]", p);
  std::string body = json.substr(p, end - p + 2);
  std::regex pair(R"(\[(\d+),(\d+)\])");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), pair); it != std::sregex_iterator();
       ++it)
    bins[std::stoull((*it)[1])] += std::stoull((*it)[2]);
  return bins;
}

// Per-second request counts from the "series" array.
inline std::vector<double> json_series(const std::string& json, const std::string& field) {
  std::vector<double> out;
  size_t p = json.find("\"series\":[");
  size_t end = json.find("\"thresholds\":[", p);
  std::regex re("\\{\"t\":\\d+,[^{}]*?\"" + field + "\":([0-9.e+-]+)");
  std::string body = json.substr(p, end - p);
  for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator();
       ++it)
    out.push_back(std::stod((*it)[1]));
  return out;
}

// `sluice backend` on a free loopback port (see docs/BACKEND.md); stopped on destruction.
class RefBackend {
 public:
  explicit RefBackend(std::vector<std::string> args) {
    // A port can be taken between the check and the bind: then try another.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::vector<std::string> argv = {SLUICE_BINARY, "backend", "--listen",
                                       "127.0.0.1:" + std::to_string(port_)};
      argv.insert(argv.end(), args.begin(), args.end());
      proc_ = Process::spawn(argv, "", (dir_ / "stderr.log").string());
      bool up = false;
      for (int tries = 0; tries < 50 && !up && proc_.running(); ++tries)
        up = wait_for_port(port_, 100ms);
      if (up && proc_.running()) return;
      proc_.stop(9, 2s);
    }
    throw std::runtime_error("backend did not start: " + read_file(dir_ / "stderr.log"));
  }
  std::string url(const std::string& path = "/api/items/1") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  Process proc_;
};

// Whether the result text holds `fragment`, e.g. "\"trustworthy\":false".
inline bool json_has(const std::string& json, const std::string& fragment) {
  return json.find(fragment) != std::string::npos;
}

inline std::map<std::string, int> count_paths(const std::vector<std::string>& log) {
  std::map<std::string, int> n;
  for (auto& line : log) {
    std::istringstream in(line);
    std::string conn, method, uri;
    in >> conn >> method >> uri;
    n[uri]++;
  }
  return n;
}

}  // namespace sluice::test
