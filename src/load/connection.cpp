// One client connection: connect, write a request, read its response, record, repeat.
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "http/headers.hpp"
#include "load/worker.hpp"

namespace sluice::load {
namespace {
constexpr size_t kReadBuffer = 32 * 1024;  // untouched pages cost no memory
}

Connection::Connection(Worker& w) : w_(w), sock_(w.io_), rbuf_(new char[kReadBuffer]) {
  wbuf_.reserve(512);
}

void Connection::issue(int64_t intended_ns) {
  busy_ = true;
  retired_ = false;
  timed_out_ = false;
  intended_ = intended_ns;
  started_ = now_ns();
  req_ = w_.pick_request();
  const RequestSpec& spec = w_.plan_.requests[req_];
  if (spec.constant) {
    out_ = &spec.prerendered;
  } else {
    render_request(spec, w_.plan_.target, !w_.plan_.opts.keepalive, w_.rng_, wbuf_, scratch_);
    out_ = &wbuf_;
  }
  if (connected_)
    write();
  else
    connect();
}

void Connection::warm_up() {
  parser_.emplace(http::Parser::Kind::response);
  busy_ = true;
  sock_.async_connect(w_.plan_.endpoint, [this](const asio::error_code& ec) {
    busy_ = false;
    if (ec) {
      close();  // tried again when a request needs it
    } else {
      asio::error_code ignored;
      sock_.set_option(asio::ip::tcp::no_delay(true), ignored);
      connected_ = true;
    }
    --w_.warming_;
  });
}

void Connection::connect() {
  parser_.emplace(http::Parser::Kind::response);
  int64_t connect_start = now_ns();
  ++w_.connecting_;
  sock_.async_connect(w_.plan_.endpoint, [this, connect_start](const asio::error_code& ec) {
    --w_.connecting_;
    if (ec) {
      if (timed_out_) return fail(ErrorKind::timeout);
      return fail(ec == asio::error::connection_refused ? ErrorKind::connect_refused
                                                        : ErrorKind::connect_error);
    }
    asio::error_code ignored;
    sock_.set_option(asio::ip::tcp::no_delay(true), ignored);
    connected_ = true;
    w_.stats_.connect.record(static_cast<uint64_t>(now_ns() - connect_start));
    write();
  });
}

void Connection::write() {
  sent_ = now_ns();
  fill_ = pos_ = 0;
  status_ = 0;
  parser_->set_response_has_no_body(w_.plan_.requests[req_].method == "HEAD");
  parser_->start_message(rbuf_.get());
  asio::async_write(sock_, asio::buffer(*out_), [this](const asio::error_code& ec, size_t n) {
    if (ec) {
      if (timed_out_) return fail(ErrorKind::timeout);
      return fail(ec == asio::error::connection_reset || ec == asio::error::broken_pipe
                      ? ErrorKind::reset
                      : ErrorKind::closed);
    }
    w_.stats_.bytes_out += n;
    read();
  });
}

void Connection::read() {
  sock_.async_read_some(
      asio::buffer(rbuf_.get() + fill_, kReadBuffer - fill_),
      [this](const asio::error_code& ec, size_t n) {
        if (!ec) return on_read(n);
        if (timed_out_) return fail(ErrorKind::timeout);
        if (ec == asio::error::eof && parser_->head_done() && parser_->body_until_close()) {
          if (parser_->finish().status == http::ParseStatus::message_complete) {
            keep_alive_ = false;
            return complete();
          }
        }
        fail(ec == asio::error::connection_reset ? ErrorKind::reset : ErrorKind::closed);
      });
}

void Connection::on_read(size_t n) {
  w_.stats_.bytes_in += n;
  w_.stats_.sec_bytes += n;
  fill_ += n;
  while (true) {
    auto r = parser_->parse(rbuf_.get() + pos_, fill_ - pos_);
    pos_ += r.consumed;
    switch (r.status) {
      case http::ParseStatus::head_complete: {
        const auto& head = parser_->head();
        status_ = head.status;
        keep_alive_ = head.keep_alive;
        std::string_view cache = parser_->header("x-cache");
        if (!cache.empty()) {
          if (cache.size() >= 3 && http::iequals(cache.substr(0, 3), "hit"))
            ++w_.stats_.cache_hits;
          else
            ++w_.stats_.cache_misses;
        }
        continue;
      }
      case http::ParseStatus::message_complete:
        return complete();
      case http::ParseStatus::need_more:
        // Body bytes are not kept: once the head is parsed the buffer can be reused.
        if (parser_->head_done())
          fill_ = pos_ = 0;
        else if (fill_ == kReadBuffer)
          return fail(ErrorKind::protocol);
        return read();
      case http::ParseStatus::upgrade:
      case http::ParseStatus::error:
        return fail(ErrorKind::protocol);
    }
  }
}

void Connection::complete() {
  int64_t done = now_ns();
  auto& s = w_.stats_;
  uint64_t latency = static_cast<uint64_t>(done - intended_);
  s.latency.record(latency);
  s.interval.record(latency);
  s.service.record(static_cast<uint64_t>(done - sent_));
  ++s.requests;
  ++s.sec_requests;
  s.statuses[status_ >= 0 && status_ < 600 ? status_ : 0]++;
  const RequestSpec& spec = w_.plan_.requests[req_];
  bool ok;
  ErrorKind kind = ErrorKind::non_2xx;
  if (!spec.expect.empty()) {
    ok = false;
    for (int e : spec.expect)
      ok = ok || e == status_;
    kind = ErrorKind::check_failed;
  } else {
    ok = status_ >= 200 && status_ < 300;
  }
  if (!ok) {
    ++s.errors;
    ++s.sec_errors;
    ++s.error_kinds[static_cast<int>(kind)];
    s.live_errors.fetch_add(1, std::memory_order_relaxed);
  }
  if (auto& n = s.by_name[req_]) {
    ++n->requests;
    n->errors += ok ? 0 : 1;
    n->latency.record(latency);
  }
  s.live_requests.fetch_add(1, std::memory_order_relaxed);
  busy_ = false;
  if (!keep_alive_ || !w_.plan_.opts.keepalive) close();
  w_.on_done(this, false);
}

void Connection::fail(ErrorKind kind) {
  auto& s = w_.stats_;
  ++s.requests;
  ++s.sec_requests;
  ++s.errors;
  ++s.sec_errors;
  ++s.error_kinds[static_cast<int>(kind)];
  if (auto& n = s.by_name[req_]) {
    ++n->requests;
    ++n->errors;
  }
  s.live_requests.fetch_add(1, std::memory_order_relaxed);
  s.live_errors.fetch_add(1, std::memory_order_relaxed);
  busy_ = false;
  close();
  w_.on_done(this, kind == ErrorKind::connect_refused || kind == ErrorKind::connect_error);
}

void Connection::close() {
  asio::error_code ignored;
  sock_.close(ignored);
  connected_ = false;
}

void Connection::retire() {
  retired_ = true;
  close();
}

void Connection::expire_if_started_before(int64_t deadline_ns) {
  if (busy_ && !timed_out_ && started_ < deadline_ns) {
    timed_out_ = true;
    asio::error_code ignored;
    sock_.cancel(ignored);
    sock_.close(ignored);
    connected_ = false;
  }
}

}  // namespace sluice::load
