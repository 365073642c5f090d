#include "gateway/client_connection.hpp"
#include "common/async.hpp"

#include <algorithm>
#include <cstring>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "common/log.hpp"
#include "gateway/pipeline.hpp"
#include "gateway/rewrite.hpp"

namespace sluice::gateway {

using asio::ip::tcp;

ClientConnection::ClientConnection(Worker& w, TcpSocket s)
    : worker(w),
      socket(std::move(s)),
      parser(http::Parser::Kind::request, w.config().server.limits),
      response_parser(http::Parser::Kind::response, w.config().server.limits) {
  asio::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto peer = socket.remote_endpoint(ec);
  client_ip = ec ? "unknown" : peer.address().to_string();
  if (!ec) {
    if (peer.address().is_v4())
      peer_address = limits::IpAddress::from_v4(peer.address().to_v4().to_uint());
    else
      std::memcpy(peer_address.bytes.data(), peer.address().to_v6().to_bytes().data(), 16);
  }
  worker.watch(*this);
  worker.add_connection(this);
}

ClientConnection::~ClientConnection() {
  worker.unwatch(*this);
  worker.remove_connection(this);
  release_in();
}

void ClientConnection::arm(Phase phase, Duration timeout, TcpSocket* upstream) {
  phase_ = phase;
  timed_out_ = false;
  deadline_ns = std::min(upstream::mono_ns() + timeout.count(), request_deadline_ns);
  upstream_socket_ = upstream;
}

void ClientConnection::disarm() {
  deadline_ns = INT64_MAX;
  upstream_socket_ = nullptr;
}

void ClientConnection::on_deadline() {
  timed_out_ = true;
  asio::error_code ec;
  socket.cancel(ec);
  if (upstream_socket_) upstream_socket_->cancel(ec);
}

void ClientConnection::on_drain() {
  // Only a connection waiting for its next request is closed; one mid-request finishes first.
  if (phase_ == Phase::idle) {
    asio::error_code ec;
    socket.cancel(ec);
  }
}

Task<bool> ClientConnection::send_simple(int status, std::string_view body, bool keep_alive,
                                         std::string_view extra_headers) {
  build_simple_response(status, "text/plain; charset=utf-8", body, keep_alive, scratch,
                        extra_headers);
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(scratch), use_nothrow);
  co_return !ec;
}

bool ClientConnection::finish_bodyless_request() {
  in.consume(head_size);
  return parser.parse(in.data(), 0).status == http::ParseStatus::message_complete;
}

bool ClientConnection::keeps_alive() const {
  const auto& server = worker.config().server;
  return parser.head().keep_alive && !worker.draining() &&
         (server.max_requests_per_connection == 0 ||
          requests_served < server.max_requests_per_connection);
}

void ClientConnection::release_in() {
  if (in.capacity() == worker.idle_buffers().buffer_size())
    worker.idle_buffers().give(std::move(in));
  else
    worker.buffers().give(std::move(in));
}

Task<size_t> ClientConnection::read_more(size_t max_capacity) {
  if (!in.allocated()) in = worker.buffers().take();
  if (in.writable() == 0) {
    in.compact();
    if (in.writable() == 0) {
      if (in.capacity() < worker.buffers().buffer_size()) {
        // Outgrew the idle buffer: move to a full-size one from the pool.
        Buffer bigger = worker.buffers().take();
        std::memcpy(bigger.write_ptr(), in.data(), in.size());
        bigger.commit(in.size());
        worker.idle_buffers().give(std::move(in));
        in = std::move(bigger);
      } else if (in.capacity() >= max_capacity) {
        co_return 0;
      } else {
        in.reserve(std::min(max_capacity, in.capacity() * 2));
      }
    }
  }
  auto [ec, n] =
      co_await socket.async_read_some(asio::buffer(in.write_ptr(), in.writable()), use_nothrow);
  if (ec) co_return 0;
  in.commit(n);
  co_return n;
}

Task<void> ClientConnection::reject(int status, std::string body) {
  request = RequestContext{};
  request.start_ns = upstream::mono_ns();
  request.status = status;
  request.bytes_sent = body.size();
  co_await send_simple(status, body, false);
  account(*this, request);
}

