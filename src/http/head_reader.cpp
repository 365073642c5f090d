#include "http/head_reader.hpp"

#include <algorithm>

namespace sluice::http {

HeadReader::HeadReader(Parser& rp, Buffer& buf, BufferPool& pool, size_t max_capacity,
                       bool head_request)
    : rp_(rp), buf_(buf), max_capacity_(max_capacity) {
  rp.set_response_has_no_body(head_request);
  if (!buf.allocated()) buf = pool.take();
  buf.clear();
  rp.start_message(buf.data());
}

std::optional<HeadRead> HeadReader::step(size_t& head_size) {
  while (parsed_ < buf_.size()) {
    auto r = rp_.parse(buf_.data() + parsed_, buf_.size() - parsed_);
    parsed_ += r.consumed;
    if (r.status == ParseStatus::head_complete) {
      int status = rp_.head().status;
      if (status >= 200 || status == 101) {
        head_size = parsed_;
        return HeadRead::ok;
      }
      // An interim 1xx: skip it and read the final response.
      auto end = rp_.parse(buf_.data() + parsed_, buf_.size() - parsed_);
      parsed_ += end.consumed;
      buf_.consume(parsed_);
      parsed_ = 0;
      rp_.start_message(buf_.data());
      continue;
    }
    if (r.status == ParseStatus::error) return HeadRead::bad_response;
    break;
  }
  if (buf_.writable() == 0) {
    const char* before = buf_.data();
    buf_.compact();
    if (buf_.writable() == 0) {
      if (buf_.capacity() >= max_capacity_) return HeadRead::bad_response;
      buf_.reserve(std::min(max_capacity_, buf_.capacity() * 2));
    }
    if (buf_.data() != before) rp_.rebase(buf_.data());
  }
  return std::nullopt;
}

}  // namespace sluice::http
