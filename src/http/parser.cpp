#include "http/parser.hpp"

#include <charconv>
#include <cstring>

#include "http/headers.hpp"

namespace sluice::http {

struct ParserCallbacks {
  static Parser& self(llhttp_t* p) { return *static_cast<Parser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    Parser& s = self(p);
    // A message that starts without start_message() is a pipelined follower: the caller is
    // expected to pause us at message_complete, so this only happens inside one parse call.
    (void)s;
    return 0;
  }
  static int extend(Parser& s, Slice& slice, const char* at, size_t len) {
    uint32_t off = static_cast<uint32_t>(at - s.base_);
    if (slice.len == 0) slice.off = off;
    slice.len = off + static_cast<uint32_t>(len) - slice.off;
    return 0;
  }
  static int on_url(llhttp_t* p, const char* at, size_t len) {
    Parser& s = self(p);
    extend(s, s.head_.target, at, len);
    if (s.head_.target.len > s.limits_.max_request_line)
      return s.fail(414, "request line too long");
    return 0;
  }
  static int on_status(llhttp_t* p, const char* at, size_t len) {
    Parser& s = self(p);
    return extend(s, s.head_.reason, at, len);
  }
  static int on_header_field(llhttp_t* p, const char* at, size_t len) {
    Parser& s = self(p);
    if (s.in_value_ || s.head_.headers.empty()) {
      if (s.head_.headers.size() >= s.limits_.max_header_count)
        return s.fail(431, "too many header fields");
      s.head_.headers.push_back({});
      s.in_value_ = false;
    }
    return extend(s, s.head_.headers.back().name, at, len);
  }
  static int on_header_value(llhttp_t* p, const char* at, size_t len) {
    Parser& s = self(p);
    s.in_value_ = true;
    return extend(s, s.head_.headers.back().value, at, len);
  }
  static int on_headers_complete(llhttp_t* p) { return self(p).on_headers_complete(); }
  static int on_body(llhttp_t* p, const char* at, size_t len) {
    self(p).body_spans_.emplace_back(at, len);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    Parser& s = self(p);
    s.message_done_ = true;
    // An upgrade must reach llhttp's own HPE_PAUSED_UPGRADE, which reports where the tunnel starts.
    return s.head_.upgrade ? 0 : HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t st;
      llhttp_settings_init(&st);
      st.on_message_begin = on_message_begin;
      st.on_url = on_url;
      st.on_status = on_status;
      st.on_header_field = on_header_field;
      st.on_header_value = on_header_value;
      st.on_headers_complete = on_headers_complete;
      st.on_body = on_body;
      st.on_message_complete = on_message_complete;
      return st;
    }();
    return s;
  }
};

Parser::Parser(Kind kind, Limits limits) : kind_(kind), limits_(limits) {
  llhttp_init(&parser_, kind == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE,
              &ParserCallbacks::settings());
  parser_.data = this;
  head_.headers.reserve(32);
  body_spans_.reserve(8);
}

void Parser::start_message(const char* base) {
  base_ = base;
  auto headers = std::move(head_.headers);
  headers.clear();
  head_ = MessageHead{};
  head_.headers = std::move(headers);
  in_value_ = false;
  head_done_ = false;
  message_done_ = false;
  until_close_ = false;
  paused_upgrade_ = false;
  head_consumed_ = 0;
  error_status_ = 0;
  error_reason_ = "";
  // Messages start on a boundary, so a reset is exact, and it clears a finished or failed state
  // (a reused response parser moves between upstream connections).
  llhttp_reset(&parser_);
}

int Parser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return -1;
}

std::string_view Parser::header(std::string_view name) const {
  for (const auto& h : head_.headers)
    if (iequals(h.name.in(base_), name)) return h.value.in(base_);
  return {};
}

