#include "gateway/admin.hpp"
#include "common/async.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "common/buffer.hpp"
#include "gateway/rewrite.hpp"
#include "http/parser.hpp"

namespace sluice::gateway {

using asio::ip::tcp;

AdminServer::AdminServer(const HostPort& address) : address_(address), acceptor_(io_) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::handle(std::string method, std::string path, Handler handler) {
  routes_.push_back({std::move(method), std::move(path), std::move(handler)});
}

AdminResponse AdminServer::dispatch(const AdminRequest& req) const {
  bool path_known = false;
  for (const auto& e : routes_) {
    if (e.path != req.path) continue;
    path_known = true;
    if (e.method.empty() || e.method == req.method) return e.handler(req);
  }
  if (path_known) return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

namespace {

Task<void> serve_admin_connection(TcpSocket socket, const AdminServer& server) {
  Buffer in(64 * 1024);
  http::Parser parser(http::Parser::Kind::request);
  std::string out;
  while (true) {
    in.compact();
    parser.start_message(in.data());
    size_t parsed = 0;
    bool complete = false;
    while (!complete) {
      if (parsed < in.size()) {
        auto r = parser.parse(in.data() + parsed, in.size() - parsed);
        parsed += r.consumed;
        if (r.status == http::ParseStatus::error) {
          build_simple_response(parser.error_status(), "text/plain", "bad request\n", false, out);
          co_await asio::async_write(socket, asio::buffer(out), use_nothrow);
          co_return;
        }
        if (r.status == http::ParseStatus::head_complete) {
          // Admin requests carry no meaningful body; read past one if sent.
          while (true) {
            auto b = parser.parse(in.data() + parsed, in.size() - parsed);
            parsed += b.consumed;
            if (b.status == http::ParseStatus::message_complete) break;
            if (b.status != http::ParseStatus::need_more) co_return;
            in.consume(parsed);
            parsed = 0;
            if (in.writable() == 0) in.compact();
            auto [ec, n] = co_await socket.async_read_some(
                asio::buffer(in.write_ptr(), in.writable()), use_nothrow);
            if (ec) co_return;
            in.commit(n);
          }
          complete = true;
          break;
        }
      }
      if (in.writable() == 0) co_return;
      auto [ec, n] =
          co_await socket.async_read_some(asio::buffer(in.write_ptr(), in.writable()), use_nothrow);
      if (ec) co_return;
      in.commit(n);
    }
    const auto& head = parser.head();
    std::string target(head.target.in(parser.base()));
    bool keep = head.keep_alive;
    size_t q = target.find('?');
    AdminRequest req;
    req.method = llhttp_method_name(head.method);
    req.path = std::string_view(target).substr(0, q);
    req.query =
        q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
    AdminResponse resp = server.dispatch(req);
    bool is_head = head.method == HTTP_HEAD;
    build_simple_response(resp.status, resp.content_type, is_head ? "" : resp.body, keep, out,
                          "Cache-Control: no-store\r\n");
    in.consume(parsed);
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), use_nothrow);
    if (ec || !keep) co_return;
  }
}

}  // namespace

void AdminServer::accept_next() {
  acceptor_.async_accept([this](asio::error_code ec, TcpSocket socket) {
    if (ec) return;
    asio::co_spawn(io_, serve_admin_connection(std::move(socket), *this), asio::detached);
    accept_next();
  });
}

void AdminServer::start() {
  acceptor_.open(address_.endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(address_.endpoint);
  acceptor_.listen();
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

}  // namespace sluice::gateway
