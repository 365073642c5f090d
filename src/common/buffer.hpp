// A byte buffer with a read and a write position, taken from and returned to a per-thread pool
// so that connections hold memory only while they have bytes in flight.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

namespace sluice {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t capacity) : data_(new char[capacity]), cap_(capacity) {}
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  bool allocated() const { return data_ != nullptr; }
  char* data() { return data_.get() + begin_; }
  const char* data() const { return data_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  size_t capacity() const { return cap_; }
  char* write_ptr() { return data_.get() + end_; }
  size_t writable() const { return cap_ - end_; }
  void commit(size_t n) { end_ += n; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }
  // Moves unread bytes to the front so the tail has room.
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // Grows to at least `capacity`, keeping unread bytes.
  void reserve(size_t capacity) {
    if (capacity <= cap_) return;
    std::unique_ptr<char[]> bigger(new char[capacity]);
    std::memcpy(bigger.get(), data(), size());
    end_ = size();
    begin_ = 0;
    data_ = std::move(bigger);
    cap_ = capacity;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Same-size buffers recycled within one thread.
class BufferPool {
 public:
  explicit BufferPool(size_t buffer_size, size_t keep = 1024) : size_(buffer_size), keep_(keep) {}
  Buffer take() {
    if (free_.empty()) return Buffer(size_);
    Buffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(Buffer&& b) {
    if (!b.allocated()) return;
    if (b.capacity() != size_ || free_.size() >= keep_) {
      b = Buffer();
      return;
    }
    b.clear();
    free_.push_back(std::move(b));
  }
  size_t buffer_size() const { return size_; }

 private:
  size_t size_;
  size_t keep_;
  std::vector<Buffer> free_;
};

}  // namespace sluice
