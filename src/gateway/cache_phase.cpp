#include "gateway/cache_phase.hpp"
#include "common/async.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include <array>
#include <memory>

#include "gateway/cache_refresh.hpp"
#include "gateway/client_connection.hpp"
#include "gateway/rewrite.hpp"

namespace sluice::gateway {
namespace {

using cache::CacheStatus;
using cache::RequestAction;

constexpr std::string_view x_cache_field(CacheStatus s) {
  switch (s) {
    case CacheStatus::hit:
      return "X-Cache: HIT\r\n";
    case CacheStatus::miss:
      return "X-Cache: MISS\r\n";
    case CacheStatus::stale:
      return "X-Cache: STALE\r\n";
    case CacheStatus::bypass:
      return "X-Cache: BYPASS\r\n";
    case CacheStatus::expired:
      return "X-Cache: EXPIRED\r\n";
  }
  return {};
}

cache::RouteId route_id(const RequestContext& ctx) {
  return static_cast<cache::RouteId>(ctx.route);
}

// Waits for another request's fill on this worker's own timer, so the wait is bound to the
// worker's executor type like every other operation of the connection.
Task<cache::FillResult> wait_for_fill(Worker& w, std::shared_ptr<cache::Flight> flight,
                                      Duration timeout) {
  struct State {
    explicit State(asio::io_context& io) : timer(io) {}
    SteadyTimer timer;
    std::optional<cache::FillResult> result;
  };
  auto state = std::make_shared<State>(w.io());
  state->timer.expires_after(timeout);
  flight->on_complete(w.io().get_executor(), [state](cache::FillResult r) {
    if (state->result) return;
    state->result = std::move(r);
    state->timer.cancel();
  });
  co_await state->timer.async_wait(use_nothrow);
  if (!state->result) state->result = cache::FillResult{cache::FillStatus::timed_out, nullptr};
  co_return *state->result;
}

// The request goes upstream: as the fill when it leads one (with the stored validators when it
// revalidates an expired entry), and with the X-Cache of its lookup.
void prepare_fill(RequestContext& ctx) {
  CacheExchange& x = ctx.cache;
  auto& l = x.lookup;
  ctx.x_cache = x_cache_field(l.status);
  if (l.lease && l.entry) x.revalidation = cache::revalidation_fields(*l.entry);
  x.revalidating = l.lease && !x.revalidation.empty();
}

}  // namespace

void CacheExchange::reset() {
  enabled = false;
  action = RequestAction::pass;
  lookup = {};  // an unused lease gives its fill up, so waiters never hang
  revalidating = false;
  capturing = false;
  // A captured body may be up to max_object_size: an idle connection must not keep that much.
  if (body.capacity() > 16 * 1024)
    std::string().swap(body);
  else
    body.clear();
  revalidation.clear();
}

bool is_fill(const RequestContext& ctx) {
  return static_cast<bool>(ctx.cache.lookup.lease);
}

CacheStep look_up_cache(ClientConnection& conn, RequestContext& ctx) {
  Worker& w = conn.worker;
  cache::ResponseCache& rc = *w.shared().cache;
  CacheExchange& x = ctx.cache;
  const auto& head = conn.parser.head();
  x.enabled = true;
  x.max_object_size = rc.route(route_id(ctx)).max_object_size;
  cache::collect_headers(head, conn.parser.base(), x.request_headers);
  x.request.method = llhttp_method_name(head.method);
  x.request.host = ctx.host;
  x.request.path = ctx.target.path;
  x.request.query = ctx.target.query;
  x.request.headers = x.request_headers;

  cache::RequestDecision decision = rc.classify(route_id(ctx), x.request);
  x.action = decision.action;
  if (x.action == RequestAction::lookup && (head.has_body() || head.upgrade)) {
    x.action = RequestAction::bypass;  // a GET with a body is no plain read
    rc.stats().add(route_id(ctx), cache::Counter::bypass);
  }
  if (x.action == RequestAction::bypass) ctx.x_cache = x_cache_field(CacheStatus::bypass);
  if (x.action != RequestAction::lookup) return CacheStep::upstream;

  x.lookup = rc.lookup(route_id(ctx), x.request, decision, x.key, cache::Clock::now());
  auto& l = x.lookup;
  if (l.status == CacheStatus::hit || l.status == CacheStatus::stale || l.wait)
    return CacheStep::answer;
  prepare_fill(ctx);
  return CacheStep::upstream;
}

Task<std::optional<bool>> answer_from_cache(ClientConnection& conn, RequestContext& ctx) {
  Worker& w = conn.worker;
  cache::ResponseCache& rc = *w.shared().cache;
  CacheExchange& x = ctx.cache;
  auto& l = x.lookup;
  switch (l.status) {
    case CacheStatus::hit:
      conn.finish_bodyless_request();
      co_return co_await serve_entry(conn, ctx, CacheStatus::hit);
    case CacheStatus::stale:
      conn.finish_bodyless_request();
      if (l.lease) {
        // stale-while-revalidate: this request leads the refresh, in the background.
        refresh_in_background(conn, ctx, std::move(l.lease));
      }
      co_return co_await serve_entry(conn, ctx, CacheStatus::stale);
    default:
      break;
  }
  if (l.wait) {
    Duration timeout = rc.route(route_id(ctx)).coalesce_timeout;
    cache::FillResult r = co_await wait_for_fill(w, std::move(l.wait), timeout);
    r = rc.accept_fill(route_id(ctx), std::move(r), x.request);
    if (r.status == cache::FillStatus::filled) {
      l.entry = std::move(r.entry);
      conn.finish_bodyless_request();
      co_return co_await serve_entry(conn, ctx, CacheStatus::hit);
    }
    // The fill could not be shared or took too long: this request goes upstream on its own.
  }
  prepare_fill(ctx);
  co_return std::nullopt;
}

HeadVerdict on_response_head(ClientConnection& conn, RequestContext& ctx, const Buffer& ubuf,
                             size_t head_size) {
  CacheExchange& x = ctx.cache;
  cache::ResponseCache& rc = *conn.worker.shared().cache;
  const auto& rp = conn.response_parser;
  const int status = rp.head().status;
  if (x.action == RequestAction::invalidate) {
    // Effective before the answer reaches the client, so its next read sees fresh data.
    if (status >= 200 && status < 400) rc.invalidate_after_unsafe(route_id(ctx), x.request);
    return HeadVerdict::relay;
  }
  const auto now = cache::Clock::now();
  if (status >= 500 && x.lookup.entry && rc.serve_on_error(route_id(ctx), x.lookup.entry, now)) {
    x.lookup.lease.abandon(cache::FillStatus::failed, now);
    return HeadVerdict::serve_entry;
  }
  if (!x.lookup.lease) return HeadVerdict::relay;
  if (!x.lookup.admit && !x.lookup.lease.shared()) {
    // Adaptive admission skips this key's first miss: relayed as is, nothing copied or stored.
    x.lookup.lease.abandon(cache::FillStatus::not_stored, now);
    rc.stats().add(route_id(ctx), cache::Counter::not_admitted);
    return HeadVerdict::relay;
  }

  x.response_head.assign(ubuf.data(), head_size);
  cache::collect_headers(rp.head(), x.response_head.data(), x.response_headers);
  cache::ResponseView resp{status, rp.head().reason.in(x.response_head.data()), x.response_headers};
  if (status == 304 && x.revalidating) {
    // The stored body is still current: refresh the entry's fields, answer from it.
    auto refreshed =
        rc.refresh(x.lookup.lease, route_id(ctx), x.request, *x.lookup.entry, resp, now);
    if (refreshed) x.lookup.entry = std::move(refreshed);
    return HeadVerdict::serve_entry;
  }
  if (status == 304) {
    x.lookup.lease.abandon(cache::FillStatus::failed, now);  // nothing to store; not a verdict
    return HeadVerdict::relay;
  }
  x.decision = rc.storable(route_id(ctx), x.request, resp, rp.head().content_length, now);
  if (!x.decision.store) {
    x.lookup.lease.abandon(cache::FillStatus::uncacheable, now);
    return HeadVerdict::relay;
  }
  x.capturing = true;
  x.body.clear();
  if (rp.head().content_length) x.body.reserve(*rp.head().content_length);
  return HeadVerdict::relay;
}

void capture_body(RequestContext& ctx, std::span<const std::string_view> spans) {
  CacheExchange& x = ctx.cache;
  for (auto s : spans)
    x.body.append(s);
  if (x.body.size() > x.max_object_size) {
    // Too large to keep: it streams through, and waiters go upstream themselves.
    x.capturing = false;
    x.body.clear();
    x.lookup.lease.abandon(cache::FillStatus::uncacheable);
  }
}

void on_response_complete(ClientConnection& conn, RequestContext& ctx) {
  CacheExchange& x = ctx.cache;
  if (!x.capturing) return;
  x.capturing = false;
  cache::ResponseView resp{conn.response_parser.head().status,
                           conn.response_parser.head().reason.in(x.response_head.data()),
                           x.response_headers};
  conn.worker.shared().cache->store(x.lookup.lease, route_id(ctx), x.request, resp, x.body,
                                    x.decision, cache::Clock::now());
}

bool stale_on_error(ClientConnection& conn, RequestContext& ctx) {
  CacheExchange& x = ctx.cache;
  if (!x.enabled || !x.lookup.entry) return false;
  x.lookup.lease.abandon(cache::FillStatus::failed);
  return conn.worker.shared().cache->serve_on_error(route_id(ctx), x.lookup.entry,
                                                    cache::Clock::now());
}

Task<bool> serve_entry(ClientConnection& conn, RequestContext& ctx, CacheStatus status) {
  CacheExchange& x = ctx.cache;
  const cache::CachedResponse& entry = *x.lookup.entry;
  const auto& head = conn.parser.head();
  const bool keep = conn.keeps_alive();
  const bool not_modified = cache::is_not_modified(entry, x.request);
  ctx.fields_scratch.assign(ctx.rate_limit_headers());
  if (!keep)
    ctx.fields_scratch.append("Connection: close\r\n");
  else if (head.http10())
    ctx.fields_scratch.append("Connection: keep-alive\r\n");
  auto buffers = cache::ResponseCache::serve_buffers(
      entry, status, not_modified, head.method == HTTP_HEAD, ctx.fields_scratch,
      cache::Clock::now(), x.dynamic_fields, sizeof x.dynamic_fields);
  std::array<asio::const_buffer, 3> parts{asio::buffer(buffers.head), asio::buffer(buffers.dynamic),
                                          asio::buffer(buffers.body)};
  ctx.status = not_modified ? 304 : entry.status;
  conn.arm(Phase::transfer, conn.worker.config().server.send_timeout);
  auto [ec, n] = co_await asio::async_write(conn.socket, parts, use_nothrow);
  conn.disarm();
  ctx.bytes_sent += n;
  conn.worker.metrics().add(conn.worker.shared().gateway_metrics->cache_served_bytes(ctx.route),
                            buffers.body.size());
  co_return !ec && keep;
}

}  // namespace sluice::gateway
