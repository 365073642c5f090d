#include "gateway/proxy.hpp"
#include "common/async.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <span>

#include "common/log.hpp"
#include "gateway/cache_phase.hpp"
#include "gateway/client_connection.hpp"
#include "gateway/rewrite.hpp"
#include "gateway/upstream_feedback.hpp"

namespace sluice::gateway {
namespace {

using asio::ip::tcp;
using upstream::ConnectionPtr;
using upstream::UpstreamConnection;

enum class Failure {
  none,
  connect_refused,
  connect_timeout,
  slots_exhausted,
  upstream_io,  // the upstream failed before sending a byte of the response
  upstream_timeout,
  bad_response,
  client_gone,
  body_too_large,
  bad_request_body,
};

const char* describe(Failure f) {
  switch (f) {
    case Failure::connect_refused:
      return "connection refused";
    case Failure::connect_timeout:
      return "connect timed out";
    case Failure::slots_exhausted:
      return "connection limit reached";
    case Failure::upstream_io:
      return "connection closed before the response";
    case Failure::upstream_timeout:
      return "timed out waiting for the response";
    case Failure::bad_response:
      return "invalid response";
    case Failure::client_gone:
      return "client went away";
    case Failure::body_too_large:
      return "request body too large";
    case Failure::bad_request_body:
      return "invalid request body framing";
    case Failure::none:
      break;
  }
  return "ok";
}

int status_for(Failure f) {
  switch (f) {
    case Failure::slots_exhausted:
      return 503;
    case Failure::upstream_timeout:
      return 504;
    case Failure::body_too_large:
      return 413;
    case Failure::bad_request_body:
      return 400;
    default:
      return 502;
  }
}

bool is_idempotent(llhttp_method_t m) {
  return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS || m == HTTP_TRACE || m == HTTP_PUT ||
         m == HTTP_DELETE;
}

struct ActiveRequest {
  explicit ActiveRequest(std::atomic<uint32_t>& c) : count(c) {
    count.fetch_add(1, std::memory_order_relaxed);
  }
  ~ActiveRequest() { count.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<uint32_t>& count;
};

// The gather list as a view: asio copies a buffer sequence into the write operation, and a
// vector copy would allocate on every write.
std::span<const asio::const_buffer> gathered(const ClientConnection& c) {
  return {c.gather.data(), c.gather.size()};
}

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Appends body spans to the connection's gather list in the chosen framing. Chunk headers
// live in conn.framing, sized up front so the pointers stay valid.
void gather_body(ClientConnection& c, std::span<const std::string_view> spans, bool chunked) {
  if (chunked) {
    c.framing.resize(spans.size() * 20);
    char* f = c.framing.data();
    for (auto s : spans) {
      if (s.empty()) continue;
      size_t n = chunk_header(s.size(), f);
      c.gather.emplace_back(f, n);
      c.gather.emplace_back(s.data(), s.size());
      c.gather.emplace_back(kCrlf.data(), kCrlf.size());
      f += 20;
    }
  } else {
    for (auto s : spans)
      if (!s.empty()) c.gather.emplace_back(s.data(), s.size());
  }
}

void count_retry(Worker& w, size_t upstream, int endpoint) {
  ++w.counters().upstream_retries;
  const auto& m = *w.shared().gateway_metrics;
  w.metrics().add(m.upstreams().retries(m.endpoint(upstream, static_cast<size_t>(endpoint))));
}

// Inactivity allowed while a body streams either way: the route's idle_timeout or send_timeout.
Duration idle_timeout(const ClientConnection& c, const RouteConfig& route) {
  return route.idle_timeout.value_or(c.worker.config().server.send_timeout);
}

Task<ConnectionPtr> connect_new(ClientConnection& c, upstream::ConnectionPool& pool, size_t ep,
                                const RouteConfig& route, Failure& why) {
  const auto& cfg = *pool.upstream().config;
  const Duration connect_timeout = route.connect_timeout.value_or(cfg.connect_timeout);
  auto& state = *pool.upstream().endpoints[ep];
  ConnectionPtr conn = pool.open(ep);
  if (!conn) {
    // At the endpoint's cap: wait for a slot (or an idle connection) until the connect deadline.
    int64_t deadline = upstream::mono_ns() + connect_timeout.count();
    pool.add_waiter(ep);
    SteadyTimer timer(c.worker.io());
    while (!conn) {
      int64_t now = upstream::mono_ns();
      conn = pool.take_idle(ep, now);
      if (conn) break;
      conn = pool.open(ep);
      if (conn || now >= deadline) break;
      timer.expires_after(std::chrono::milliseconds(2));
      co_await timer.async_wait(use_nothrow);
    }
    pool.remove_waiter(ep);
    if (!conn) {
      why = Failure::slots_exhausted;
      co_return nullptr;
    }
    if (conn->requests > 0) co_return conn;
  }
  c.arm(Phase::connect, connect_timeout, &conn->socket);
  auto [ec] = co_await conn->socket.async_connect(state.address.endpoint, use_nothrow);
  if (ec) {
    why = c.timed_out() ? Failure::connect_timeout : Failure::connect_refused;
    co_return nullptr;
  }
  asio::error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  co_return conn;
}

// Sends the head and streams the request body (a bodyless request is written by forward()).
Task<Failure> send_request_with_body(ClientConnection& c, RequestContext& ctx,
                                     UpstreamConnection& u, const RouteConfig& route) {
  const Duration idle = idle_timeout(c, route);
  c.gather.clear();
  c.gather.emplace_back(ctx.upstream_head.data(), ctx.upstream_head.size());
  const auto& head = c.parser.head();
  if (head.expect_continue && c.in.empty() && !head.http10()) {
    static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(c.socket, asio::buffer(k100), use_nothrow);
    if (ec) co_return Failure::client_gone;
  }
  const size_t read_cap = c.worker.buffers().buffer_size();
  uint64_t body_bytes = 0;
  while (true) {
    auto r = c.parser.parse(c.in.data(), c.in.size());
    if (r.status == http::ParseStatus::error) co_return Failure::bad_request_body;
    for (auto s : c.parser.body_spans())
      body_bytes += s.size();
    if (body_bytes > route.max_body_size) co_return Failure::body_too_large;
    gather_body(c, c.parser.body_spans(), head.chunked);
    bool done = r.status == http::ParseStatus::message_complete;
    if (done && head.chunked) c.gather.emplace_back(kLastChunk.data(), kLastChunk.size());
    if (!c.gather.empty()) {
      c.arm(Phase::transfer, idle, &u.socket);
      auto [ec, n] = co_await asio::async_write(u.socket, gathered(c), use_nothrow);
      if (ec) co_return Failure::upstream_io;
      c.gather.clear();
    }
    c.in.consume(r.consumed);
    if (done) co_return Failure::none;
    c.arm(Phase::body, idle);
    if (co_await c.read_more(read_cap) == 0) co_return Failure::client_gone;
  }
}

// What a failed head read means for the exchange.
Failure head_failure(const ClientConnection& c, HeadRead r) {
  switch (r) {
    case HeadRead::ok:
      return Failure::none;
    case HeadRead::bad_response:
      return Failure::bad_response;
    case HeadRead::closed_before_response:
      return c.timed_out() ? Failure::upstream_timeout : Failure::upstream_io;
    case HeadRead::closed_in_head:
      break;
  }
  return c.timed_out() ? Failure::upstream_timeout : Failure::bad_response;
}

// Relays the response whose head is in ubuf. Returns whether the client connection stays
// open; `reusable` tells whether the upstream connection can go back to the pool.
Task<bool> relay_response(ClientConnection& c, RequestContext& ctx, UpstreamConnection& u,
                          Buffer& ubuf, bool& reusable) {
  const Duration idle = idle_timeout(c, c.worker.config().routes[ctx.route]);
  auto& rp = c.response_parser;
  const auto& req = c.parser.head();
  const auto& resp = rp.head();
  reusable = false;
  ClientResponse info;
  info.request_was_head = req.method == HTTP_HEAD;
  info.client_http10 = req.http10();
  info.keep_alive = c.keeps_alive();
  if (ctx.cache.enabled && c.worker.shared().cache->global().strip_tag_headers)
    info.drop_fields = c.worker.shared().cache->global().tag_headers;
  BodyFraming framing = choose_framing(resp, info);
  if (framing == BodyFraming::until_close) info.keep_alive = false;
  build_client_response(rp, info, framing, c.scratch, response_fields(ctx));
  ctx.status = resp.status;
  ubuf.consume(c.response_head_size);
  c.gather.clear();
  c.gather.emplace_back(c.scratch.data(), c.scratch.size());
  const bool chunked = framing == BodyFraming::chunked;
  while (true) {
    auto r = rp.parse(ubuf.data(), ubuf.size());
    if (r.status == http::ParseStatus::error) co_return false;
    gather_body(c, rp.body_spans(), chunked);
    if (ctx.cache.capturing) capture_body(ctx, rp.body_spans());
    bool done =
        r.status == http::ParseStatus::message_complete || r.status == http::ParseStatus::upgrade;
    if (done && chunked) c.gather.emplace_back(kLastChunk.data(), kLastChunk.size());
    if (!c.gather.empty()) {
      c.arm(Phase::transfer, idle, &u.socket);
      auto [ec, n] = co_await asio::async_write(c.socket, gathered(c), use_nothrow);
      if (ec) co_return false;
      ctx.bytes_sent += n;
      c.gather.clear();
    }
    ubuf.consume(r.consumed);
    if (done) {
      if (r.status == http::ParseStatus::message_complete) on_response_complete(c, ctx);
      break;
    }
    if (ubuf.writable() == 0) ubuf.compact();
    c.arm(Phase::transfer, idle, &u.socket);
    auto [ec, n] = co_await u.socket.async_read_some(
        asio::buffer(ubuf.write_ptr(), ubuf.writable()), use_nothrow);
    if (ec) {
      if (ec == asio::error::eof && rp.body_until_close() &&
          rp.finish().status == http::ParseStatus::message_complete) {
        on_response_complete(c, ctx);
        if (chunked) {
          auto [wec, wn] =
              co_await asio::async_write(c.socket, asio::buffer(kLastChunk), use_nothrow);
          ctx.bytes_sent += wn;
          if (wec) co_return false;
        }
        co_return info.keep_alive;
      }
      co_return false;  // truncated response: the client must not mistake it for a whole one
    }
    ubuf.commit(n);
  }
  reusable = resp.keep_alive && !rp.body_until_close() && ubuf.empty() && resp.status != 101;
  co_return info.keep_alive;
}

Task<void> pump(TcpSocket& from, TcpSocket& to, Buffer& buf) {
  while (true) {
    auto [ec, n] =
        co_await from.async_read_some(asio::buffer(buf.write_ptr(), buf.writable()), use_nothrow);
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.write_ptr(), n), use_nothrow);
    if (wec) break;
  }
  asio::error_code ignored;
  to.shutdown(TcpSocket::shutdown_send, ignored);
}

// After a 101: bytes flow both ways untouched until both sides have closed.
Task<void> tunnel(ClientConnection& c, UpstreamConnection& u, Buffer& ubuf) {
  using namespace asio::experimental::awaitable_operators;
  c.disarm();
  if (!c.in.empty()) {
    auto [ec, n] =
        co_await asio::async_write(u.socket, asio::buffer(c.in.data(), c.in.size()), use_nothrow);
    if (ec) co_return;
    c.in.clear();
  }
  if (!ubuf.empty()) {
    auto [ec, n] =
        co_await asio::async_write(c.socket, asio::buffer(ubuf.data(), ubuf.size()), use_nothrow);
    if (ec) co_return;
    ubuf.clear();
  }
  if (!c.in.allocated()) c.in = c.worker.buffers().take();
  co_await (pump(c.socket, u.socket, c.in) && pump(u.socket, c.socket, ubuf));
  c.in.clear();
}

}  // namespace

