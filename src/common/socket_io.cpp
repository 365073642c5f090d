#include "common/socket_io.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace sluice {

size_t send_now(TcpSocket& socket, std::span<const asio::const_buffer> buffers,
                asio::error_code& ec) {
  ec.clear();
  constexpr size_t kMaxIov = 64;  // as many as asio gathers into one write
  size_t sent = 0;
  while (!buffers.empty()) {
    iovec iov[kMaxIov];
    size_t count = std::min(buffers.size(), kMaxIov);
    size_t want = 0;
    for (size_t i = 0; i < count; ++i) {
      iov[i].iov_base = const_cast<void*>(buffers[i].data());
      iov[i].iov_len = buffers[i].size();
      want += buffers[i].size();
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(socket.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        ec = asio::error_code(errno, asio::error::get_system_category());
      return sent;
    }
    sent += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) return sent;
    buffers = buffers.subspan(count);
  }
  return sent;
}

void consume_buffers(std::vector<asio::const_buffer>& buffers, size_t n) {
  size_t whole = 0;
  while (whole < buffers.size() && buffers[whole].size() <= n) {
    n -= buffers[whole].size();
    ++whole;
  }
  buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(whole));
  if (n > 0 && !buffers.empty()) buffers.front() += n;
}

}  // namespace sluice
