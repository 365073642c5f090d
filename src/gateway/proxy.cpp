#include "gateway/proxy.hpp"
#include "common/async.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <optional>
#include <span>

#include "common/log.hpp"
#include "common/socket_io.hpp"
#include "gateway/cache_phase.hpp"
#include "gateway/client_connection.hpp"
#include "gateway/rewrite.hpp"
#include "gateway/upstream_feedback.hpp"
#include "http/head_reader.hpp"

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

// Room for the largest allowed head plus one read's worth of what follows it.
size_t max_head_buffer(Worker& w) {
  return w.config().server.limits.max_header_bytes + w.buffers().buffer_size();
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

// Relaying one response: the state the steps between waits share.
struct Relay {
  bool keep_alive = false;  // toward the client, after this response
  bool chunked = false;     // re-chunked toward the client
  bool done = false;        // the body's end is in the gather list
  bool complete = false;    // ... and the message ended (rather than turning into a tunnel)
  size_t consumed = 0;      // bytes of ubuf the gather list points into
  uint64_t sent = 0;        // bytes of the gather list already written
};
enum class RelayStep { failed, finished, write_rest, read_more };

// Writes the response head for the client (its upstream head is at the front of ubuf) into
// the gather list.
Relay begin_relay(ClientConnection& c, RequestContext& ctx, Buffer& ubuf) {
  const auto& rp = c.response_parser;
  const auto& req = c.parser.head();
  const auto& resp = rp.head();
  ClientResponse info;
  info.request_was_head = req.method == HTTP_HEAD;
  info.client_http10 = req.http10();
  info.keep_alive = c.keeps_alive();
  if (ctx.cache.enabled && c.worker.shared().cache->global().strip_tag_headers)
    info.drop_fields = c.worker.shared().cache->global().tag_headers;
  BodyFraming framing = choose_framing(resp, info);
  if (framing == BodyFraming::until_close) info.keep_alive = false;
  build_client_response(rp, info, framing, c.scratch, ctx.rate_limit_headers(), ctx.x_cache);
  ctx.status = resp.status;
  ubuf.consume(c.response_head_size);
  c.gather.clear();
  c.gather.emplace_back(c.scratch.data(), c.scratch.size());
  Relay r;
  r.keep_alive = info.keep_alive;
  r.chunked = framing == BodyFraming::chunked;
  return r;
}

// After the gather list was written: drops the relayed bytes, and ends or asks for more.
RelayStep after_write(ClientConnection& c, RequestContext& ctx, Buffer& ubuf, Relay& r) {
  ubuf.consume(r.consumed);
  if (r.done) {
    if (r.complete) on_response_complete(c, ctx);
    return RelayStep::finished;
  }
  if (ubuf.writable() == 0) ubuf.compact();
  return RelayStep::read_more;
}

// Parses the body bytes in ubuf, adds them to the gather list and writes it as far as the
// client's socket takes it without waiting.
RelayStep relay_step(ClientConnection& c, RequestContext& ctx, Buffer& ubuf, Relay& r) {
  auto& rp = c.response_parser;
  auto p = rp.parse(ubuf.data(), ubuf.size());
  if (p.status == http::ParseStatus::error) return RelayStep::failed;
  gather_body(c, rp.body_spans(), r.chunked);
  if (ctx.cache.capturing) capture_body(ctx, rp.body_spans());
  r.complete = p.status == http::ParseStatus::message_complete;
  r.done = r.complete || p.status == http::ParseStatus::upgrade;
  if (r.done && r.chunked) c.gather.emplace_back(kLastChunk.data(), kLastChunk.size());
  r.consumed = p.consumed;
  if (!c.gather.empty()) {
    asio::error_code ec;
    size_t n = send_now(c.socket, gathered(c), ec);
    if (ec) return RelayStep::failed;
    r.sent += n;
    if (n < buffers_size(gathered(c))) {
      consume_buffers(c.gather, n);
      return RelayStep::write_rest;
    }
    ctx.bytes_sent += r.sent;
    r.sent = 0;
    c.gather.clear();
  }
  return after_write(c, ctx, ubuf, r);
}

// The rest of a relay that has to wait: for the client to take bytes, or for more of the body.
// Returns whether the response was relayed whole.
Task<bool> relay_rest(ClientConnection& c, RequestContext& ctx, UpstreamConnection& u, Buffer& ubuf,
                      Relay& r, RelayStep step) {
  const Duration idle = idle_timeout(c, c.worker.config().routes[ctx.route]);
  auto& rp = c.response_parser;
  while (true) {
    if (step == RelayStep::write_rest) {
      c.arm(Phase::transfer, idle, &u.socket);
      auto [ec, n] = co_await asio::async_write(c.socket, gathered(c), use_nothrow);
      if (ec) co_return false;
      ctx.bytes_sent += r.sent + n;
      r.sent = 0;
      c.gather.clear();
      step = after_write(c, ctx, ubuf, r);
    }
    if (step != RelayStep::read_more) co_return step == RelayStep::finished;
    c.arm(Phase::transfer, idle, &u.socket);
    auto [ec, n] = co_await u.socket.async_read_some(
        asio::buffer(ubuf.write_ptr(), ubuf.writable()), use_nothrow);
    if (ec) {
      if (ec == asio::error::eof && rp.body_until_close() &&
          rp.finish().status == http::ParseStatus::message_complete) {
        on_response_complete(c, ctx);
        if (r.chunked) {
          auto [wec, wn] =
              co_await asio::async_write(c.socket, asio::buffer(kLastChunk), use_nothrow);
          ctx.bytes_sent += wn;
          if (wec) co_return false;
        }
        co_return true;  // a read-until-close body: the connection is not reused
      }
      co_return false;  // truncated response: the client must not mistake it for a whole one
    }
    ubuf.commit(n);
    step = relay_step(c, ctx, ubuf, r);
  }
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
  http::HeadReader reader(rp, ubuf, w.buffers(), max_head_buffer(w), head_request);
  while (true) {
    if (auto r = reader.step(head_size)) co_return *r;
    auto [ec, n] = co_await socket.async_read_some(reader.room(), use_nothrow);
    if (auto r = reader.on_read(ec, n)) co_return *r;
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
    const bool connecting = !conn;
    if (connecting) {
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
    // Without a connect since `now`, the clock need not be read again.
    const int64_t sent_at = connecting ? upstream::mono_ns() : now;
    int64_t mark = sent_at;
    Failure f = Failure::none;
    if (bodyless) {  // the common case, written here: one coroutine frame less per request
      // The socket almost always takes the whole head at once; wait only for what it did not.
      asio::error_code ec;
      size_t n = send_now(conn->socket, asio::buffer(ctx.upstream_head), ec);
      if (ec || n < ctx.upstream_head.size()) {
        c.arm(Phase::transfer, idle_timeout(c, route), &conn->socket);
        if (!ec)
          std::tie(ec, n) = co_await asio::async_write(
              conn->socket, asio::buffer(ctx.upstream_head) + n, use_nothrow);
      }
      if (ec) f = Failure::upstream_io;
    } else {
      f = co_await send_request_with_body(c, ctx, *conn, route);
    }
    if (f == Failure::none) {
      // Read here rather than through read_upstream_head: one coroutine frame less per request.
      c.arm(Phase::upstream_head, route.timeout, &conn->socket);
      http::HeadReader reader(c.response_parser, ubuf, w.buffers(), max_head_buffer(w),
                              head.method == HTTP_HEAD);
      std::optional<HeadRead> hr = reader.step(c.response_head_size);
      // The backend cannot have answered yet: a read now would find nothing and cost a failed
      // recv before waiting. Letting the worker's other ready handlers run first gives it that
      // time, so under load the first read mostly finds the response (bench/proxy.sh: +7%).
      if (!hr) co_await asio::post(w.io().get_executor(), asio::use_awaitable_t<Executor>{});
      while (!hr) {
        auto [ec, n] = co_await conn->socket.async_read_some(reader.room(), use_nothrow);
        hr = reader.on_read(ec, n);
        if (!hr) hr = reader.step(c.response_head_size);
      }
      f = head_failure(c, *hr);
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
    const int64_t head_at = upstream::mono_ns();
    const int64_t head_latency = head_at - sent_at;
    balancer.observe(ep, head_latency);
    record_attempt(
        up, ep,
        status >= 500 ? limits::AttemptResult::server_error : limits::AttemptResult::success,
        head_at);
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
    mark = ctx.timing.on ? upstream::mono_ns() : 0;
    // A response that is in ubuf whole and that the client's socket takes at once is relayed
    // without waiting; only the rest goes through relay_rest.
    Relay relay = begin_relay(c, ctx, ubuf);
    RelayStep step = relay_step(c, ctx, ubuf, relay);
    bool relayed = step == RelayStep::finished;
    if (step == RelayStep::write_rest || step == RelayStep::read_more)
      relayed = co_await relay_rest(c, ctx, *conn, ubuf, relay, step);
    const auto& resp = c.response_parser.head();
    bool keep = relayed && relay.keep_alive;
    const bool reusable = relayed && resp.keep_alive && !c.response_parser.body_until_close() &&
                          ubuf.empty() && resp.status != 101;
    ctx.timing.lap(ctx.timing.transfer_ns, mark);
    const int64_t relayed_at = upstream::mono_ns();
    w.metrics().observe(w.shared().gateway_metrics->upstreams().latency(metric_ep),
                        static_cast<double>(relayed_at - sent_at) / 1e9);
    if (c.response_parser.head().status == 101 && head.upgrade && ctx.bytes_sent > 0) {
      // A tunnel may last for hours: it no longer counts against the admission limits.
      ctx.permit.release();
      ctx.route_slot = {};
      co_await tunnel(c, *conn, ubuf);
      keep = false;
    } else if (head.upgrade) {
      keep = false;  // the client may already be sending the new protocol
    }
    if (reusable) {  // never after a tunnel, so relayed_at is still current
      ++conn->requests;
      pool.give_back(std::move(conn), relayed_at);
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
