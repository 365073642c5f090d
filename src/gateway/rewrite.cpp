#include "gateway/rewrite.hpp"

#include <charconv>
#include <cstring>

#include "http/headers.hpp"

namespace sluice::gateway {
namespace {

constexpr std::string_view kVia = "1.1 sluice";

// The field names listed in a message's Connection headers: hop-by-hop for this message.
// Options such as keep-alive and close are in the list too; they name no field and do no harm.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const http::Parser& msg) {
    const char* base = msg.base();
    for (const auto& h : msg.head().headers) {
      field_bytes_ += h.name.len + h.value.len + 4;
      if (h.field != http::Field::connection) continue;
      http::for_each_token(h.value.in(base), [&](std::string_view t) {
        // keep-alive and close are options, not field names; most messages list only them.
        if (http::iequals(t, "keep-alive") || http::iequals(t, "close")) return;
        if (count_ < kMax) names_[count_++] = t;
      });
    }
  }
  bool names(std::string_view field) const {
    if (count_ == 0) return false;
    for (size_t i = 0; i < count_; ++i)
      if (http::iequals(names_[i], field)) return true;
    return false;
  }
  // What the message's fields take as "Name: value\r\n" lines.
  size_t field_bytes() const { return field_bytes_; }

 private:
  static constexpr size_t kMax = 32;  // beyond this, further options are ignored
  std::string_view names_[kMax];
  size_t count_ = 0;
  size_t field_bytes_ = 0;
};

// Writes a head into a string sized once for it: the caller's bound covers every byte written,
// so the head is built with plain copies instead of growing appends.
class HeadWriter {
 public:
  // Room for the variable parts the caller counts plus every fixed line the builders add.
  static constexpr size_t kFixedLines = 256;

  HeadWriter(std::string& out, size_t bound) : out_(out) {
    out.resize(bound + kFixedLines);
    p_ = out.data();
  }
  ~HeadWriter() { out_.resize(static_cast<size_t>(p_ - out_.data())); }
  HeadWriter(const HeadWriter&) = delete;
  HeadWriter& operator=(const HeadWriter&) = delete;

  void put(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());  // an empty view may be null
    p_ += s.size();
  }
  void number(uint64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }
  void field(std::string_view name, std::string_view value) {
    put(name);
    *p_++ = ':';
    *p_++ = ' ';
    put(value);
    crlf();
  }
  void crlf() {
    *p_++ = '\r';
    *p_++ = '\n';
  }

 private:
  std::string& out_;
  char* p_;
};

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

bool dropped(std::span<const std::string> names, std::string_view field) {
  for (const auto& n : names)
    if (http::iequals(n, field)) return true;
  return false;
}

}  // namespace

void build_upstream_request(const http::Parser& request, const UpstreamRequest& info,
                            std::string& out) {
  using http::Field;
  const char* base = request.base();
  const auto& head = request.head();
  const ConnectionOptions connection(request);
  out.clear();
  HeadWriter w(out, info.method.size() + info.target.size() + info.host.size() +
                        connection.field_bytes() + info.extra_fields.size() +
                        info.client_ip.size());
  w.put(info.method);
  w.put(" ");
  w.put(info.target);
  w.put(" HTTP/1.1\r\n");
  w.field("Host", info.host);
  std::string_view upgrade;
  bool forwarded_for = false;
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    switch (h.field) {
      case Field::host:
      case Field::content_length:
      case Field::expect:
        continue;
      case Field::x_forwarded_for:
        forwarded_for = true;  // merged into one field below
        continue;
      case Field::upgrade:
        upgrade = value;
        continue;
      case Field::if_none_match:
      case Field::if_modified_since:
        if (info.drop_conditionals) continue;
        break;
      default:
        if (http::is_hop_by_hop(h.field)) continue;
        break;
    }
    if (connection.names(name)) continue;
    w.field(name, value);
  }
  w.put(info.extra_fields);
  w.put("X-Forwarded-For: ");
  if (forwarded_for) {
    for (const auto& h : head.headers)
      if (http::iequals(h.name.in(base), "x-forwarded-for")) {
        w.put(h.value.in(base));
        w.put(", ");
      }
  }
  w.put(info.client_ip);
  w.crlf();
  w.field("X-Forwarded-Proto", "http");
  w.field("Via", kVia);
  if (info.upgrade) {
    w.field("Connection", "Upgrade");
    w.field("Upgrade", upgrade);
  }
  if (head.chunked) {
    w.field("Transfer-Encoding", "chunked");
  } else if (head.content_length) {
    w.put("Content-Length: ");
    w.number(*head.content_length);
    w.crlf();
  }
  w.crlf();
}

BodyFraming choose_framing(const http::MessageHead& response, const ClientResponse& info) {
  int s = response.status;
  if (info.request_was_head || s == 204 || s == 304 || (s >= 100 && s < 200))
    return BodyFraming::none;
  if (response.content_length) return BodyFraming::content_length;
  return info.client_http10 ? BodyFraming::until_close : BodyFraming::chunked;
}

void build_client_response(const http::Parser& response, const ClientResponse& info,
                           BodyFraming framing, std::string& out, std::string_view extra_headers,
                           std::string_view more_headers) {
  using http::Field;
  const char* base = response.base();
  const auto& head = response.head();
  const ConnectionOptions connection(response);
  const bool upgrade = head.status == 101;
  std::string_view reason = head.reason.in(base);
  if (reason.empty()) reason = http::status_reason(head.status);
  out.clear();
  HeadWriter w(
      out, reason.size() + connection.field_bytes() + extra_headers.size() + more_headers.size());
  w.put("HTTP/1.1 ");
  w.number(static_cast<uint64_t>(head.status));
  w.put(" ");
  w.put(reason);
  w.crlf();
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    const Field f = h.field;
    if (f == Field::content_length) {
      // Passed on for HEAD and 304 (it describes the representation) and for sized bodies.
      if (framing == BodyFraming::none || framing == BodyFraming::content_length)
        w.field(name, value);
      continue;
    }
    if (upgrade && f == Field::upgrade) {
      w.field(name, value);
      continue;
    }
    if (http::is_hop_by_hop(f) || connection.names(name)) continue;
    if (!info.drop_fields.empty() && dropped(info.drop_fields, name)) continue;
    w.field(name, value);
  }
  w.field("Via", kVia);
  if (upgrade) {
    w.field("Connection", "Upgrade");
  } else if (framing == BodyFraming::chunked) {
    w.field("Transfer-Encoding", "chunked");
  }
  if (!upgrade) {
    if (!info.keep_alive || framing == BodyFraming::until_close)
      w.field("Connection", "close");
    else if (info.client_http10)
      w.field("Connection", "keep-alive");
  }
  w.put(extra_headers);
  w.put(more_headers);
  w.crlf();
}

void build_simple_response(int status, std::string_view content_type, std::string_view body,
                           bool keep_alive, std::string& out, std::string_view extra_headers) {
  out.clear();
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(status));
  out.append(" ").append(http::status_reason(status)).append("\r\n");
  if (!content_type.empty()) append_header(out, "Content-Type", content_type);
  out.append("Content-Length: ");
  append_number(out, body.size());
  out.append("\r\n");
  out.append(extra_headers);
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n").append(body);
}

size_t chunk_header(size_t n, char* buf) {
  auto [p, ec] = std::to_chars(buf, buf + 18, n, 16);
  p[0] = '\r';
  p[1] = '\n';
  return static_cast<size_t>(p + 2 - buf);
}

}  // namespace sluice::gateway
