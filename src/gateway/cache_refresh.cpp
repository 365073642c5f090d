#include "gateway/cache_refresh.hpp"
#include "common/async.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include <memory>
#include <utility>

#include "common/log.hpp"
#include "gateway/client_connection.hpp"
#include "gateway/proxy.hpp"
#include "gateway/rewrite.hpp"

namespace sluice::gateway {
namespace {

// One background fetch. It owns copies of the request, since the connection moves on to its
// next request at once, and a deadline the worker's tick enforces like a connection's.
struct RefreshJob : Watched {
  RefreshJob(Worker& worker, const http::Limits& limits)
      : w(worker), parser(http::Parser::Kind::response, limits) {}
  ~RefreshJob() override {
    w.unwatch(*this);
    w.buffers().give(std::move(ubuf));
  }
  void on_deadline() override {
    timed_out = true;
    asio::error_code ignored;
    if (socket) socket->cancel(ignored);
  }

  Worker& w;
  cache::RouteId route = 0;
  size_t upstream = 0;
  Duration timeout{0};
  cache::FillLease lease;
  std::shared_ptr<const cache::CachedResponse> stored;
  bool revalidating = false;
  std::string upstream_head;
  std::string method, host, path, query;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<cache::HeaderView> headers;
  cache::RequestView request;
  http::Parser parser;
  Buffer ubuf;
  std::string response_head;
  std::vector<cache::HeaderView> response_headers;
  std::string body;
  TcpSocket* socket = nullptr;
  bool timed_out = false;
};

// Reads the body after the head into job.body; false when it failed or outgrew the limit.
Task<bool> read_body(RefreshJob& job, uint64_t limit, bool& reusable) {
  reusable = false;
  while (true) {
    auto r = job.parser.parse(job.ubuf.data(), job.ubuf.size());
    if (r.status == http::ParseStatus::error) co_return false;
    for (auto s : job.parser.body_spans())
      job.body.append(s);
    if (job.body.size() > limit) co_return false;
    job.ubuf.consume(r.consumed);
    if (r.status == http::ParseStatus::message_complete) {
      reusable = job.parser.head().keep_alive && !job.parser.body_until_close() && job.ubuf.empty();
      co_return true;
    }
    if (job.ubuf.writable() == 0) job.ubuf.compact();
    auto [ec, n] = co_await job.socket->async_read_some(
        asio::buffer(job.ubuf.write_ptr(), job.ubuf.writable()), use_nothrow);
    if (ec)
      co_return ec == asio::error::eof&& job.parser.body_until_close() &&
          job.parser.finish().status == http::ParseStatus::message_complete;
    job.ubuf.commit(n);
  }
}

Task<void> run_refresh(std::unique_ptr<RefreshJob> job) {
  Worker& w = job->w;
  cache::ResponseCache& rc = *w.shared().cache;
  auto& pool = w.pool(job->upstream);
  const int64_t now = upstream::mono_ns();
  int ep = w.balancer(job->upstream).pick(upstream::Excluded{}, now);
  if (ep < 0) co_return;  // the lease gives the fill up
  job->deadline_ns = now + job->timeout.count();
  upstream::ConnectionPtr conn = pool.take_idle(ep, now);
  if (!conn) {
    conn = pool.open(ep);
    if (!conn) co_return;
    job->socket = &conn->socket;
    auto [ec] = co_await conn->socket.async_connect(
        w.shared().upstreams[job->upstream]->endpoints[ep]->address.endpoint, use_nothrow);
    if (ec) co_return;
    asio::error_code ignored;
    conn->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  job->socket = &conn->socket;
  auto [wec, wn] =
      co_await asio::async_write(conn->socket, asio::buffer(job->upstream_head), use_nothrow);
  if (wec) co_return;
  size_t head_size = 0;
  HeadRead hr = co_await read_upstream_head(w, job->parser, conn->socket, job->ubuf,
                                            job->method == "HEAD", head_size);
  if (hr != HeadRead::ok) co_return;

  const auto& head = job->parser.head();
  job->response_head.assign(job->ubuf.data(), head_size);
  cache::collect_headers(head, job->response_head.data(), job->response_headers);
  cache::ResponseView resp{head.status, head.reason.in(job->response_head.data()),
                           job->response_headers};
  job->ubuf.consume(head_size);
  bool reusable = false;
  if (head.status == 304 && job->revalidating) {
    rc.refresh(job->lease, job->route, job->request, *job->stored, resp, cache::Clock::now());
    auto end = job->parser.parse(job->ubuf.data(), job->ubuf.size());
    reusable = end.status == http::ParseStatus::message_complete && head.keep_alive &&
               end.consumed == job->ubuf.size();
  } else {
    auto decision =
        rc.storable(job->route, job->request, resp, head.content_length, cache::Clock::now());
    if (!decision.store) {
      job->lease.abandon(cache::FillStatus::uncacheable);
      co_return;
    }
    if (!co_await read_body(*job, rc.route(job->route).max_object_size, reusable)) co_return;
    rc.store(job->lease, job->route, job->request, resp, job->body, decision, cache::Clock::now());
  }
  job->socket = nullptr;
  job->deadline_ns = INT64_MAX;
  if (reusable) {
    ++conn->requests;
    pool.give_back(std::move(conn), upstream::mono_ns());
  }
}

}  // namespace

void refresh_in_background(ClientConnection& conn, RequestContext& ctx, cache::FillLease lease) {
  Worker& w = conn.worker;
  const RouteConfig& route = w.config().routes[ctx.route];
  auto job = std::make_unique<RefreshJob>(w, w.config().server.limits);
  const CacheExchange& x = ctx.cache;
  job->route = static_cast<cache::RouteId>(ctx.route);
  job->upstream = route.upstream;
  job->timeout = route.timeout;
  job->lease = std::move(lease);
  job->stored = x.lookup.entry;
  job->method = x.request.method;
  job->host = x.request.host;
  job->path = x.request.path;
  job->query = x.request.query;
  for (const auto& h : x.request_headers)
    job->fields.emplace_back(h.name, h.value);
  for (const auto& [name, value] : job->fields)
    job->headers.push_back({name, value});
  job->request = {job->method, job->host, job->path, job->query, job->headers};

  std::string target = job->path;
  if (ctx.target.has_query) target.append("?").append(job->query);
  std::string validators = job->stored ? cache::revalidation_fields(*job->stored) : std::string();
  job->revalidating = !validators.empty();
  UpstreamRequest info;
  info.method = job->method;
  info.target = target;
  info.host = job->host;
  info.client_ip = conn.client_ip;
  info.drop_conditionals = true;
  info.extra_fields = validators;
  build_upstream_request(conn.parser, info, job->upstream_head);

  w.watch(*job);
  asio::co_spawn(w.io(), run_refresh(std::move(job)), asio::detached);
}

}  // namespace sluice::gateway
