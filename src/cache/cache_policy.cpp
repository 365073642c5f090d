#include "cache/cache_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "cache/http_date.hpp"
#include "http/headers.hpp"

namespace sluice::cache {
namespace {

using http::iequals;

std::optional<int64_t> parse_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc::result_out_of_range) return int64_t{1} << 31;  // "practically infinite"
  if (ec != std::errc() || ptr != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

bool client_says_no_cache(const RequestView& req) {
  bool no_cache = false;
  for_each_header(req.headers, Field::cache_control, [&](std::string_view v) {
    http::for_each_token(v, [&](std::string_view t) {
      if (iequals(t, "no-cache") || iequals(t, "no-store") || iequals(t, "max-age=0"))
        no_cache = true;
    });
  });
  if (!no_cache)
    for_each_header(req.headers, Field::pragma, [&](std::string_view v) {
      if (http::has_token(v, "no-cache")) no_cache = true;
    });
  return no_cache;
}

// Joins every field line of `name` with ", ", the way Vary compares them.
std::string joined_values(std::span<const HeaderView> headers, std::string_view name) {
  std::string out;
  bool first = true;
  for_each_header(headers, name, [&](std::string_view v) {
    if (!first) out += ", ";
    first = false;
    out += http::trim(v);
  });
  return out;
}

bool joined_values_equal(std::span<const HeaderView> headers, std::string_view name,
                         std::string_view expected) {
  bool first = true;
  bool equal = true;
  for_each_header(headers, name, [&](std::string_view v) {
    if (!equal) return;
    if (!first) {
      if (expected.substr(0, 2) != ", ") {
        equal = false;
        return;
      }
      expected.remove_prefix(2);
    }
    first = false;
    v = http::trim(v);
    if (expected.substr(0, v.size()) != v) {
      equal = false;
      return;
    }
    expected.remove_prefix(v.size());
  });
  return equal && expected.empty();
}

bool is_tag_header(std::string_view name, std::span<const std::string> tag_headers) {
  for (const std::string& t : tag_headers)
    if (iequals(name, t)) return true;
  return false;
}

// Fields a cache recomputes per answer or that belong to one connection.
bool dropped_from_stored_head(Field f) {
  return is_hop_by_hop(f) || f == Field::age || f == Field::x_cache || f == Field::content_length ||
         f == Field::set_cookie;
}

// Fields a 304 carries over from the stored response (RFC 9110 15.4.5).
bool kept_in_not_modified(Field f) {
  switch (f) {
    case Field::cache_control:
    case Field::content_location:
    case Field::date:
    case Field::etag:
    case Field::expires:
    case Field::vary:
    case Field::last_modified:
      return true;
    default:
      return false;
  }
}

// Whether a Connection field names fields beyond the hop-by-hop ones (which are dropped anyway).
bool connection_names_fields(std::span<const HeaderView> headers) {
  bool names = false;
  for_each_header(headers, Field::connection, [&](std::string_view v) {
    http::for_each_token(v, [&](std::string_view t) {
      Field f = classify_field(t);
      if (!is_hop_by_hop(f) && !iequals(t, "close")) names = true;
    });
  });
  return names;
}

bool listed_in_connection(std::string_view name, std::span<const HeaderView> headers) {
  bool listed = false;
  for_each_header(headers, Field::connection, [&](std::string_view v) {
    if (http::has_token(v, name)) listed = true;
  });
  return listed;
}

// Surrogate-Key separates tags by spaces, Cache-Tag by commas. Each tag once: the store's tag
// index holds one slot per entry and tag.
void add_tags(std::string_view v, std::vector<std::string>& tags) {
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == ',' || v[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < v.size() && v[j] != ' ' && v[j] != ',' && v[j] != '\t')
      ++j;
    std::string_view tag = v.substr(i, j - i);
    if (j > i && std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.emplace_back(tag);
    i = j;
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

bool is_unsafe_method(std::string_view m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

bool matches_bypass(const BypassCondition& c, const RequestView& req) {
  std::optional<std::string_view> value;
  switch (c.source) {
    case BypassCondition::Source::header:
      if (req.has(c.name)) value = req.header(c.name);
      break;
    case BypassCondition::Source::query:
      value = find_query_param(req.query, c.name);
      break;
    case BypassCondition::Source::cookie:
      value = find_cookie(req, c.name);
      break;
  }
  if (!value) return false;
  return !c.value || iequals(*value, *c.value);
}

RequestDecision classify_request(const RouteCacheConfig& route, const RequestView& req) {
  if (is_unsafe_method(req.method)) return {RequestAction::invalidate, false, "unsafe method"};
  if (!route.method_cacheable(req.method)) return {RequestAction::pass, false, "method"};
  for (const BypassCondition& c : route.bypass)
    if (matches_bypass(c, req)) return {RequestAction::bypass, false, "bypass condition"};
  // A shared entry must never carry one user's answer to another: credentials bypass the
  // cache unless the key separates users by them.
  if (req.has(Field::authorization) && !route.key.keys_authorization())
    return {RequestAction::bypass, false, "authorization"};
  if (req.has(Field::cookie) && !route.key.keys_cookie())
    return {RequestAction::bypass, false, "cookie"};
  // Ranges are not served from the cache; the full response is fetched for the client.
  if (req.has(Field::range)) return {RequestAction::bypass, false, "range"};
  if (route.client_no_cache != ClientNoCache::ignore && client_says_no_cache(req)) {
    if (route.client_no_cache == ClientNoCache::bypass)
      return {RequestAction::bypass, false, "client no-cache"};
    return {RequestAction::lookup, true, "client no-cache"};
  }
  return {RequestAction::lookup, false, ""};
}

namespace {

// Merges one Cache-Control field line into `cc`.
void merge_cache_control(std::string_view line, CacheControl& cc) {
  http::for_each_token(line, [&](std::string_view d) {
    size_t eq = d.find('=');
    std::string_view name = http::trim(d.substr(0, eq));
    std::string_view arg = eq == std::string_view::npos ? "" : http::trim(d.substr(eq + 1));
    if (iequals(name, "no-store"))
      cc.no_store = true;
    else if (iequals(name, "no-cache"))
      cc.no_cache = true;
    else if (iequals(name, "private"))
      cc.private_ = true;
    else if (iequals(name, "public"))
      cc.public_ = true;
    else if (iequals(name, "must-revalidate") || iequals(name, "proxy-revalidate"))
      cc.must_revalidate = true;
    else if (iequals(name, "max-age"))
      cc.max_age = parse_seconds(arg).value_or(0);
    else if (iequals(name, "s-maxage"))
      cc.s_maxage = parse_seconds(arg).value_or(0);
    else if (iequals(name, "stale-while-revalidate"))
      cc.stale_while_revalidate = parse_seconds(arg);
    else if (iequals(name, "stale-if-error"))
      cc.stale_if_error = parse_seconds(arg);
  });
}

}  // namespace

CacheControl parse_cache_control(std::span<const HeaderView> headers) {
  CacheControl cc;
  for_each_header(headers, Field::cache_control,
                  [&](std::string_view line) { merge_cache_control(line, cc); });
  return cc;
}

StoreDecision decide_storage(const RouteCacheConfig& route, const RequestView& req,
                             const ResponseView& resp, std::optional<uint64_t> body_size,
                             TimePoint now) {
  StoreDecision d;
  auto refuse = [&d](std::string_view why) {
    d.store = false;
    d.reason = why;
    return d;
  };
  if (!route.method_cacheable(req.method)) return refuse("method");
  if (!route.status_cacheable(resp.status)) return refuse("status");
  if (req.has(Field::authorization) && !route.key.keys_authorization())
    return refuse("authorization");
  if (req.has(Field::cookie) && !route.key.keys_cookie()) return refuse("cookie");
  // One pass over the response's fields for everything below.
  bool set_cookie = false, vary_star = false;
  const HeaderView *expires = nullptr, *date = nullptr, *age = nullptr;
  CacheControl cc;
  for (const HeaderView& h : resp.headers) {
    switch (h.field) {
      case Field::set_cookie:
        set_cookie = true;
        break;
      case Field::cache_control:
        merge_cache_control(h.value, cc);
        break;
      case Field::vary:
        vary_star = vary_star || http::has_token(h.value, "*");
        break;
      case Field::expires:
        if (!expires) expires = &h;
        break;
      case Field::date:
        if (!date) date = &h;
        break;
      case Field::age:
        if (!age) age = &h;
        break;
      default:
        break;
    }
  }
  if (set_cookie) return refuse("set-cookie");
  if (cc.no_store) return refuse("no-store");
  if (cc.private_) return refuse("private");
  if (vary_star) return refuse("vary *");
  if (body_size && *body_size > route.max_object_size) return refuse("too large");

  using std::chrono::seconds;
  Duration lifetime = route.ttl;
  d.stale_while_revalidate = route.stale_while_revalidate;
  d.stale_if_error = route.stale_if_error;
  if (route.origin_cache_control) {
    if (cc.no_cache) return refuse("no-cache");
    if (cc.s_maxage) {
      lifetime = seconds(*cc.s_maxage);
    } else if (cc.max_age) {
      lifetime = seconds(*cc.max_age);
    } else if (expires) {
      auto exp = parse_http_date(expires->value);
      auto origin_date = date ? parse_http_date(date->value) : std::nullopt;
      int64_t base = origin_date
                         ? *origin_date
                         : std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
      // An invalid Expires means "already expired" (RFC 9111 5.3).
      lifetime = exp && *exp > base ? Duration(seconds(*exp - base)) : Duration(0);
    }
    if (cc.must_revalidate) d.stale_while_revalidate = d.stale_if_error = Duration(0);
    if (cc.stale_while_revalidate) d.stale_while_revalidate = seconds(*cc.stale_while_revalidate);
    if (cc.stale_if_error) d.stale_if_error = seconds(*cc.stale_if_error);
    if (auto seconds_old = age ? parse_seconds(http::trim(age->value)) : std::nullopt)
      d.initial_age = *seconds_old;
  }
  d.freshness = lifetime - seconds(d.initial_age);
  if (d.freshness <= Duration(0) && d.stale_while_revalidate <= Duration(0) &&
      d.stale_if_error <= Duration(0))
    return refuse("not fresh");
  d.store = true;
  d.reason = "";
  return d;
}

bool entry_serves(const CachedResponse& entry, const RequestView& req) {
  if (entry.head_only && req.method != "HEAD") return false;
  for (size_t i = 0; i < entry.vary_names.size(); ++i)
    if (!joined_values_equal(req.headers, entry.vary_names[i], entry.vary_values[i])) return false;
  return true;
}

bool weak_etag_equal(std::string_view a, std::string_view b) {
  if (a.substr(0, 2) == "W/") a.remove_prefix(2);
  if (b.substr(0, 2) == "W/") b.remove_prefix(2);
  return !a.empty() && a == b;
}

bool is_not_modified(const CachedResponse& entry, const RequestView& req) {
  if (entry.status != 200 || (req.method != "GET" && req.method != "HEAD")) return false;
  if (req.has(Field::if_none_match)) {
    if (entry.etag().empty()) return false;
    bool match = false;
    for_each_header(req.headers, Field::if_none_match, [&](std::string_view v) {
      http::for_each_token(v, [&](std::string_view tag) {
        if (tag == "*" || weak_etag_equal(tag, entry.etag())) match = true;
      });
    });
    return match;  // If-Modified-Since is ignored when If-None-Match is present
  }
  if (req.has(Field::if_modified_since)) {
    auto since = parse_http_date(req.header(Field::if_modified_since));
    std::optional<int64_t> modified = entry.last_modified ? entry.last_modified : entry.date;
    return since && modified && *modified <= *since;
  }
  return false;
}

std::shared_ptr<CachedResponse> build_entry(const RequestView& req, const ResponseView& resp,
                                            std::string_view body, const StoreDecision& decision,
                                            const BuildOptions& options, TimePoint now) {
  auto e = std::make_shared<CachedResponse>();
  e->status = resp.status;
  e->route = options.route;
  e->head_only = req.method == "HEAD";
  e->stored_at = now;
  e->fresh_until = now + decision.freshness;
  e->stale_while_revalidate = decision.stale_while_revalidate;
  e->stale_if_error = decision.stale_if_error;
  e->initial_age = decision.initial_age;

  // Two passes: the first decides what is kept and sizes it, the second writes the entry's one
  // buffer (head, body, 304 head, target) at its exact size.
  thread_local std::vector<uint8_t> keep;  // per field: bit 1 in the head, bit 2 in the 304 head
  keep.assign(resp.headers.size(), 0);
  int code = (resp.status % 1000 + 1000) % 1000;
  const char status[3] = {static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + code / 10 % 10),
                          static_cast<char>('0' + code % 10)};
  std::string_view reason = resp.reason.empty() ? http::status_reason(resp.status) : resp.reason;
  constexpr std::string_view kNotModifiedLine = "HTTP/1.1 304 Not Modified\r\n";
  size_t head_size = 9 + 3 + 1 + reason.size() + 2;
  size_t not_modified_size = kNotModifiedLine.size();
  const bool check_connection = connection_names_fields(resp.headers);
  const HeaderView* etag = nullptr;
  std::string_view content_length;
  for (size_t i = 0; i < resp.headers.size(); ++i) {
    const HeaderView& h = resp.headers[i];
    if (h.field == Field::content_length && content_length.empty()) content_length = h.value;
    if (dropped_from_stored_head(h.field)) continue;
    if (check_connection && listed_in_connection(h.name, resp.headers)) continue;
    if (is_tag_header(h.name, options.tag_headers)) {
      add_tags(h.value, e->tags);
      if (options.strip_tag_headers) continue;
    }
    switch (h.field) {
      case Field::vary:
        http::for_each_token(h.value, [&](std::string_view name) {
          e->vary_names.emplace_back(name);
          e->vary_values.push_back(joined_values(req.headers, name));
        });
        break;
      case Field::etag:
        if (!etag) etag = &h;
        break;
      case Field::last_modified:
        if (!e->last_modified) e->last_modified = parse_http_date(h.value);
        break;
      case Field::date:
        if (!e->date) e->date = parse_http_date(h.value);
        break;
      default:
        break;
    }
    const size_t line = h.name.size() + 2 + h.value.size() + 2;
    keep[i] = 1;
    head_size += line;
    if (kept_in_not_modified(h.field)) {
      keep[i] |= 2;
      not_modified_size += line;
    }
  }
  char date[40];
  std::string_view added_date;
  if (!e->date) {
    int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    added_date = std::string_view(date, format_http_date(secs, date, sizeof date));
    head_size += 6 + added_date.size() + 2;
    not_modified_size += 6 + added_date.size() + 2;
    e->date = secs;
  }
  char length[24];
  std::string_view stored_length;
  if (e->head_only) {
    // A HEAD answer announces the length of the GET body it stands for.
    stored_length = content_length;
  } else if (resp.status != 204 && resp.status != 304) {
    auto [end, ec] = std::to_chars(length, length + sizeof length, body.size());
    (void)ec;
    stored_length = std::string_view(length, static_cast<size_t>(end - length));
  }
  if (!stored_length.empty()) head_size += 16 + stored_length.size() + 2;
  std::string_view stored_body = e->head_only ? std::string_view() : body;
  const size_t target_size = req.path.size() + (req.query.empty() ? 0 : 1 + req.query.size());

  std::string& data = e->data;
  data.resize(head_size + stored_body.size() + not_modified_size + target_size);
  char* out = data.data();
  auto put = [&out](std::string_view v) {
    if (!v.empty()) std::memcpy(out, v.data(), v.size());  // an empty view may be null
    out += v.size();
  };
  auto put_field = [&put](std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  };
  put("HTTP/1.1 ");
  put(std::string_view(status, 3));
  put(" ");
  put(reason);
  put("\r\n");
  for (size_t i = 0; i < resp.headers.size(); ++i) {
    if (!(keep[i] & 1)) continue;
    const HeaderView& h = resp.headers[i];
    if (&h == etag) {
      std::string_view v = http::trim(h.value);
      e->etag_offset = static_cast<uint32_t>(out - data.data() + h.name.size() + 2 +
                                             static_cast<size_t>(v.data() - h.value.data()));
      e->etag_size = static_cast<uint32_t>(v.size());
    }
    put_field(h.name, h.value);
  }
  if (!added_date.empty()) put_field("Date", added_date);
  if (!stored_length.empty()) put_field("Content-Length", stored_length);
  put(stored_body);
  put(kNotModifiedLine);
  for (size_t i = 0; i < resp.headers.size(); ++i)
    if (keep[i] & 2) put_field(resp.headers[i].name, resp.headers[i].value);
  if (!added_date.empty()) put_field("Date", added_date);
  put(req.path);
  if (!req.query.empty()) {
    put("?");
    put(req.query);
  }
  e->head_size = static_cast<uint32_t>(head_size);
  e->body_size = static_cast<uint32_t>(stored_body.size());
  e->not_modified_size = static_cast<uint32_t>(not_modified_size);

  size_t charge =
      allocation_size(sizeof(CachedResponse) + 16) + allocation_size(data.capacity() + 1);
  for (const std::string& t : e->tags)
    charge += sizeof(std::string) + allocation_size(t.capacity() + 1);
  for (size_t i = 0; i < e->vary_names.size(); ++i)
    charge += 2 * sizeof(std::string) + allocation_size(e->vary_names[i].capacity() + 1) +
              allocation_size(e->vary_values[i].capacity() + 1);
  e->charge = charge;
  return e;
}

std::string revalidation_fields(const CachedResponse& entry) {
  std::string out;
  if (!entry.etag().empty()) append_field(out, "If-None-Match", entry.etag());
  if (entry.last_modified) {
    char date[40];
    append_field(out, "If-Modified-Since",
                 std::string_view(date, format_http_date(*entry.last_modified, date, sizeof date)));
  }
  return out;
}

ResponseView merge_not_modified(const CachedResponse& stored, const ResponseView& not_modified,
                                std::vector<HeaderView>& scratch) {
  scratch.clear();
  std::string_view head = stored.head();
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  std::string_view reason;
  if (size_t sp = status_line.find(' ', 9); sp != std::string_view::npos)
    reason = status_line.substr(sp + 1);
  head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    HeaderView h{line.substr(0, colon), http::trim(line.substr(colon + 1))};
    // Content-Length is recomputed; fields the 304 sends again replace the stored ones.
    if (h.field == Field::content_length || has_header(not_modified.headers, h.name)) continue;
    scratch.push_back(h);
  }
  for (const HeaderView& h : not_modified.headers)
    if (h.field != Field::content_length) scratch.push_back(h);
  return ResponseView{stored.status, reason, scratch};
}

}  // namespace sluice::cache