// Framing rules on top of llhttp (RFC 9112 6 and 11): anything ambiguous is refused.
int Parser::validate_framing() {
  int host_count = 0;
  int te_count = 0;
  std::string_view te;
  for (auto& h : head_.headers) {
    std::string_view name = h.name.in(base_);
    const char* raw = base_ + h.value.off;
    uint32_t len = h.value.len;
    // llhttp rejects bare CR and control characters itself, but reports an obs-fold
    // continuation as part of the value: a line feed inside it.
    if (len > 0 && std::memchr(raw, '\n', len)) return fail(400, "obs-fold in header field");
    if (name.empty()) return fail(400, "empty header name");
    // Between the name and its value only ":" and blanks; a line break there is obs-fold.
    if (len > 0) {
      for (uint32_t i = h.name.off + h.name.len; i < h.value.off; ++i)
        if (base_[i] == '\r' || base_[i] == '\n') return fail(400, "obs-fold in header field");
    }
    // Trimmed in place, as trim() does: this runs for every field of every message.
    uint32_t begin = 0;
    while (begin < len && (raw[begin] == ' ' || raw[begin] == '\t'))
      ++begin;
    while (len > begin && (raw[len - 1] == ' ' || raw[len - 1] == '\t'))
      --len;
    h.value.off += begin;
    h.value.len = len - begin;
    h.field = classify_field(name);
    switch (h.field) {
      case Field::host:
        ++host_count;
        break;
      case Field::expect:
        if (kind_ == Kind::request) {
          if (iequals(h.value.in(base_), "100-continue"))
            head_.expect_continue = true;
          else
            return fail(417, "unsupported expectation");
        }
        break;
      case Field::transfer_encoding:
        ++te_count;
        te = h.value.in(base_);
        break;
      default:
        break;
    }
  }
  if (kind_ == Kind::request) {
    if (host_count > 1) return fail(400, "more than one Host header");
    if (host_count == 0 && !head_.http10()) return fail(400, "missing Host header");
  }
  if (te_count > 0) {
    if (kind_ == Kind::request && head_.http10())
      return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (te_count > 1) return fail(400, "more than one Transfer-Encoding header");
    int codings = 0;
    bool chunked_last = false, unknown = false, chunked_twice = false;
    for_each_token(te, [&](std::string_view tok) {
      ++codings;
      bool is_chunked = iequals(tok, "chunked");
      if (is_chunked && chunked_last) chunked_twice = true;
      if (!is_chunked) unknown = true;
      chunked_last = is_chunked;
    });
    if (codings == 0) return fail(400, "empty Transfer-Encoding");
    if (unknown) return fail(501, "unsupported transfer coding");
    if (chunked_twice || !chunked_last) return fail(400, "invalid Transfer-Encoding");
    if (parser_.flags & F_CONTENT_LENGTH)
      return fail(400, "both Content-Length and Transfer-Encoding");
  }
  return 0;
}

int Parser::on_headers_complete() {
  head_.version_major = parser_.http_major;
  head_.version_minor = parser_.http_minor;
  if (int rc = validate_framing(); rc != 0) return rc;
  head_.method = static_cast<llhttp_method_t>(parser_.method);
  head_.status = parser_.status_code;
  head_.chunked = (parser_.flags & F_CHUNKED) != 0;
  if (parser_.flags & F_CONTENT_LENGTH) head_.content_length = parser_.content_length;
  head_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  if (kind_ == Kind::request) {
    if (head_.method == HTTP_CONNECT) return fail(405, "CONNECT is not supported");
    head_.upgrade = parser_.upgrade != 0;
    if (head_.upgrade && head_.has_body()) return fail(400, "Upgrade request with a body");
  } else {
    head_.upgrade = head_.status == 101;
    bool bodyless = no_body_ || head_.status == 204 || head_.status == 304 ||
                    (head_.status >= 100 && head_.status < 200);
    if (bodyless)
      parser_.flags |= F_SKIPBODY;
    else if (!head_.chunked && !head_.content_length)
      until_close_ = true;
  }
  head_done_ = true;
  return HPE_PAUSED;
}

ParseResult Parser::parse(const char* data, size_t len) {
  body_spans_.clear();
  if (error_status_) return {ParseStatus::error, 0};
  const bool head_was_done = head_done_;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  size_t consumed = len;
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
  }
  if (!head_was_done) {
    head_consumed_ += static_cast<uint32_t>(consumed);
    if (!head_done_ && head_consumed_ > limits_.max_header_bytes && error_status_ == 0)
      return fail(431, "header block too large"), ParseResult{ParseStatus::error, consumed};
  }
  switch (err) {
    case HPE_OK:
      return {ParseStatus::need_more, consumed};
    case HPE_PAUSED:
      llhttp_resume(&parser_);
      if (message_done_) return {ParseStatus::message_complete, consumed};
      if (head_done_) {
        head_.head_bytes = head_consumed_;
        if (head_consumed_ > limits_.max_header_bytes) {
          fail(431, "header block too large");
          return {ParseStatus::error, consumed};
        }
        return {ParseStatus::head_complete, consumed};
      }
      return {ParseStatus::need_more, consumed};
    case HPE_PAUSED_UPGRADE:
      paused_upgrade_ = true;
      message_done_ = true;
      return {ParseStatus::upgrade, consumed};
    default:
      if (error_status_ == 0) fail(400, llhttp_errno_name(err));
      return {ParseStatus::error, consumed};
  }
}

ParseResult Parser::finish() {
  body_spans_.clear();
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (until_close_ && head_done_) message_done_ = true;
    if (message_done_) return {ParseStatus::message_complete, 0};
  }
  if (error_status_ == 0) fail(502, "connection closed before the message was complete");
  return {ParseStatus::error, 0};
}

}  // namespace sluice::http
