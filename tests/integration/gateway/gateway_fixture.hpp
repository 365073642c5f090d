// Shared set-up for gateway tests: a sluice config around given upstream ports.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/harness.hpp"
#include "support/scripted_backend.hpp"

namespace sluice::test {

struct GatewaySetup {
  std::vector<uint16_t> endpoints;
  std::string server_extra;  // more [server] keys
  std::string upstream_extra;
  std::string route_extra;
  std::string more;  // more sections
  uint16_t port = free_port();
  uint16_t admin_port = free_port();
  int workers = 1;

  std::string toml() const {
    std::string eps;
    for (auto p : endpoints)
      eps += (eps.empty() ? "\"127.0.0.1:" : ", \"127.0.0.1:") + std::to_string(p) + "\"";
    return "[server]\nlisten = \"127.0.0.1:" + std::to_string(port) +
           "\"\nadmin = \"127.0.0.1:" + std::to_string(admin_port) +
           "\"\nworkers = " + std::to_string(workers) + "\n" + server_extra +
           "\n[upstream.app]\nendpoints = [" + eps + "]\n" + upstream_extra +
           "\n[[route]]\npath = \"/\"\nupstream = \"app\"\n" + route_extra + "\n" + more;
  }
  std::unique_ptr<Sluice> start() const { return std::make_unique<Sluice>(toml(), port); }
};

inline std::string get_request(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: test.local\r\n" + extra + "\r\n";
}

}  // namespace sluice::test
