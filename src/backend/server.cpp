#include "backend/server.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "backend/gate.hpp"
#include "backend/routes.hpp"
#include "common/log.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"

// GCC 12 with sanitizers mistakes Asio's coroutine frame allocator for a new/delete mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sluice::backend {
namespace {

using asio::awaitable;
using asio::ip::tcp;
constexpr auto nothrow_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

constexpr size_t kInitialBuffer = 8 * 1024;
// The parser refuses heads over 64 KiB, so the buffer never needs to grow much past that.
constexpr size_t kMaxBuffer = 128 * 1024;
constexpr auto kLingerTime = std::chrono::milliseconds(200);
constexpr size_t kLingerBytes = 256 * 1024;

// "Date:" value, formatted at most once per second per thread.
std::string_view http_date() {
  thread_local time_t cached_second = 0;
  thread_local char text[40];
  time_t now = std::time(nullptr);
  if (now != cached_second) {
    tm t;
    gmtime_r(&now, &t);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &t);
    cached_second = now;
  }
  return text;
}

void busy_wait(Duration d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

struct Request {
  Route route;
  bool keep_alive = true;
  bool http10 = false;
  std::string if_none_match;
  uint64_t body_bytes = 0;
};

class Instance : public std::enable_shared_from_this<Instance> {
 public:
  Instance(asio::io_context& ctx, const Options& options, uint16_t port, uint64_t seed)
      : options_(options),
        port_(port),
        acceptor_(ctx),
        gate_(static_cast<size_t>(options.max_concurrency)),
        latency_(options.latency_dist, options.latency, seed) {}

  bool listen(const asio::ip::address& address, std::string& error) {
    tcp::endpoint endpoint(address, port_);
    asio::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) error = "cannot listen on port " + std::to_string(port_) + ": " + ec.message();
    return !ec;
  }

  void start() {
    asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), asio::detached);
  }

  // Only while the event loop is stopped.
  void close() {
    gate_.close();
    asio::error_code ec;
    acceptor_.close(ec);
  }

 private:
  static awaitable<void> accept_loop(std::shared_ptr<Instance> self) {
    while (self->acceptor_.is_open()) {
      auto [ec, socket] = co_await self->acceptor_.async_accept(nothrow_awaitable);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of descriptors, most likely: back off instead of spinning.
        LOG_WARN("backend %u: accept failed: %s", self->port_, ec.message().c_str());
        asio::steady_timer pause(self->acceptor_.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(nothrow_awaitable);
        continue;
      }
      ++self->connections_accepted_;
      asio::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::co_spawn(socket.get_executor(), serve_connection(self, std::move(socket)),
                     asio::detached);
    }
  }

  static awaitable<void> serve_connection(std::shared_ptr<Instance> self, tcp::socket socket) {
    ++self->connections_open_;
    co_await self->connection_loop(socket);
    --self->connections_open_;
  }

  awaitable<void> connection_loop(tcp::socket& socket) {
    std::vector<char> buf(kInitialBuffer);
    size_t len = 0;  // bytes in buf
    size_t pos = 0;  // bytes of buf already parsed
    std::optional<http::Parser> parser;
    parser.emplace(http::Parser::Kind::request);
    std::string out;
    while (true) {
      // Each message starts at the front of the buffer, so its head stays contiguous.
      if (pos > 0) {
        std::memmove(buf.data(), buf.data() + pos, len - pos);
        len -= pos;
        pos = 0;
      }
      parser->start_message(buf.data());
      bool head_done = false;
      while (!head_done) {
        if (pos == len) {
          if (len == buf.size()) {
            if (buf.size() >= kMaxBuffer) co_return;
            // Growing moves the head: parse it again from the new base with a fresh parser.
            buf.resize(buf.size() * 2);
            parser.emplace(http::Parser::Kind::request);
            parser->start_message(buf.data());
            pos = 0;
            continue;
          }
          auto [ec, n] = co_await socket.async_read_some(
              asio::buffer(buf.data() + len, buf.size() - len), nothrow_awaitable);
          if (ec) co_return;  // closed between or inside requests
          len += n;
          continue;
        }
        auto r = parser->parse(buf.data() + pos, len - pos);
        pos += r.consumed;
        if (r.status == http::ParseStatus::error) {
          co_await fail_and_close(socket, parser->error_status(), out);
          co_return;
        }
        head_done = r.status != http::ParseStatus::need_more;
      }

      Request req = read_head(*parser);
      if (parser->head().expect_continue && parser->head().has_body()) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] =
            co_await asio::async_write(socket, asio::buffer(kContinue), nothrow_awaitable);
        if (ec) co_return;
      }
      // The body is counted and dropped; the head's bytes are no longer needed either.
      while (!parser->message_done()) {
        auto r = parser->parse(buf.data() + pos, len - pos);
        pos += r.consumed;
        for (auto span : parser->body_spans())
          req.body_bytes += span.size();
        if (r.status == http::ParseStatus::error) {
          co_await fail_and_close(socket, parser->error_status(), out);
          co_return;
        }
        if (r.status == http::ParseStatus::upgrade) req.keep_alive = false;
        if (r.status != http::ParseStatus::need_more) break;
        pos = len = 0;
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf.data(), buf.size()),
                                                       nothrow_awaitable);
        if (ec) co_return;
        len = n;
      }

      out.clear();
      co_await handle(req, out);
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), nothrow_awaitable);
      if (ec) co_return;
      if (req.route.kind != RouteKind::stats) ++requests_served_;
      if (!req.keep_alive) {
        co_await linger_close(socket);
        co_return;
      }
    }
  }

  Request read_head(const http::Parser& parser) {
    const auto& head = parser.head();
    Request req;
    req.route = route_request(head.method, head.target.in(parser.base()));
    req.keep_alive = head.keep_alive && options_.keepalive;
    req.http10 = head.http10();
    if (req.route.kind == RouteKind::item) req.if_none_match = parser.header("if-none-match");
    return req;
  }

  awaitable<void> handle(const Request& req, std::string& out) {
    const Route& route = req.route;
    std::optional<ConcurrencyGate::Slot> slot;
    if (route.in_service()) {
      slot.emplace(co_await gate_.acquire());
      Duration service = route.kind == RouteKind::slow ? std::chrono::milliseconds(route.number)
                                                       : latency_.sample();
      service += options_.add_latency;
      if (options_.cpu_work.count() > 0) busy_wait(options_.cpu_work);
      if (service.count() > 0) {
        asio::steady_timer timer(acceptor_.get_executor(), service);
        co_await timer.async_wait(nothrow_awaitable);
      }
    }
    char body[160];
    switch (route.kind) {
      case RouteKind::item: {
        std::string etag = item_etag(route.item_id);
        std::string headers = "Cache-Control: public, max-age=60\r\nETag: " + etag + "\r\n";
        if (!req.if_none_match.empty() && etag_matches(req.if_none_match, etag))
          respond(req, 304, "", headers, out);
        else
          respond(req, 200, item_body(route.item_id), headers, out);
        break;
      }
      case RouteKind::order:
        std::snprintf(body, sizeof body, "{\"order_id\":%llu,\"received_bytes\":%llu}",
                      static_cast<unsigned long long>(++orders_),
                      static_cast<unsigned long long>(req.body_bytes));
        respond(req, 201, body, "Cache-Control: no-store\r\n", out);
        break;
      case RouteKind::slow:
        std::snprintf(body, sizeof body, "{\"slept_ms\":%d}", route.number);
        respond(req, 200, body, "Cache-Control: no-store\r\n", out);
        break;
      case RouteKind::status:
        std::snprintf(body, sizeof body, "{\"status\":%d}", route.number);
        respond(req, route.number, body, "Cache-Control: no-store\r\n", out);
        break;
      case RouteKind::health:
        respond(req, 200, "{\"status\":\"ok\"}", "Cache-Control: no-store\r\n", out);
        break;
      case RouteKind::stats:
        respond(req, 200, stats_json(), "Cache-Control: no-store\r\n", out);
        break;
      case RouteKind::bad_request:
        std::snprintf(body, sizeof body, "{\"error\":\"%s\"}", route.error);
        respond(req, 400, body, "", out);
        break;
      case RouteKind::method_not_allowed:
        respond(req, 405, "{\"error\":\"method not allowed\"}",
                std::string("Allow: ") + route.allow + "\r\n", out);
        break;
      case RouteKind::not_found:
        respond(req, 404, "{\"error\":\"not found\"}", "", out);
        break;
    }
  }

  void respond(const Request& req, int status, std::string_view body, std::string_view headers,
               std::string& out) const {
    const bool bodyless = status == 204 || status == 304;
    char line[256];
    int n = std::snprintf(line, sizeof line,
                          "HTTP/1.1 %d %.*s\r\nServer: sluice-backend\r\nDate: %.*s\r\n"
                          "X-Backend-Instance: %u\r\n",
                          status, static_cast<int>(http::status_reason(status).size()),
                          http::status_reason(status).data(), static_cast<int>(http_date().size()),
                          http_date().data(), port_);
    out.append(line, static_cast<size_t>(n));
    out.append(headers);
    if (!bodyless) {
      n = std::snprintf(line, sizeof line,
                        "Content-Type: application/json\r\nContent-Length: %zu\r\n", body.size());
      out.append(line, static_cast<size_t>(n));
    }
    if (!req.keep_alive)
      out.append("Connection: close\r\n");
    else if (req.http10)
      out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
    if (!bodyless && !req.route.head) out.append(body);
  }

  std::string stats_json() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "{\"instance\":%u,\"requests_served\":%llu,\"in_service\":%zu,\"queued\":%zu,"
                  "\"max_concurrency_observed\":%zu,\"max_concurrency\":%zu,"
                  "\"connections_accepted\":%llu,\"connections_open\":%llu,"
                  "\"latency_dist\":\"%s\",\"latency_mean_seconds\":%.6f}",
                  port_, static_cast<unsigned long long>(requests_served_), gate_.in_service(),
                  gate_.queued(), gate_.max_in_service(), gate_.limit(),
                  static_cast<unsigned long long>(connections_accepted_),
                  static_cast<unsigned long long>(connections_open_),
                  latency_dist_name(options_.latency_dist),
                  std::chrono::duration<double>(latency_.mean()).count());
    return buf;
  }

  awaitable<void> fail_and_close(tcp::socket& socket, int status, std::string& out) {
    Request req;
    req.keep_alive = false;
    out.clear();
    char body[64];
    std::snprintf(body, sizeof body, "{\"error\":\"malformed request\"}");
    respond(req, status >= 400 ? status : 400, body, "", out);
    co_await asio::async_write(socket, asio::buffer(out), nothrow_awaitable);
    co_await linger_close(socket);
  }

  // Closing with unread input would reset the connection and could destroy the response in
  // flight, so: shut down our side, then read what the peer still sends, briefly.
  awaitable<void> linger_close(tcp::socket& socket) {
    asio::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    asio::steady_timer deadline(socket.get_executor(), kLingerTime);
    deadline.async_wait([&socket](asio::error_code e) {
      asio::error_code ignored;
      if (!e) socket.close(ignored);
    });
    char sink[4096];
    for (size_t drained = 0; drained < kLingerBytes && socket.is_open();) {
      auto [err, n] = co_await socket.async_read_some(asio::buffer(sink), nothrow_awaitable);
      if (err) break;
      drained += n;
    }
    deadline.cancel();
    socket.close(ec);
  }

  const Options& options_;
  uint16_t port_;
  tcp::acceptor acceptor_;
  ConcurrencyGate gate_;
  LatencyModel latency_;
  uint64_t requests_served_ = 0;
  uint64_t connections_accepted_ = 0;
  uint64_t connections_open_ = 0;
  uint64_t orders_ = 0;
};

}  // namespace

