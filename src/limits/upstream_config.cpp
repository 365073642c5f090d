#include "limits/upstream_config.hpp"

#include <charconv>

namespace sluice::limits {
namespace {

std::string join(std::string_view context, std::string_view key) {
  return context.empty() ? std::string(key) : std::string(context) + "." + std::string(key);
}

// "20%" or a number between 0 and 1.
std::optional<double> read_fraction(config::TableReader& r, std::string_view key) {
  const toml::node* n = r.node(key);
  if (!n) return std::nullopt;
  if (auto s = n->value<std::string>()) {
    double v = 0;
    if (!s->empty() && s->back() == '%') {
      auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size() - 1, v);
      if (ec == std::errc() && ptr == s->data() + s->size() - 1 && v >= 0 && v <= 100)
        return v / 100;
    }
  } else if (auto v = n->value<double>(); v && *v >= 0 && *v <= 1) {
    return *v;
  }
  r.error(key, "expected a percentage such as \"20%\" or a fraction between 0 and 1");
  return std::nullopt;
}

const toml::table* as_table(const toml::node& node, config::Diagnostics& diag,
                            const std::string& where, const char* example) {
  if (const toml::table* t = node.as_table()) return t;
  diag.error(node, where + ": expected a table such as " + example);
  return nullptr;
}

std::optional<uint32_t> read_count(config::TableReader& r, std::string_view key, int64_t min,
                                   int64_t max) {
  if (auto v = r.integer(key, min, max)) return static_cast<uint32_t>(*v);
  return std::nullopt;
}

}  // namespace

RetryPolicy parse_retries(const toml::node& node, config::Diagnostics& diag,
                          std::string_view context) {
  RetryPolicy p;
  std::string where = join(context, "retries");
  const toml::table* t =
      as_table(node, diag, where, "{ attempts = 1, budget = \"20%\", on = [502, 503, 504] }");
  if (!t) return p;
  config::TableReader r(*t, diag, where);
  if (auto a = read_count(r, "attempts", 0, 10)) p.attempts = *a;
  if (auto b = read_fraction(r, "budget")) p.budget = *b;
  if (auto b = read_count(r, "budget_reserve", 0, 1'000'000)) p.budget_reserve = *b;
  if (const toml::array* on = r.array("on")) {
    p.on.clear();
    for (const auto& e : *on) {
      auto s = e.value<int64_t>();
      if (e.is_integer() && s && *s >= 500 && *s <= 599)
        p.on.push_back(static_cast<int>(*s));
      else
        diag.error(e, where + ".on: expected 5xx status codes such as 502");
    }
  }
  if (auto b = r.duration("backoff")) p.backoff = *b;
  if (auto b = r.duration("max_backoff")) p.max_backoff = *b;
  if (p.max_backoff < p.backoff) r.error("max_backoff", "must not be shorter than backoff");
  r.finish();
  return p;
}

HealthCheckConfig parse_health(const toml::node& node, config::Diagnostics& diag,
                               std::string_view context) {
  HealthCheckConfig h;
  std::string where = join(context, "health");
  const toml::table* t =
      as_table(node, diag, where, "{ path = \"/health\", interval = \"2s\", timeout = \"1s\" }");
  if (!t) return h;
  config::TableReader r(*t, diag, where);
  if (auto p = r.string("path")) {
    if (p->empty() || p->front() != '/')
      r.error("path", "must start with '/'");
    else
      h.path = *p;
  }
  if (auto i = r.duration("interval")) {
    if (i->count() <= 0)
      r.error("interval", "must be positive");
    else
      h.interval = *i;
  }
  if (auto d = r.duration("timeout")) {
    if (d->count() <= 0)
      r.error("timeout", "must be positive");
    else
      h.timeout = *d;
  }
  if (h.timeout > h.interval) r.error("timeout", "must not be longer than interval");
  if (auto n = read_count(r, "unhealthy_after", 1, 100)) h.unhealthy_after = *n;
  if (auto n = read_count(r, "healthy_after", 1, 100)) h.healthy_after = *n;
  r.finish();
  return h;
}

