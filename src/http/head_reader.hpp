// Reading a response head into a buffer in steps between socket reads, so that the caller waits
// for bytes in its own coroutine frame; interim 1xx answers are skipped.
#pragma once

#include <asio/buffer.hpp>

#include <cstddef>
#include <optional>
#include <system_error>

#include "common/buffer.hpp"
#include "http/parser.hpp"

namespace sluice::http {

enum class HeadRead {
  ok,                      // the final (or 101) response head; `head_size` bytes of the buffer
  bad_response,            // unparseable or over the header limit
  closed_before_response,  // the read failed (closed, reset, cancelled) before any byte
  closed_in_head,          // ... after some bytes
};

class HeadReader {
 public:
  // `buf` is taken from `pool` when empty and may grow up to `max_capacity`.
  HeadReader(Parser& rp, Buffer& buf, BufferPool& pool, size_t max_capacity, bool head_request);

  // Parses what was read: the outcome, or nullopt when more bytes are needed (room() has space).
  std::optional<HeadRead> step(size_t& head_size);
  asio::mutable_buffer room() { return asio::buffer(buf_.write_ptr(), buf_.writable()); }
  // A read ended: the outcome when it failed, else nullopt.
  std::optional<HeadRead> on_read(const std::error_code& ec, size_t n) {
    if (ec) return any_bytes_ ? HeadRead::closed_in_head : HeadRead::closed_before_response;
    any_bytes_ = true;
    buf_.commit(n);
    return std::nullopt;
  }

 private:
  Parser& rp_;
  Buffer& buf_;
  const size_t max_capacity_;
  size_t parsed_ = 0;
  bool any_bytes_ = false;
};

}  // namespace sluice::http