int run_backend(const Options& options) {
  asio::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    std::fprintf(stderr, "sluice backend: --listen: '%s' is not an IP address\n",
                 options.host.c_str());
    return 2;
  }
  const int threads = std::min(options.threads, options.instances);
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (int i = 0; i < threads; ++i)
    contexts.push_back(std::make_unique<asio::io_context>(1));

  uint64_t seed = options.seed.value_or(std::random_device{}());
  std::vector<std::shared_ptr<Instance>> instances;
  for (int i = 0; i < options.instances; ++i) {
    auto port = static_cast<uint16_t>(options.first_port + i);
    auto inst = std::make_shared<Instance>(*contexts[i % threads], options, port, seed + i);
    std::string error;
    if (!inst->listen(address, error)) {
      std::fprintf(stderr, "sluice backend: %s\n", error.c_str());
      return 1;
    }
    instances.push_back(std::move(inst));
  }
  for (auto& inst : instances)
    inst->start();

  auto signals = std::make_unique<asio::signal_set>(*contexts[0], SIGINT, SIGTERM);
  signals->async_wait([&](asio::error_code e, int sig) {
    if (e) return;
    LOG_INFO("backend: signal %d, shutting down", sig);
    for (auto& ctx : contexts)
      ctx->stop();
  });
  LOG_INFO("backend: listening on %s ports %d..%d (latency %s %s, add %s, cpu %s, cap %d%s)",
           options.host.c_str(), options.first_port, options.first_port + options.instances - 1,
           latency_dist_name(options.latency_dist), format_duration(options.latency).c_str(),
           format_duration(options.add_latency).c_str(), format_duration(options.cpu_work).c_str(),
           options.max_concurrency, options.keepalive ? "" : ", no keep-alive");

  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i)
    workers.emplace_back([&ctx = *contexts[i]] { ctx.run(); });
  contexts[0]->run();
  for (auto& ctx : contexts)
    ctx->stop();
  for (auto& w : workers)
    w.join();

  // Teardown order: no gate may wake a waiter while the loops destroy the suspended coroutines.
  for (auto& inst : instances)
    inst->close();
  instances.clear();
  signals.reset();
  contexts.clear();
  return 0;
}

}  // namespace sluice::backend