OutlierConfig parse_outlier(const toml::node& node, config::Diagnostics& diag,
                            std::string_view context) {
  OutlierConfig o;
  std::string where = join(context, "outlier");
  const toml::table* t =
      as_table(node, diag, where, "{ consecutive_failures = 5, base_ejection = \"30s\" }");
  if (!t) return o;
  config::TableReader r(*t, diag, where);
  if (auto n = read_count(r, "consecutive_failures", 0, 1000)) o.consecutive_failures = *n;
  if (auto n = read_count(r, "consecutive_5xx", 0, 1000)) o.consecutive_5xx = *n;
  if (auto d = r.duration("base_ejection")) o.base_ejection = *d;
  if (auto d = r.duration("max_ejection")) o.max_ejection = *d;
  if (auto d = r.duration("slow_start")) o.slow_start = *d;
  if (auto n = read_count(r, "max_ejected_percent", 0, 100)) o.max_ejected_percent = *n;
  if (o.max_ejection < o.base_ejection)
    r.error("max_ejection", "must not be shorter than base_ejection");
  r.finish();
  return o;
}

std::vector<TrafficClassSpec> parse_classes(const toml::node& node, config::Diagnostics& diag,
                                            std::string_view context) {
  std::vector<TrafficClassSpec> out;
  std::string where = join(context, "classes");
  const toml::table* t = as_table(node, diag, where, "{ critical = \"80%\", batch = \"20%\" }");
  if (!t) return out;
  config::TableReader r(*t, diag, where);
  double sum = 0;
  for (const auto& [k, v] : *t) {
    std::string name(k.str());
    if (name.empty()) {
      r.node(name);
      r.error(name, "a class needs a name");
      continue;
    }
    if (auto share = read_fraction(r, name)) {
      out.push_back({name, *share});
      sum += *share;
    }
  }
  if (out.size() + 1 > TrafficClasses::kMaxClasses)
    diag.error(node,
               where + ": at most " + std::to_string(TrafficClasses::kMaxClasses - 1) + " classes");
  if (sum > 1 + 1e-9) diag.error(node, where + ": the shares add up to more than 100%");
  r.finish();
  return out;
}

UpstreamLimitsConfig read_upstream_limits(config::TableReader& up) {
  UpstreamLimitsConfig cfg;
  auto& diag = up.diagnostics();
  const std::string& ctx = up.context();
  if (auto q = up.integer("queue_limit", 0, 1'000'000))
    cfg.gate.queue_limit = static_cast<uint32_t>(*q);
  if (auto t = up.duration("queue_timeout")) cfg.gate.queue_timeout = *t;
  if (const toml::node* n = up.node("concurrency")) {
    if (auto s = n->value<std::string>(); s && n->is_string()) {
      if (*s == "adaptive")
        cfg.gate.adaptive = true;
      else
        up.error("concurrency", "expected \"adaptive\" or a number of concurrent requests");
    } else if (auto v = n->value<int64_t>(); v && n->is_integer() && *v >= 1 && *v <= 1'000'000) {
      cfg.gate.static_limit = static_cast<uint32_t>(*v);
    } else {
      up.error("concurrency", "expected \"adaptive\" or a number between 1 and 1000000");
    }
  }
  if (const toml::table* a = up.table("adaptive")) {
    config::TableReader r(*a, diag, join(ctx, "adaptive"));
    auto& p = cfg.gate.adaptive_params;
    if (auto v = read_count(r, "initial_limit", 1, 1'000'000)) p.initial_limit = *v;
    if (auto v = read_count(r, "min_limit", 1, 1'000'000)) p.min_limit = *v;
    if (auto v = read_count(r, "max_limit", 1, 1'000'000)) p.max_limit = *v;
    if (auto v = r.duration("probe_interval")) p.probe_interval = *v;
    if (p.min_limit > p.max_limit) r.error("min_limit", "must not exceed max_limit");
    if (!cfg.gate.adaptive) up.error("adaptive", "needs concurrency = \"adaptive\"");
    r.finish();
  }
  if (const toml::node* n = up.node("classes")) cfg.gate.classes = parse_classes(*n, diag, ctx);
  if (const toml::table* c = up.table("circuit")) {
    config::TableReader r(*c, diag, join(ctx, "circuit"));
    if (auto v = read_count(r, "max_pending", 0, 10'000'000)) cfg.gate.max_pending = *v;
    if (auto v = read_count(r, "max_active", 1, 10'000'000)) cfg.gate.max_active = *v;
    r.finish();
  }
  if (const toml::node* n = up.node("retries")) cfg.retries = parse_retries(*n, diag, ctx);
  if (const toml::node* n = up.node("outlier")) cfg.outlier = parse_outlier(*n, diag, ctx);
  if (const toml::node* n = up.node("health")) cfg.health = parse_health(*n, diag, ctx);
  return cfg;
}

}  // namespace sluice::limits
