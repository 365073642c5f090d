#include "support/scripted_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/headers.hpp"
#include "http/parser.hpp"

namespace sluice::test {

std::string ReceivedRequest::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (http::iequals(k, name)) return v;
  return "";
}

int ReceivedRequest::count(const std::string& name) const {
  int n = 0;
  for (auto& [k, v] : headers)
    if (http::iequals(k, name)) ++n;
  return n;
}

ScriptedBackend::ScriptedBackend(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(listen_fd_, 512);
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ScriptedBackend::~ScriptedBackend() {
  kill();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ScriptedBackend::kill() {
  stopping_ = true;
  std::lock_guard lock(mu_);
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
  }
  for (int fd : fds_)
    ::shutdown(fd, SHUT_RDWR);
}

std::vector<ReceivedRequest> ScriptedBackend::requests() {
  std::lock_guard lock(mu_);
  return received_;
}

void ScriptedBackend::accept_loop() {
  int id = 0;
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    ++connections_;
    int now_open = ++open_;
    int seen = max_open_.load();
    while (now_open > seen && !max_open_.compare_exchange_weak(seen, now_open)) {
    }
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, cid = ++id] { serve(fd, cid); });
  }
  ::close(listen_fd_);
}

namespace {
bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += n;
  }
  return true;
}
}  // namespace

void ScriptedBackend::serve(int fd, int id) {
  std::string buf;
  char tmp[65536];
  auto fill = [&]() {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, n);
    return true;
  };
  bool open = true;
  while (open && !stopping_) {
    http::Parser parser(http::Parser::Kind::request, http::Limits{1 << 20, 1000, 1 << 20});
    // Accumulate the whole head first so slices stay valid.
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) {
        open = false;
        break;
      }
    if (!open) break;
    parser.start_message(buf.data());
    auto r = parser.parse(buf.data(), head_end + 4);
    if (r.status != http::ParseStatus::head_complete) break;
    ReceivedRequest req;
    req.connection = id;
    req.head = buf.substr(0, head_end + 4);
    req.method = llhttp_method_name(parser.head().method);
    req.target = std::string(parser.head().target.in(parser.base()));
    for (auto& h : parser.head().headers)
      req.headers.emplace_back(std::string(h.name.in(parser.base())),
                               std::string(h.value.in(parser.base())));
    bool upgrade = parser.head().upgrade;
    buf.erase(0, head_end + 4);
    // Body.
    while (true) {
      auto b = parser.parse(buf.data(), buf.size());
      for (auto s : parser.body_spans()) {
        req.body_bytes += s.size();
        if (req.body.size() < (1u << 20))
          req.body.append(s.substr(0, (1u << 20) - req.body.size()));
      }
      buf.erase(0, b.consumed);
      if (b.status == http::ParseStatus::message_complete || b.status == http::ParseStatus::upgrade)
        break;
      if (b.status == http::ParseStatus::error || !fill()) {
        open = false;
        break;
      }
    }
    if (!open) break;
    BackendReply reply = script_ ? script_(req) : BackendReply{};
    {
      std::lock_guard lock(mu_);
      received_.push_back(req);
    }
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    if (reply.close_no_reply) break;
    if (reply.no_reply) {
      while (!stopping_ && fill()) {
      }
      break;
    }
    if (reply.upgrade_echo && upgrade) {
      send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + req.header("upgrade") +
                       "\r\nConnection: Upgrade\r\n\r\n");
      if (!buf.empty()) send_all(fd, buf);
      while (fill()) {
        send_all(fd, buf);
        buf.clear();
      }
      break;
    }
    std::string raw =
        reply.raw.empty()
            ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            : reply.raw;
    if (!send_all(fd, raw)) break;
    if (reply.close_after) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard lock(mu_);
  --open_;
  std::erase(fds_, fd);
  ::close(fd);
}

}  // namespace sluice::test