Task<HeadRead> read_upstream_head(Worker& w, http::Parser& rp, TcpSocket& socket, Buffer& ubuf,
                                  bool head_request, size_t& head_size) {
  rp.set_response_has_no_body(head_request);
  const size_t max_capacity = w.config().server.limits.max_header_bytes + w.buffers().buffer_size();
  if (!ubuf.allocated()) ubuf = w.buffers().take();
  ubuf.clear();
  rp.start_message(ubuf.data());
  size_t parsed = 0;
  bool any_bytes = false;
  while (true) {
    if (parsed < ubuf.size()) {
      auto r = rp.parse(ubuf.data() + parsed, ubuf.size() - parsed);
      parsed += r.consumed;
      if (r.status == http::ParseStatus::head_complete) {
        int status = rp.head().status;
        if (status >= 200 || status == 101) {
          head_size = parsed;
          co_return HeadRead::ok;
        }
        // An interim 1xx: skip it and read the final response.
        auto end = rp.parse(ubuf.data() + parsed, ubuf.size() - parsed);
        parsed += end.consumed;
        ubuf.consume(parsed);
        parsed = 0;
        rp.start_message(ubuf.data());
        continue;
      }
      if (r.status == http::ParseStatus::error) co_return HeadRead::bad_response;
    }
    if (ubuf.writable() == 0) {
      const char* before = ubuf.data();
      ubuf.compact();
      if (ubuf.writable() == 0) {
        if (ubuf.capacity() >= max_capacity) co_return HeadRead::bad_response;
        ubuf.reserve(std::min(max_capacity, ubuf.capacity() * 2));
      }
      if (ubuf.data() != before) rp.rebase(ubuf.data());
    }
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(ubuf.write_ptr(), ubuf.writable()),
                                                   use_nothrow);
    if (ec) co_return any_bytes ? HeadRead::closed_in_head : HeadRead::closed_before_response;
    any_bytes = true;
    ubuf.commit(n);
  }
}

