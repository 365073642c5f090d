#include "limits/rate_limit_config.hpp"

namespace sluice::limits {
namespace {

std::string join(std::string_view context, std::string_view key) {
  return context.empty() ? std::string(key) : std::string(context) + "." + std::string(key);
}

std::optional<RateLimitSpec> parse_one_limit(const toml::table& t, config::Diagnostics& diag,
                                             const std::string& context) {
  config::TableReader r(t, diag, context);
  RateLimitSpec spec;
  bool ok = true;
  if (auto keys = r.strings("key")) {
    if (keys->empty()) {
      r.error("key", "needs at least one of ip, header:NAME, query:NAME, cookie:NAME");
      ok = false;
    }
    for (const auto& k : *keys) {
      if (auto part = KeySpec::parse_part(k)) {
        spec.key.parts.push_back(std::move(*part));
      } else {
        r.error("key", "\"" + k + "\" is not ip, header:NAME, query:NAME or cookie:NAME");
        ok = false;
      }
    }
  } else {
    if (!r.raw().contains("key")) r.error("key", "is required");
    ok = false;
  }
  if (auto rate = r.string("rate")) {
    if (auto parsed = Rate::parse(*rate))
      spec.rate = *parsed;
    else {
      r.error("rate", "expected a rate such as \"10/s\", \"600/min\", \"1000/h\" or \"50/5m\"");
      ok = false;
    }
  } else {
    if (!r.raw().contains("rate")) r.error("rate", "is required");
    ok = false;
  }
  if (auto burst = r.integer("burst", 1, 1'000'000'000))
    spec.burst = static_cast<uint32_t>(*burst);
  else if (r.raw().contains("burst"))
    ok = false;
  else
    spec.burst = static_cast<uint32_t>(std::min<uint64_t>(spec.rate.count, 1'000'000'000));
  for (auto [key, target] : {std::pair{"when_header", &spec.tier.when_header},
                             std::pair{"unless_header", &spec.tier.unless_header}}) {
    auto names = r.strings(key);
    if (!names) continue;
    for (const auto& n : *names) {
      if (n.empty() || !KeySpec::parse_part("header:" + n)) {
        r.error(key, "\"" + n + "\" is not a header name");
        ok = false;
      }
    }
    *target = std::move(*names);
  }
  if (auto name = r.string("name"))
    spec.name = *name;
  else if (ok) {
    spec.name = spec.key.describe() + " " + *r.raw()["rate"].value<std::string>();
  }
  r.finish();
  if (!ok) return std::nullopt;
  return spec;
}

}  // namespace

bool SkipRule::matches(std::string_view path) const {
  if (all) return true;
  for (const auto& p : paths) {
    if (!p.empty() && p.back() == '*') {
      if (path.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (path == p) {
      return true;
    }
  }
  return false;
}

std::vector<RateLimitSpec> parse_rate_limits(const toml::node& node, config::Diagnostics& diag,
                                             std::string_view context) {
  std::vector<RateLimitSpec> out;
  std::string where = join(context, "rate_limit");
  const toml::array* arr = node.as_array();
  if (!arr) {
    if (const toml::table* one = node.as_table()) {
      if (auto spec = parse_one_limit(*one, diag, where)) out.push_back(std::move(*spec));
      return out;
    }
    diag.error(node, where +
                         ": expected an array of tables such as "
                         "[{ key = \"ip\", rate = \"10/s\", burst = 10 }]");
    return out;
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = (*arr)[i];
    std::string item = where + "[" + std::to_string(i) + "]";
    if (const toml::table* t = e.as_table()) {
      if (auto spec = parse_one_limit(*t, diag, item)) out.push_back(std::move(*spec));
    } else {
      diag.error(e, item + ": expected a table such as { key = \"ip\", rate = \"10/s\" }");
    }
  }
  if (out.size() > 32) diag.error(node, where + ": at most 32 limits per route");
  return out;
}

SkipRule parse_skip_limits(const toml::node& node, config::Diagnostics& diag,
                           std::string_view context) {
  SkipRule rule;
  std::string where = join(context, "skip_limits");
  if (auto b = node.value<bool>()) {
    rule.all = *b;
    return rule;
  }
  auto add = [&](const toml::node& n) {
    auto s = n.value<std::string>();
    if (!s || s->empty() || s->front() != '/')
      diag.error(n,
                 where + ": expected a path starting with '/' (a trailing '*' matches a prefix)");
    else
      rule.paths.push_back(*s);
  };
  if (const toml::array* a = node.as_array()) {
    for (const auto& e : *a)
      add(e);
  } else if (node.is_string()) {
    add(node);
  } else {
    diag.error(node, where + ": expected true, false, or an array of paths");
  }
  return rule;
}

TrustedProxies parse_trusted_proxies(const toml::node& node, config::Diagnostics& diag,
                                     std::string_view context) {
  std::vector<Cidr> cidrs;
  std::string where = join(context, "trusted_proxies");
  auto add = [&](const toml::node& n) {
    auto s = n.value<std::string>();
    std::optional<Cidr> c = s ? Cidr::parse(*s) : std::nullopt;
    if (c)
      cidrs.push_back(*c);
    else
      diag.error(n, where + ": expected an address or CIDR such as \"10.0.0.0/8\" or \"fd00::/8\"");
  };
  if (const toml::array* a = node.as_array()) {
    for (const auto& e : *a)
      add(e);
  } else if (node.is_string()) {
    add(node);
  } else {
    diag.error(node, where + ": expected an array of CIDRs");
  }
  return TrustedProxies(std::move(cidrs));
}

RouteLimitsConfig read_route_limits(config::TableReader& route) {
  RouteLimitsConfig cfg;
  auto& diag = route.diagnostics();
  if (const toml::node* n = route.node("rate_limit"))
    cfg.rate_limits = parse_rate_limits(*n, diag, route.context());
  if (const toml::node* n = route.node("skip_limits"))
    cfg.skip = parse_skip_limits(*n, diag, route.context());
  if (auto m = route.integer("max_concurrent", 1, 10'000'000))
    cfg.max_concurrent = static_cast<uint32_t>(*m);
  if (auto p = route.string("priority")) {
    if (p->empty())
      route.error("priority", "must name a traffic class of the upstream");
    else
      cfg.priority = *p;
  }
  if (auto s = route.integer("shed_status", 100, 599)) {
    if (*s == 429 || *s == 503)
      cfg.shed_status = static_cast<int>(*s);
    else
      route.error("shed_status", "must be 429 or 503");
  }
  return cfg;
}

ServerLimitsConfig read_server_limits(config::TableReader& server) {
  ServerLimitsConfig cfg;
  if (const toml::node* n = server.node("trusted_proxies"))
    cfg.trusted_proxies = parse_trusted_proxies(*n, server.diagnostics(), server.context());
  if (auto k = server.integer("rate_limit_keys", 64, 100'000'000))
    cfg.rate_limit_keys = static_cast<size_t>(*k);
  return cfg;
}

}  // namespace sluice::limits