void ClientConnection::begin_head() {
  arm(Phase::head, worker.config().server.header_timeout);
  if (in.writable() < 2048) in.compact();
  parser.start_message(in.data());
  head_parsed_ = 0;
}

ClientConnection::HeadStep ClientConnection::parse_head() {
  if (head_parsed_ < in.size()) {
    auto r = parser.parse(in.data() + head_parsed_, in.size() - head_parsed_);
    head_parsed_ += r.consumed;
    if (r.status == http::ParseStatus::head_complete) {
      head_size = head_parsed_;
      return HeadStep::complete;
    }
    if (r.status == http::ParseStatus::error) return HeadStep::failed;
  }
  return HeadStep::need_more;
}

Task<ClientConnection::HeadResult> ClientConnection::read_head(HeadStep step) {
  const auto& server = worker.config().server;
  // Room for the largest allowed head plus one read's worth of what follows it.
  const size_t max_capacity = server.limits.max_header_bytes + worker.buffers().buffer_size();
  while (true) {
    if (step == HeadStep::complete) co_return HeadResult::ok;
    if (step == HeadStep::failed) {
      LOG_DEBUG("rejecting request from %s: %s", client_ip.c_str(), parser.error_reason());
      co_await reject(parser.error_status(), std::string(parser.error_reason()) + "\n");
      co_return HeadResult::rejected;
    }
    const char* before = in.data();
    size_t n = co_await read_more(max_capacity);
    if (in.data() != before) parser.rebase(in.data());
    if (n == 0) {
      if (timed_out_) {
        co_await reject(408, "request header timeout\n");
        co_return HeadResult::rejected;
      }
      if (in.writable() == 0 && in.capacity() >= max_capacity) {
        co_await reject(431, "header block too large\n");
        co_return HeadResult::rejected;
      }
      co_return HeadResult::closed;
    }
    step = parse_head();
  }
}

Task<void> ClientConnection::run() {
  auto self = shared_from_this();
  const auto& server = worker.config().server;
  bool linger = false;
  while (true) {
    if (in.empty()) {
      // Idle keep-alive: read into a small buffer. Reading (rather than waiting for
      // readability) keeps the socket's epoll registration as it is, saving a syscall per
      // request; most request heads fit, larger ones move to a full-size buffer.
      if (in.capacity() != worker.idle_buffers().buffer_size()) {
        release_in();
        in = worker.idle_buffers().take();
      }
      if (worker.draining()) break;
      arm(Phase::idle, server.keepalive_timeout);
      auto [ec, n] =
          co_await socket.async_read_some(asio::buffer(in.write_ptr(), in.writable()), use_nothrow);
      if (ec || timed_out_ || worker.draining()) break;
      in.commit(n);
    }
    // A head that arrived whole (the common case) is parsed without a coroutine frame.
    begin_head();
    HeadStep step = parse_head();
    HeadResult head = step == HeadStep::complete ? HeadResult::ok : co_await read_head(step);
    if (head != HeadResult::ok) {
      linger = head == HeadResult::rejected;
      break;
    }
    ++requests_served;
    bool keep = co_await handle_request(*this);
    if (!keep) {
      // The client may still be sending a body we did not read.
      linger = parser.head().has_body() || parser.head().upgrade;
      break;
    }
  }
  asio::error_code ec;
  socket.shutdown(TcpSocket::shutdown_send, ec);
  if (linger) co_await linger_close();
  disarm();
  socket.close(ec);
}

// Closing with unread bytes in the receive queue makes the kernel send a reset, which can
// destroy the response before the client reads it. So, after our last byte, read and discard
// for a short while, as nginx's lingering close does.
Task<void> ClientConnection::linger_close() {
  arm(Phase::transfer, std::chrono::seconds(1));
  if (!in.allocated()) in = worker.buffers().take();
  size_t discarded = 0;
  while (discarded < (1u << 20) && !timed_out_) {
    in.clear();
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(in.write_ptr(), in.writable()), use_nothrow);
    if (ec) break;
    discarded += n;
  }
  in.clear();
}

}  // namespace sluice::gateway