Task<bool> forward(ClientConnection& c, RequestContext& ctx, const RouteConfig& route) {
  Worker& w = c.worker;
  auto& up = *w.shared().upstreams[route.upstream];
  auto& pool = w.pool(route.upstream);
  auto& balancer = w.balancer(route.upstream);
  const auto& head = c.parser.head();
  if (route.total_timeout) c.request_deadline_ns = ctx.start_ns + route.total_timeout->count();

  ctx.forward_target = ctx.target.path;
  if (ctx.target.has_query) ctx.forward_target.append("?").append(ctx.target.query);
  UpstreamRequest info;
  info.method = llhttp_method_name(head.method);
  info.target = ctx.forward_target;
  info.host = ctx.host;
  info.client_ip = c.client_ip;
  info.upgrade = head.upgrade;
  if (is_fill(ctx)) {
    info.drop_conditionals = true;
    info.extra_fields = ctx.cache.revalidation;
  }
  build_upstream_request(c.parser, info, ctx.upstream_head);

  // The head is copied out; from here only the body (if any) is read from `in`.
  const bool bodyless = !head.has_body();
  c.in.consume(c.head_size);
  if (bodyless) c.parser.parse(c.in.data(), 0);  // completes the message (or the upgrade)
  const bool can_replay = bodyless && is_idempotent(head.method);

  // One loop for every further attempt: a stale keep-alive connection is retried once on a
  // fresh one; a failed connect falls back to the next endpoint (nothing was sent); a reset
  // before the response head or a retryable status goes to a different endpoint when the
  // upstream's retry policy and budget allow it.
  limits::UpstreamPolicies& policies = *w.shared().upstream_policies[route.upstream];
  policies.budget.on_request();
  upstream::Excluded tried;
  Failure failure = Failure::none;
  int next_endpoint = -1;   // chosen by a retry decision
  int fresh_endpoint = -1;  // retry on a new connection to this endpoint
  bool retried = false;
  uint32_t retries_done = 0;
  Buffer ubuf;
  // Another endpoint for a retry of a failed attempt at `ep`, or -1.
  auto retry_target = [&](int ep, limits::AttemptFailure why, int status) {
    tried.add(ep);
    if (!can_replay) return -1;
    int other = balancer.pick(tried, upstream::mono_ns());
    if (other < 0 || !retry_allowed(policies, retries_done, why, status, true, true)) return -1;
    return other;
  };
  while (true) {
    int64_t now = upstream::mono_ns();
    int ep = fresh_endpoint >= 0  ? fresh_endpoint
             : next_endpoint >= 0 ? next_endpoint
                                  : balancer.pick(tried, now);
    next_endpoint = -1;
    if (ep < 0) break;
    ConnectionPtr conn = fresh_endpoint >= 0 ? nullptr : pool.take_idle(ep, now);
    fresh_endpoint = -1;
    auto& state = *up.endpoints[ep];
    if (!conn) {
      Failure why = Failure::none;
      int64_t mark = ctx.timing.on ? upstream::mono_ns() : 0;
      conn = co_await connect_new(c, pool, ep, route, why);
      ctx.timing.lap(ctx.timing.connect_ns, mark);
      if (!conn) {
        failure = why;
        if (why != Failure::slots_exhausted) {
          state.mark_down(*up.config, upstream::mono_ns());
          record_attempt(up, ep, limits::AttemptResult::failure, upstream::mono_ns());
          LOG_WARN("upstream %s endpoint %s: %s; marked down", up.config->name.c_str(),
                   state.name.c_str(), describe(why));
        }
        tried.add(ep);
        continue;
      }
    }
    ActiveRequest active(state.active_requests);
    const bool reused = conn->requests > 0;
    const int64_t sent_at = upstream::mono_ns();
    int64_t mark = sent_at;
    Failure f = Failure::none;
    if (bodyless) {  // the common case, written here: one coroutine frame less per request
      c.arm(Phase::transfer, idle_timeout(c, route), &conn->socket);
      auto [ec, n] =
          co_await asio::async_write(conn->socket, asio::buffer(ctx.upstream_head), use_nothrow);
      if (ec) f = Failure::upstream_io;
    } else {
      f = co_await send_request_with_body(c, ctx, *conn, route);
    }
    if (f == Failure::none) {
      // Called directly rather than through a wrapper: one coroutine frame less per request.
      c.arm(Phase::upstream_head, route.timeout, &conn->socket);
      f = head_failure(c,
                       co_await read_upstream_head(w, c.response_parser, conn->socket, ubuf,
                                                   head.method == HTTP_HEAD, c.response_head_size));
    }
    ctx.timing.lap(ctx.timing.upstream_ns, mark);
    if (f == Failure::upstream_io && reused && can_replay && !retried) {
      // The backend closed a kept-alive connection as we used it: once more, on a new one.
      retried = true;
      fresh_endpoint = ep;
      count_retry(w, route.upstream, ep);
      continue;
    }
    if (f != Failure::none) {
      const bool backend_failed = f == Failure::upstream_timeout || f == Failure::upstream_io;
      if (backend_failed) {
        if (ctx.permit) ctx.permit.record_drop();
        record_attempt(up, ep, limits::AttemptResult::failure, upstream::mono_ns());
      }
      if (f == Failure::upstream_io) {
        next_endpoint = retry_target(ep, limits::AttemptFailure::reset, 0);
        if (next_endpoint >= 0) {
          ++retries_done;
          count_retry(w, route.upstream, next_endpoint);
          co_await retry_pause(w, policies.retry, retries_done);
          continue;
        }
      }
      failure = f;
      ctx.upstream_name = state.name.c_str();
      break;
    }
    const int status = c.response_parser.head().status;
    const size_t metric_ep = w.shared().gateway_metrics->endpoint(route.upstream, ep);
    w.metrics().add(w.shared().gateway_metrics->upstreams().requests(metric_ep));
    state.mark_up();
    state.requests.fetch_add(1, std::memory_order_relaxed);
    const int64_t head_latency = upstream::mono_ns() - sent_at;
    balancer.observe(ep, head_latency);
    record_attempt(
        up, ep,
        status >= 500 ? limits::AttemptResult::server_error : limits::AttemptResult::success,
        upstream::mono_ns());
    if (retryable_status(policies.retry, status)) {
      next_endpoint = retry_target(ep, limits::AttemptFailure::status, status);
      if (next_endpoint >= 0) {
        // The answer is dropped unread, so its connection cannot be reused.
        conn.reset();
        ++retries_done;
        count_retry(w, route.upstream, next_endpoint);
        co_await retry_pause(w, policies.retry, retries_done);
        continue;
      }
    }
    if (ctx.permit) {
      if (status == 503 || status == 429)
        ctx.permit.record_drop();
      else
        ctx.permit.record(Duration(head_latency));
    }
    ctx.upstream_name = state.name.c_str();
    if (ctx.cache.enabled &&
        on_response_head(c, ctx, ubuf, c.response_head_size) == HeadVerdict::serve_entry) {
      // A 304 to a revalidation has no body: the connection stays reusable.
      auto end = c.response_parser.parse(ubuf.data() + c.response_head_size,
                                         ubuf.size() - c.response_head_size);
      if (status == 304 && end.status == http::ParseStatus::message_complete &&
          end.consumed == ubuf.size() - c.response_head_size &&
          c.response_parser.head().keep_alive) {
        ++conn->requests;
        pool.give_back(std::move(conn), upstream::mono_ns());
      }
      w.buffers().give(std::move(ubuf));
      c.disarm();
      co_return co_await serve_entry(
          c, ctx, status == 304 ? cache::CacheStatus::expired : cache::CacheStatus::stale);
    }
    bool reusable = false;
    mark = ctx.timing.on ? upstream::mono_ns() : 0;
    bool keep = co_await relay_response(c, ctx, *conn, ubuf, reusable);
    ctx.timing.lap(ctx.timing.transfer_ns, mark);
    w.metrics().observe(w.shared().gateway_metrics->upstreams().latency(metric_ep),
                        static_cast<double>(upstream::mono_ns() - sent_at) / 1e9);
    if (c.response_parser.head().status == 101 && head.upgrade && ctx.bytes_sent > 0) {
      // A tunnel may last for hours: it no longer counts against the admission limits.
      ctx.permit.release();
      ctx.route_slot = {};
      co_await tunnel(c, *conn, ubuf);
      keep = false;
    } else if (head.upgrade) {
      keep = false;  // the client may already be sending the new protocol
    }
    if (reusable) {
      ++conn->requests;
      pool.give_back(std::move(conn), upstream::mono_ns());
    }
    w.buffers().give(std::move(ubuf));
    c.disarm();
    co_return keep;
  }
  w.buffers().give(std::move(ubuf));
  c.disarm();
  if (failure == Failure::client_gone) co_return false;
  if (failure == Failure::none) failure = Failure::connect_refused;
  if (bodyless && stale_on_error(c, ctx))
    co_return co_await serve_entry(c, ctx, cache::CacheStatus::stale);
  int status = status_for(failure);
  LOG_ERROR("upstream %s: %s%s%s -> %d", up.config->name.c_str(), describe(failure),
            *ctx.upstream_name ? " at " : "", ctx.upstream_name, status);
  ctx.status = status;
  std::string body = "upstream " + up.config->name + ": " + describe(failure) + "\n";
  ctx.bytes_sent = body.size();
  bool keep = bodyless && head.keep_alive && !head.upgrade && !w.draining();
  bool ok = co_await c.send_simple(status, body, keep);
  co_return ok&& keep;
}

}  // namespace sluice::gateway
