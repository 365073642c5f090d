#include "gateway/config.hpp"

#include <thread>

#include "common/log.hpp"
#include "http/headers.hpp"
#include "limits/admission.hpp"

namespace sluice::gateway {
namespace {

std::optional<HostPort> address(const toml::node& n, config::Diagnostics& diag,
                                const std::string& key) {
  auto text = n.value<std::string>();
  if (!text) {
    diag.error(n, key + ": expected \"HOST:PORT\"");
    return std::nullopt;
  }
  std::string err;
  auto hp = parse_host_port(*text, err);
  if (!hp) diag.error(n, key + ": " + err);
  return hp;
}

void parse_server(const toml::table& t, ServerConfig& s, config::Diagnostics& diag) {
  config::TableReader r(t, diag, "server");
  if (const toml::node* l = r.node("listen")) {
    if (const toml::array* a = l->as_array()) {
      for (const auto& e : *a)
        if (auto hp = address(e, diag, "server.listen")) s.listen.push_back(*hp);
      if (a->empty()) r.error("listen", "needs at least one address");
    } else if (auto hp = address(*l, diag, "server.listen")) {
      s.listen.push_back(*hp);
    }
  }
  if (auto v = r.integer("workers", 0, 1024)) s.workers = *v;
  if (const toml::node* a = r.node("admin")) s.admin = address(*a, diag, "server.admin");
  if (auto v = r.duration("drain_timeout")) s.drain_timeout = *v;
  if (auto v = r.duration("header_timeout")) s.header_timeout = *v;
  if (auto v = r.duration("keepalive_timeout")) s.keepalive_timeout = *v;
  if (auto v = r.duration("send_timeout")) s.send_timeout = *v;
  if (auto v = r.integer("max_requests_per_connection", 0, 1ll << 32))
    s.max_requests_per_connection = *v;
  if (auto v = r.integer("max_connections", 1, 10'000'000)) s.max_connections = *v;
  if (auto v = r.size("max_header_size")) {
    if (*v < 1024 || *v > (16u << 20))
      r.error("max_header_size", "must be between 1KB and 16MB");
    else
      s.limits.max_header_bytes = static_cast<uint32_t>(*v);
  }
  if (auto v = r.integer("max_header_count", 1, 10000)) s.limits.max_header_count = *v;
  if (auto v = r.size("max_request_line")) {
    if (*v < 64 || *v > (1u << 20))
      r.error("max_request_line", "must be between 64B and 1MB");
    else
      s.limits.max_request_line = static_cast<uint32_t>(*v);
  }
  if (auto v = r.string("access_log")) s.access_log = *v;
  if (auto v = r.duration("slow_request_threshold")) s.slow_request_threshold = *v;
  if (auto v = r.choice("log_level", {"debug", "info", "warn", "error"})) s.log_level = *v;
  s.traffic = limits::read_server_limits(r);
  r.finish();
}

std::optional<llhttp_method_t> method_from_name(std::string_view name) {
#define SLUICE_METHOD(num, id, text) \
  if (name == #text) return static_cast<llhttp_method_t>(num);
  HTTP_METHOD_MAP(SLUICE_METHOD)
#undef SLUICE_METHOD
  return std::nullopt;
}

void parse_route(const toml::table& t, size_t index, GatewayConfig& cfg,
                 config::Diagnostics& diag) {
  RouteConfig route;
  config::TableReader r(t, diag, "route[" + std::to_string(index) + "]");
  if (auto p = r.string("path")) {
    if (p->empty() || p->front() != '/')
      r.error("path", "must start with \"/\"");
    else
      route.path = *p;
  }
  if (auto ms = r.strings("methods")) {
    for (const auto& m : *ms) {
      if (auto id = method_from_name(m))
        route.methods.push_back(*id);
      else
        r.error("methods", "unknown method \"" + m + "\"");
    }
  }
  if (auto h = r.string("host")) route.host = *h;
  if (auto n = r.string("name")) {
    for (const auto& other : cfg.routes)
      if (other.name == *n) r.error("name", "route name \"" + *n + "\" is already used");
    route.name = *n;
  }
  if (const toml::node* c = r.node("cache"))
    route.cache = cache::parse_route_cache(*c, diag, "route[" + std::to_string(index) + "].cache");
  if (auto u = r.string("upstream")) {
    route.upstream_name = *u;
    bool found = false;
    for (size_t i = 0; i < cfg.upstreams.size(); ++i)
      if (cfg.upstreams[i].name == *u) route.upstream = i, found = true;
    if (!found) r.error("upstream", "no [upstream." + *u + "] is defined");
  } else {
    r.error("upstream", "is required");
  }
  if (auto v = r.duration("timeout")) route.timeout = *v;
  if (auto v = r.duration("connect_timeout")) route.connect_timeout = *v;
  if (auto v = r.duration("idle_timeout")) route.idle_timeout = *v;
  if (auto v = r.duration("total_timeout")) route.total_timeout = *v;
  if (auto v = r.size("max_body_size")) route.max_body_size = *v;
  const toml::node* priority = t.get("priority");
  route.traffic = limits::read_route_limits(r);
  if (priority && route.upstream < cfg.upstreams.size()) {
    const auto& classes = cfg.upstreams[route.upstream].traffic.gate.classes;
    if (auto cls =
            limits::resolve_traffic_class(route.traffic.priority, limits::TrafficClasses(classes)))
      route.traffic_class = *cls;
    else
      diag.error(*priority, "route[" + std::to_string(index) + "].priority: upstream \"" +
                                route.upstream_name + "\" has no class \"" +
                                route.traffic.priority + "\"");
  }
  r.finish();
  if (route.name.empty()) route.name = route.host + route.path;
  cfg.routes.push_back(std::move(route));
}

}  // namespace

std::optional<GatewayConfig> parse_config(std::string_view text, config::Diagnostics& diag) {
  auto doc = config::parse_toml(text, diag);
  if (!doc) return std::nullopt;
  GatewayConfig cfg;
  config::TableReader top(*doc, diag, "");
  if (const toml::table* s = top.table("server")) parse_server(*s, cfg.server, diag);
  if (cfg.server.listen.empty() && diag.ok()) {
    std::string err;
    cfg.server.listen.push_back(*parse_host_port("127.0.0.1:8080", err));
  }
  if (const toml::table* ups = top.table("upstream")) {
    for (const auto& [name, node] : *ups) {
      if (const toml::table* u = node.as_table())
        cfg.upstreams.push_back(upstream::parse_upstream(std::string(name.str()), *u, diag));
      else
        diag.error(node, "upstream." + std::string(name.str()) + ": expected a table");
    }
  }
  if (const toml::array* routes = top.array("route")) {
    size_t i = 0;
    for (const auto& node : *routes) {
      if (const toml::table* t = node.as_table())
        parse_route(*t, i, cfg, diag);
      else
        diag.error(node, "route: expected [[route]] tables");
      ++i;
    }
  }
  if (const toml::table* c = top.table("cache")) {
    if (auto g = cache::parse_global_cache(*c, diag)) cfg.cache = std::move(*g);
  }
  top.finish();
  if (cfg.routes.empty() && diag.ok()) diag.error(*doc, "no [[route]] is defined");
  if (!diag.ok()) return std::nullopt;
  if (cfg.server.workers == 0)
    cfg.server.workers = std::max(1u, std::thread::hardware_concurrency());
  return cfg;
}

bool GatewayConfig::caching() const {
  for (const auto& r : routes)
    if (r.cache) return true;
  return false;
}

std::optional<GatewayConfig> load_config(const std::string& path, config::Diagnostics& diag) {
  auto text = config::read_config_file(path, diag);
  if (!text) return std::nullopt;
  return parse_config(*text, diag);
}

}  // namespace sluice::gateway
