// Incremental HTTP/1.1 message parser over llhttp, strict enough to rule out request smuggling.
//
// The head (start line and header fields) is recorded as offsets into the caller's buffer, which
// must keep the head bytes contiguous from `start_message(base)` until the head is complete. The
// body is reported as spans into the bytes of the current `parse` call, valid until the caller
// changes the buffer. The parser pauses after the head and after each message, so pipelined
// messages are handled one at a time.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "http/headers.hpp"

namespace sluice::http {

// A range of bytes relative to the head buffer's base.
struct Slice {
  uint32_t off = 0;
  uint32_t len = 0;
  std::string_view in(const char* base) const { return {base + off, len}; }
};

struct HeaderField {
  Slice name;
  Slice value;  // without leading and trailing blanks
  Field field = Field::other;
};

struct MessageHead {
  llhttp_method_t method = HTTP_GET;
  Slice target;  // request target as sent
  int status = 0;
  Slice reason;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  std::vector<HeaderField> headers;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;  // after this message, by the message's own version and Connection
  bool upgrade = false;    // request asks for a protocol switch / response is 101
  bool expect_continue = false;
  uint32_t head_bytes = 0;

  bool http10() const { return version_major == 1 && version_minor == 0; }
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

struct Limits {
  uint32_t max_header_bytes = 64 * 1024;
  uint32_t max_header_count = 100;
  uint32_t max_request_line = 8 * 1024;
};

enum class ParseStatus {
  need_more,         // every byte consumed, message not finished
  head_complete,     // paused right after the head; head() is ready
  message_complete,  // paused after the last byte of the message
  upgrade,           // message done; the bytes after `consumed` belong to another protocol
  error,             // see error_status() and error_reason(); the connection must close
};

struct ParseResult {
  ParseStatus status;
  size_t consumed;
};

class Parser {
 public:
  enum class Kind { request, response };
  explicit Parser(Kind kind, Limits limits = {});
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Begins a new message whose head bytes start at `base`.
  void start_message(const char* base);
  // The caller moved the head bytes (buffer grown or compacted); offsets stay valid.
  void rebase(const char* base) { base_ = base; }
  // For a response parser: the request was HEAD (or the answer otherwise has no body).
  void set_response_has_no_body(bool v) { no_body_ = v; }

  ParseResult parse(const char* data, size_t len);
  // Tells the parser the peer closed: completes a read-until-close response body.
  ParseResult finish();

  const MessageHead& head() const { return head_; }
  const char* base() const { return base_; }
  std::string_view header(std::string_view name) const;  // first value, case-insensitive
  std::span<const std::string_view> body_spans() const { return body_spans_; }
  bool head_done() const { return head_done_; }
  bool message_done() const { return message_done_; }
  bool body_until_close() const { return until_close_; }
  int error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }

 private:
  friend struct ParserCallbacks;
  int fail(int status, const char* reason);
  int on_headers_complete();
  int validate_framing();

  llhttp_t parser_{};
  Kind kind_;
  Limits limits_;
  const char* base_ = nullptr;
  MessageHead head_;
  std::vector<std::string_view> body_spans_;
  bool in_value_ = false;
  bool head_done_ = false;
  bool message_done_ = false;
  bool no_body_ = false;
  bool until_close_ = false;
  bool paused_upgrade_ = false;
  uint32_t head_consumed_ = 0;
  int error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace sluice::http
