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
      std::string_view name = h.name.in(base);
      if (name.size() != 10 || !http::iequals(name, "connection")) continue;
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

 private:
  static constexpr size_t kMax = 32;  // beyond this, further options are ignored
  std::string_view names_[kMax];
  size_t count_ = 0;
};

// One resize and two copies: this runs for every header field of every request and response.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

bool dropped(std::span<const std::string> names, std::string_view field) {
  for (const auto& n : names)
    if (http::iequals(n, field)) return true;
  return false;
}

}  // namespace

void build_upstream_request(const http::Parser& request, const UpstreamRequest& info,
                            std::string& out) {
  const char* base = request.base();
  const auto& head = request.head();
  const ConnectionOptions connection(request);
  out.clear();
  out.append(info.method).append(" ").append(info.target).append(" HTTP/1.1\r\n");
  append_header(out, "Host", info.host);
  std::string_view upgrade;
  bool forwarded_for = false;
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    if (http::iequals(name, "host") || http::iequals(name, "content-length") ||
        http::iequals(name, "expect"))
      continue;
    if (http::iequals(name, "x-forwarded-for")) {
      forwarded_for = true;  // merged into one field below
      continue;
    }
    if (http::iequals(name, "upgrade")) upgrade = value;
    if (http::is_hop_by_hop(name) || connection.names(name)) continue;
    if (info.drop_conditionals &&
        (http::iequals(name, "if-none-match") || http::iequals(name, "if-modified-since")))
      continue;
    append_header(out, name, value);
  }
  out.append(info.extra_fields);
  out.append("X-Forwarded-For: ");
  if (forwarded_for) {
    for (const auto& h : head.headers)
      if (http::iequals(h.name.in(base), "x-forwarded-for"))
        out.append(h.value.in(base)).append(", ");
  }
  out.append(info.client_ip).append("\r\n");
  append_header(out, "X-Forwarded-Proto", "http");
  append_header(out, "Via", kVia);
  if (info.upgrade) {
    append_header(out, "Connection", "Upgrade");
    append_header(out, "Upgrade", upgrade);
  }
  if (head.chunked) {
    append_header(out, "Transfer-Encoding", "chunked");
  } else if (head.content_length) {
    out.append("Content-Length: ");
    append_number(out, *head.content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
}

BodyFraming choose_framing(const http::MessageHead& response, const ClientResponse& info) {
  int s = response.status;
  if (info.request_was_head || s == 204 || s == 304 || (s >= 100 && s < 200))
    return BodyFraming::none;
  if (response.content_length) return BodyFraming::content_length;
  return info.client_http10 ? BodyFraming::until_close : BodyFraming::chunked;
}

void build_client_response(const http::Parser& response, const ClientResponse& info,
                           BodyFraming framing, std::string& out, std::string_view extra_headers) {
  const char* base = response.base();
  const auto& head = response.head();
  const ConnectionOptions connection(response);
  const bool upgrade = head.status == 101;
  out.clear();
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(head.status));
  out.append(" ");
  std::string_view reason = head.reason.in(base);
  out.append(reason.empty() ? http::status_reason(head.status) : reason);
  out.append("\r\n");
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    if (http::iequals(name, "content-length")) {
      // Passed on for HEAD and 304 (it describes the representation) and for sized bodies.
      if (framing == BodyFraming::none || framing == BodyFraming::content_length)
        append_header(out, name, value);
      continue;
    }
    if (upgrade && http::iequals(name, "upgrade")) {
      append_header(out, name, value);
      continue;
    }
    if (http::is_hop_by_hop(name) || connection.names(name)) continue;
    if (dropped(info.drop_fields, name)) continue;
    append_header(out, name, value);
  }
  append_header(out, "Via", kVia);
  if (upgrade) {
    append_header(out, "Connection", "Upgrade");
  } else if (framing == BodyFraming::chunked) {
    append_header(out, "Transfer-Encoding", "chunked");
  }
  if (!upgrade) {
    if (!info.keep_alive || framing == BodyFraming::until_close)
      append_header(out, "Connection", "close");
    else if (info.client_http10)
      append_header(out, "Connection", "keep-alive");
  }
  out.append(extra_headers);
  out.append("\r\n");
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
