#include "upstream/pool.hpp"
#include "common/async.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace sluice::upstream {
namespace {

// A connection idle for longer than this is probed before reuse: the backend may have closed it.
constexpr int64_t kProbeAfterIdleNs = 1'000'000'000;

bool still_open(TcpSocket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // EAGAIN: open and quiet. 0: closed by the peer. Data: an unsolicited response; unusable.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

ConnectionPool::ConnectionPool(asio::io_context& io, UpstreamState& upstream, size_t workers)
    : io_(io),
      upstream_(upstream),
      idle_(upstream.endpoints.size()),
      local_waiters_(upstream.endpoints.size(), 0),
      local_open_(upstream.endpoints.size(), 0),
      fair_share_(static_cast<uint32_t>((upstream.config->max_connections + workers - 1) /
                                        std::max<size_t>(1, workers))) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPtr ConnectionPool::take_idle(size_t endpoint, int64_t now) {
  auto& list = idle_[endpoint];
  while (!list.empty()) {
    ConnectionPtr c = std::move(list.back());
    list.pop_back();
    if (now - c->idle_since_ns > upstream_.config->idle_timeout.count()) continue;
    if (now - c->idle_since_ns > kProbeAfterIdleNs && !still_open(c->socket)) continue;
    return c;
  }
  return nullptr;
}

ConnectionPtr ConnectionPool::open(size_t endpoint) {
  EndpointState& ep = *upstream_.endpoints[endpoint];
  if (!ep.try_open_slot(upstream_.config->max_connections)) return nullptr;
  return std::make_unique<UpstreamConnection>(io_, ep, endpoint, local_open_[endpoint]);
}

void ConnectionPool::give_back(ConnectionPtr conn, int64_t now) {
  EndpointState& ep = *conn->state;
  // Another worker is starved of slots for this endpoint and this one holds more than its
  // share: free the slot instead of idling the connection.
  size_t i = conn->endpoint;
  if (ep.slot_waiters.load(std::memory_order_relaxed) > local_waiters_[i] &&
      local_open_[i] > fair_share_)
    return;
  conn->idle_since_ns = now;
  idle_[conn->endpoint].push_back(std::move(conn));
}

void ConnectionPool::sweep(int64_t now) {
  int64_t limit = upstream_.config->idle_timeout.count();
  for (auto& list : idle_) {
    // Oldest first: the front of the list has been idle longest.
    size_t expired = 0;
    while (expired < list.size() && now - list[expired]->idle_since_ns > limit)
      ++expired;
    if (expired) list.erase(list.begin(), list.begin() + expired);
  }
}

void ConnectionPool::yield_to_waiters() {
  for (size_t i = 0; i < idle_.size(); ++i) {
    auto& list = idle_[i];
    if (list.empty()) continue;
    if (upstream_.endpoints[i]->slot_waiters.load(std::memory_order_relaxed) <= local_waiters_[i])
      continue;
    // Oldest first; each close frees a slot for the waiting worker.
    size_t excess = local_open_[i] > fair_share_ ? local_open_[i] - fair_share_ : 0;
    size_t n = std::min(excess, list.size());
    if (n) list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

void ConnectionPool::close_idle() {
  for (auto& list : idle_)
    list.clear();
}

void ConnectionPool::add_waiter(size_t endpoint) {
  ++local_waiters_[endpoint];
  upstream_.endpoints[endpoint]->slot_waiters.fetch_add(1, std::memory_order_relaxed);
}

void ConnectionPool::remove_waiter(size_t endpoint) {
  --local_waiters_[endpoint];
  upstream_.endpoints[endpoint]->slot_waiters.fetch_sub(1, std::memory_order_relaxed);
}

size_t ConnectionPool::idle_count() const {
  size_t n = 0;
  for (const auto& l : idle_)
    n += l.size();
  return n;
}

}  // namespace sluice::upstream
