// Writes that skip the event loop when the socket takes all the bytes at once, which is almost
// always the case for a request or response head: an asynchronous write would still complete at
// once, but only after a trip through the scheduler and a coroutine frame of its own.
#pragma once

#include <asio/buffer.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

#include "common/async.hpp"

namespace sluice {

// Sends what the socket takes now, without waiting. Returns the bytes sent; `ec` is set on an
// error other than would-block.
size_t send_now(TcpSocket& socket, std::span<const asio::const_buffer> buffers,
                asio::error_code& ec);

inline size_t send_now(TcpSocket& socket, asio::const_buffer buffer, asio::error_code& ec) {
  return send_now(socket, std::span<const asio::const_buffer>(&buffer, 1), ec);
}

// Drops the first `n` bytes of a gather list (after a partial send).
void consume_buffers(std::vector<asio::const_buffer>& buffers, size_t n);

inline size_t buffers_size(std::span<const asio::const_buffer> buffers) {
  size_t n = 0;
  for (const auto& b : buffers)
    n += b.size();
  return n;
}

}  // namespace sluice
