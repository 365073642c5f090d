#include "cache/cache_config.hpp"

#include <algorithm>

#include "http/headers.hpp"

namespace sluice::cache {

bool RouteCacheConfig::method_cacheable(std::string_view method) const {
  for (const std::string& m : methods)
    if (m == method) return true;
  return false;
}

bool RouteCacheConfig::status_cacheable(int status) const {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

std::optional<BypassCondition> parse_bypass_condition(std::string_view text, std::string& error) {
  BypassCondition c;
  size_t colon = text.find(':');
  std::string_view source = text.substr(0, colon);
  if (colon == std::string_view::npos || colon + 1 >= text.size()) {
    error =
        "a bypass condition is \"header:NAME\", \"query:NAME\" or \"cookie:NAME\", optionally "
        "with \"=VALUE\"";
    return std::nullopt;
  }
  if (source == "header")
    c.source = BypassCondition::Source::header;
  else if (source == "query")
    c.source = BypassCondition::Source::query;
  else if (source == "cookie")
    c.source = BypassCondition::Source::cookie;
  else {
    error =
        "unknown bypass source \"" + std::string(source) + "\" (expected header, query or cookie)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(colon + 1);
  size_t eq = rest.find('=');
  c.name = std::string(rest.substr(0, eq));
  if (c.name.empty()) {
    error = "a bypass condition needs a name";
    return std::nullopt;
  }
  if (eq != std::string_view::npos) c.value = std::string(rest.substr(eq + 1));
  return c;
}

namespace {

std::string key_path(const std::string& context, std::string_view key) {
  return context.empty() ? std::string(key) : context + "." + std::string(key);
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void read_methods(config::TableReader& r, RouteCacheConfig& out) {
  auto methods = r.strings("methods");
  if (!methods) return;
  for (const std::string& m : *methods)
    if (m != "GET" && m != "HEAD") {
      r.error("methods", "\"" + m + "\" cannot be cached (only GET and HEAD)");
      return;
    }
  if (methods->empty()) r.error("methods", "must name at least one method");
  out.methods = *methods;
}

void read_statuses(config::TableReader& r, RouteCacheConfig& out) {
  const toml::array* a = r.array("statuses");
  if (!a) return;
  std::vector<int> statuses;
  for (const toml::node& e : *a) {
    auto v = e.value<int64_t>();
    if (!e.is_integer() || !v || *v < 200 || *v > 599) {
      r.diagnostics().error(
          e, key_path(r.context(), "statuses") + ": expected status codes between 200 and 599");
      return;
    }
    if (*v == 206) {
      r.diagnostics().error(
          e, key_path(r.context(), "statuses") + ": 206 partial responses are not cached");
      return;
    }
    statuses.push_back(static_cast<int>(*v));
  }
  out.statuses = std::move(statuses);
}

void read_key_and_vary(config::TableReader& r, RouteCacheConfig& out) {
  if (auto text = r.string("key")) {
    std::string error;
    if (auto t = KeyTemplate::parse(*text, error))
      out.key = std::move(*t);
    else
      r.error("key", error);
  }
  if (auto vary = r.strings("vary")) {
    for (const std::string& h : *vary) {
      if (!valid_header_name(h)) {
        r.error("vary", "\"" + h + "\" is not a header name");
        return;
      }
      out.key.add_header(h);
    }
    out.vary = std::move(*vary);
  }
}

void read_bypass(config::TableReader& r, RouteCacheConfig& out) {
  auto list = r.strings("bypass");
  if (!list) return;
  for (const std::string& text : *list) {
    std::string error;
    if (auto c = parse_bypass_condition(text, error))
      out.bypass.push_back(std::move(*c));
    else
      r.error("bypass", error);
  }
}

void read_invalidate(config::TableReader& r, RouteCacheConfig& out) {
  auto list = r.strings("invalidate");
  if (!list) return;
  for (const std::string& text : *list) {
    std::string error;
    if (auto t = InvalidationTemplate::parse(text, error))
      out.invalidate.push_back(std::move(*t));
    else
      r.error("invalidate", "\"" + text + "\": " + error);
  }
}

}  // namespace

std::optional<RouteCacheConfig> parse_route_cache(const toml::node& value,
                                                  config::Diagnostics& diag,
                                                  const std::string& context) {
  const toml::table* table = value.as_table();
  if (!table) {
    diag.error(value, context + ": expected a table such as { ttl = \"10m\" }");
    return std::nullopt;
  }
  size_t errors_before = diag.items().size();
  RouteCacheConfig out;
  {
    config::TableReader r(*table, diag, context);
    if (auto ttl = r.duration("ttl"))
      out.ttl = *ttl;
    else if (!r.raw().contains("ttl"))
      r.error("ttl", "is required (e.g. ttl = \"10m\")");
    read_key_and_vary(r, out);
    read_methods(r, out);
    read_statuses(r, out);
    if (auto v = r.size("max_object_size")) {
      if (*v == 0 || *v > (uint64_t{1} << 31))
        r.error("max_object_size", "must be between 1 byte and 2GB");
      else
        out.max_object_size = *v;
    }
    if (auto v = r.duration("stale_while_revalidate")) out.stale_while_revalidate = *v;
    if (auto v = r.duration("stale_if_error")) out.stale_if_error = *v;
    read_bypass(r, out);
    if (auto v = r.boolean("origin_cache_control")) out.origin_cache_control = *v;
    if (auto v = r.choice("client_no_cache", {"ignore", "revalidate", "bypass"}))
      out.client_no_cache = *v == "ignore"       ? ClientNoCache::ignore
                            : *v == "revalidate" ? ClientNoCache::revalidate
                                                 : ClientNoCache::bypass;
    if (auto v = r.boolean("coalesce")) out.coalesce = *v;
    if (auto v = r.duration("coalesce_timeout")) out.coalesce_timeout = *v;
    read_invalidate(r, out);
    r.finish();
  }
  if (diag.items().size() != errors_before) return std::nullopt;
  return out;
}

std::optional<GlobalCacheConfig> parse_global_cache(const toml::table& table,
                                                    config::Diagnostics& diag,
                                                    const std::string& context) {
  size_t errors_before = diag.items().size();
  GlobalCacheConfig out;
  {
    config::TableReader r(table, diag, context);
    if (auto v = r.size("max_memory")) {
      if (*v < 1024 * 1024)
        r.error("max_memory", "must be at least 1MB");
      else
        out.max_memory = *v;
    }
    if (auto v = r.strings("tag_headers")) {
      for (const std::string& h : *v)
        if (!valid_header_name(h)) r.error("tag_headers", "\"" + h + "\" is not a header name");
      out.tag_headers = std::move(*v);
    }
    if (auto v = r.boolean("strip_tag_headers")) out.strip_tag_headers = *v;
    if (auto v = r.choice("eviction", {"tinylfu", "s3fifo", "lru"}))
      out.eviction = *v == "lru"      ? EvictionPolicy::lru
                     : *v == "s3fifo" ? EvictionPolicy::s3fifo
                                      : EvictionPolicy::tinylfu;
    if (auto v = r.choice("admission", {"adaptive", "always"}))
      out.adaptive_admission = *v == "adaptive";
    if (auto v = r.integer("shards", 1, 1024)) {
      if ((*v & (*v - 1)) != 0)
        r.error("shards", "must be a power of two");
      else
        out.shards = static_cast<uint32_t>(*v);
    }
    r.finish();
  }
  if (diag.items().size() != errors_before) return std::nullopt;
  return out;
}

}  // namespace sluice::cache
