#include "upstream/upstream_config.hpp"

#include <algorithm>
#include <cstdint>

namespace sluice::upstream {

UpstreamConfig parse_upstream(const std::string& name, const toml::table& table,
                              config::Diagnostics& diag) {
  UpstreamConfig u;
  u.name = name;
  config::TableReader r(table, diag, "upstream." + name);
  if (const toml::node* eps = r.node("endpoints")) {
    const toml::array* list = eps->as_array();
    if (!list || list->empty()) {
      r.error("endpoints", "expected a non-empty array of \"HOST:PORT\" strings");
    } else {
      for (const auto& e : *list) {
        auto text = e.value<std::string>();
        std::string err;
        if (!text)
          diag.error(e, "upstream." + name + ".endpoints: expected \"HOST:PORT\"");
        else if (auto hp = parse_host_port(*text, err))
          u.endpoints.push_back(*hp);
        else
          diag.error(e, "upstream." + name + ".endpoints: " + err);
      }
    }
  } else {
    r.error("endpoints", "is required");
  }
  if (auto b = r.choice("balance", {"round_robin", "least_conn", "p2c"})) {
    u.balance = *b == "round_robin" ? Balance::round_robin
                : *b == "p2c"       ? Balance::p2c
                                    : Balance::least_conn;
  }
  if (auto v = r.integer("max_connections", 1, 1'000'000)) u.max_connections = *v;
  if (auto v = r.duration("idle_timeout")) u.idle_timeout = *v;
  if (auto v = r.duration("connect_timeout")) u.connect_timeout = *v;
  if (auto v = r.duration("down_backoff")) u.down_backoff = *v;
  if (auto v = r.duration("max_down_backoff")) u.max_down_backoff = *v;
  const bool concurrency_set = table.contains("concurrency");
  u.traffic = limits::read_upstream_limits(r);
  if (!concurrency_set) {
    uint64_t all = uint64_t(std::max<size_t>(1, u.endpoints.size())) * u.max_connections;
    u.traffic.gate.static_limit = static_cast<uint32_t>(std::min<uint64_t>(all, UINT32_MAX));
  }
  r.finish();
  return u;
}

}  // namespace sluice::upstream
