// Request pipeline. A request's head has been read and validated by the connection; from here:
//   1. target    normalise the request target (absolute-form, dot segments)
//   2. route     host, method and longest path prefix choose the route
//   3. limits    body size against the route
//   4. identify  the client address: the peer, or X-Forwarded-For from a trusted proxy
//   5. rate      the route's rate limits (tiers and route limits alike): 429
//   6. cache     answer hits, stale entries and other requests' fills from the response cache
//                (cache_phase.cpp); misses go on to fill it, unsafe methods to invalidate it
//   7. route cap the route's max_concurrent: shed_status at once
//   8. admission the upstream's concurrency gate, waiting in its bounded, deadline-aware queue
//   9. forward   balanced upstream exchange over a pooled keep-alive connection (proxy.cpp),
//                with retries to other endpoints and outlier feedback
//  10. account   counters and the access log
#include "gateway/pipeline.hpp"
#include "common/async.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "common/log.hpp"
#include "gateway/client_connection.hpp"
#include "gateway/proxy.hpp"
#include "limits/admission.hpp"

namespace sluice::gateway {
namespace {

// Ends a request the gateway answers itself. The connection stays open only when the request
// had no body, so unread body bytes can never be parsed as the next request.
Task<bool> reply_locally(ClientConnection& conn, RequestContext& ctx, int status,
                         std::string_view body, std::string_view extra = {}) {
  const auto& head = conn.parser.head();
  bool keep = head.keep_alive && !head.has_body() && !head.upgrade && !conn.worker.draining();
  if (keep) keep = conn.finish_bodyless_request();
  ctx.status = status;
  ctx.bytes_sent = body.size();
  bool ok = co_await conn.send_simple(status, body, keep, extra);
  co_return ok&& keep;
}

// "Retry-After: N\r\n" after the RateLimit-* lines of the request, in `out`.
std::string_view shed_headers(RequestContext& ctx, uint32_t retry_after, std::string& out) {
  out.assign(ctx.rate_limit_headers());
  out.append("Retry-After: ").append(std::to_string(std::max<uint32_t>(1, retry_after)));
  out.append("\r\n");
  return out;
}

// The slow-request log: one line saying where the time of a request above the threshold went.
void log_if_slow(ClientConnection& conn, const RequestContext& ctx, int64_t duration_ns) {
  const auto& threshold = conn.worker.config().server.slow_request_threshold;
  if (!threshold || duration_ns < threshold->count()) return;
  const auto& head = conn.parser.head();
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  LOG_WARN(
      "slow request: %s %s%s -> %d in %.1f ms (queue %.1f ms, connect %.1f ms, upstream %.1f ms, "
      "transfer %.1f ms) route %s upstream %s client %s",
      conn.parser.head_done() ? llhttp_method_name(head.method) : "-", ctx.host.c_str(),
      ctx.target.path.c_str(), ctx.status, ms(duration_ns), ms(ctx.timing.queue_ns),
      ms(ctx.timing.connect_ns), ms(ctx.timing.upstream_ns), ms(ctx.timing.transfer_ns),
      ctx.route >= 0 ? conn.worker.config().routes[ctx.route].name.c_str() : "-",
      *ctx.upstream_name ? ctx.upstream_name : "-", conn.client_ip.c_str());
}

}  // namespace

void account(ClientConnection& conn, RequestContext& ctx) {
  Worker& w = conn.worker;
  auto& counters = w.counters();
  ++counters.requests;
  if (ctx.status >= 100 && ctx.status < 600) ++counters.responses[ctx.status / 100];
  const int64_t duration_ns = upstream::mono_ns() - ctx.start_ns;
  const size_t route_label =
      ctx.route >= 0 ? static_cast<size_t>(ctx.route) : w.config().routes.size();
  w.shared().http_metrics->record(w.metrics(), route_label, ctx.status, duration_ns / 1e9);
  if (ctx.timing.on) log_if_slow(conn, ctx, duration_ns);
  AccessLog& log = w.access_log();
  if (!log.enabled()) return;
  const auto& head = conn.parser.head();
  const auto& routes = w.config().routes;
  AccessRecord rec;
  rec.client = conn.client_ip;
  rec.method = conn.parser.head_done() ? llhttp_method_name(head.method) : "";
  rec.host = ctx.host;
  rec.path = ctx.target.path;
  rec.status = ctx.status;
  rec.bytes_sent = ctx.bytes_sent;
  rec.duration_ns = duration_ns;
  rec.upstream = ctx.upstream_name;
  rec.route = ctx.route >= 0 ? std::string_view(routes[ctx.route].path) : std::string_view();
  log.record(rec);
}

namespace {

// An answer the gateway makes itself, ending the request.
struct LocalAnswer {
  int status = 0;
  std::string_view body;
  std::string_view extra;
};

// Phases 1 to 5, which never wait. Returns the answer when one of them ends the request.
std::optional<LocalAnswer> first_phases(ClientConnection& conn, RequestContext& ctx) {
  Worker& w = conn.worker;
  const auto& head = conn.parser.head();
  const char* base = conn.parser.base();

  // 1. target
  if (!normalise_target(head.target.in(base), ctx.target))
    return LocalAnswer{400, "invalid request target\n"};
  ctx.host.assign(ctx.target.authority.empty() ? conn.parser.header("host") : ctx.target.authority);

  // 2. route
  ctx.route = w.shared().router.match(ctx.host, ctx.target.path, head.method);
  if (ctx.route == Router::kMethodNotAllowed)
    return LocalAnswer{405, "method not allowed on this route\n"};
  if (ctx.route < 0) return LocalAnswer{404, "no route for this path\n"};
  const RouteConfig& route = w.config().routes[ctx.route];

  // 3. limits
  if (head.content_length && *head.content_length > route.max_body_size)
    return LocalAnswer{413, "request body larger than the route allows\n"};

  // 4. identify
  const SharedState& shared = w.shared();
  limits::RoutePolicies& policies = *shared.route_policies[ctx.route];
  limits::RequestView view;
  view.client = limits::resolve_client_ip(
      conn.peer_address, w.config().server.traffic.trusted_proxies, base, head.headers);
  view.target = head.target.in(base);
  view.base = base;
  view.headers = head.headers;

  // 5. rate
  if (!policies.rate.empty()) {
    limits::RateDecision d = policies.rate.check(view);
    ctx.rate_headers_size =
        limits::write_rate_limit_headers(d, ctx.rate_headers, sizeof ctx.rate_headers);
    if (!d.allowed) return LocalAnswer{429, "rate limit exceeded\n", ctx.rate_limit_headers()};
  }
  return std::nullopt;
}

}  // namespace

// The phases run in this one coroutine, and those that do not wait in plain functions: a
// coroutine frame per phase would cost more than most phases themselves.
Task<bool> handle_request(ClientConnection& conn) {
  RequestContext& ctx = conn.request;
  ctx.start_ns = upstream::mono_ns();
  ctx.route = -1;
  ctx.status = 0;
  ctx.bytes_sent = 0;
  ctx.upstream_name = "";
  ctx.rate_headers_size = 0;
  ctx.x_cache = {};
  ctx.timing = {};
  ctx.timing.on = conn.worker.config().server.slow_request_threshold.has_value();
  Worker& w = conn.worker;
  std::optional<bool> keep;
  std::optional<LocalAnswer> answer = first_phases(conn, ctx);
  if (!answer) {
    const RouteConfig& route = w.config().routes[ctx.route];
    const SharedState& shared = w.shared();
    limits::RoutePolicies& policies = *shared.route_policies[ctx.route];

    // 6. cache
    if (route.cache && look_up_cache(conn, ctx) == CacheStep::answer)
      keep = co_await answer_from_cache(conn, ctx);

    // 7. route cap
    if (!keep) {
      ctx.route_slot = policies.concurrency.try_acquire();
      if (!ctx.route_slot) {
        w.metrics().add(shared.gateway_metrics->shed(ctx.route));
        answer = LocalAnswer{policies.shed_status, "route at its concurrency limit\n",
                             shed_headers(ctx, 1, conn.shed_scratch)};
      }
    }

    // 8. admission: a free slot without a wait, else the gate's queue
    if (!keep && !answer) {
      limits::ConcurrencyGate& gate = shared.upstream_policies[route.upstream]->gate;
      int64_t mark = ctx.timing.on ? upstream::mono_ns() : 0;
      limits::Admission admission;
      admission.permit = gate.try_acquire(policies.traffic_class);
      if (!admission.admitted())
        admission = co_await gate.async_acquire(
            asio::any_io_executor(w.io().get_executor()), policies.traffic_class,
            limits::steady_now() + route.timeout, asio::use_awaitable_t<Executor>{});
      ctx.timing.lap(ctx.timing.queue_ns, mark);
      if (!admission.admitted()) {
        w.metrics().add(shared.gateway_metrics->shed(ctx.route));
        answer = LocalAnswer{policies.shed_status, "upstream overloaded\n",
                             shed_headers(ctx, admission.retry_after_seconds, conn.shed_scratch)};
      } else {
        ctx.permit = std::move(admission.permit);
        // 9. forward
        keep = co_await forward(conn, ctx, route);
      }
    }
  }
  if (!keep) keep = co_await reply_locally(conn, ctx, answer->status, answer->body, answer->extra);
  ctx.permit.release();
  ctx.route_slot = {};
  ctx.cache.reset();
  conn.request_deadline_ns = INT64_MAX;
  // 10. account
  account(conn, ctx);
  co_return *keep;
}

}  // namespace sluice::gateway
