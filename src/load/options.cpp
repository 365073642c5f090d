#include "load/options.hpp"

#include <charconv>

#include "http/headers.hpp"

namespace sluice::load {

bool parse_url(const std::string& text, Target& out, std::string& error) {
  std::string_view s = text;
  auto bad = [&](const char* why) {
    error = "invalid URL '" + text + "': " + why;
    return false;
  };
  if (s.starts_with("https://")) return bad("https is not supported; use http://");
  if (!s.starts_with("http://")) return bad("expected http://host[:port]/path");
  s.remove_prefix(7);
  size_t slash = s.find_first_of("/?");
  std::string_view authority = s.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(s.substr(slash));
  if (path[0] == '?') path.insert(0, "/");
  if (authority.empty()) return bad("missing host");
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view host = authority, port_text;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after IPv6 address");
      port_text = rest.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("missing host");
  for (char c : host)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '%')
      return bad("invalid character in host");
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("space or control in path");
  unsigned port = 80;
  if (!port_text.empty() || authority.back() == ':') {
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return bad("bad port");
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(port);
  out.path = path;
  out.authority = std::string(authority);
  return true;
}

bool parse_stages(const std::string& text, std::vector<Stage>& out, std::string& error) {
  out.clear();
  bool ok = true;
  http::for_each_token(text, [&](std::string_view tok) {
    if (!ok) return;
    size_t colon = tok.find(':');
    auto d = parse_duration(tok.substr(0, colon));
    double target = -1;
    if (colon != std::string_view::npos) {
      std::string_view v = http::trim(tok.substr(colon + 1));
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), target);
      if (ec != std::errc() || p != v.data() + v.size()) target = -1;
    }
    if (!d || d->count() <= 0 || target < 0) {
      error = "bad stage '" + std::string(tok) + "': expected DURATION:TARGET (e.g. 30s:100)";
      ok = false;
      return;
    }
    out.push_back({*d, target});
  });
  if (ok && out.empty()) {
    error = "empty --stages";
    ok = false;
  }
  return ok;
}

double stage_target(const std::vector<Stage>& stages, double initial, Duration t) {
  double from = initial;
  for (auto& s : stages) {
    if (t < s.length) {
      double f = static_cast<double>(t.count()) / static_cast<double>(s.length.count());
      return from + (s.target - from) * f;
    }
    t -= s.length;
    from = s.target;
  }
  return from;
}

double stage_slope(const std::vector<Stage>& stages, double initial, Duration t) {
  double from = initial;
  for (auto& s : stages) {
    if (t < s.length) return (s.target - from) / (static_cast<double>(s.length.count()) / 1e9);
    t -= s.length;
    from = s.target;
  }
  return 0;
}

Duration stages_length(const std::vector<Stage>& stages) {
  Duration d{};
  for (auto& s : stages)
    d += s.length;
  return d;
}

namespace {
void render_head(const RequestSpec& spec, const Target& target, bool close_connection, Rng& rng,
                 std::string& out) {
  out += spec.method;
  out += ' ';
  if (spec.target.constant())
    out += spec.target.literal();
  else
    spec.target.render(out, rng);
  out += " HTTP/1.1\r\nHost: ";
  out += target.authority;
  out += "\r\n";
  for (auto& [name, value] : spec.headers) {
    out += name;
    out += ": ";
    value.render(out, rng);
    out += "\r\n";
  }
  if (close_connection) out += "Connection: close\r\n";
}
void append_length(std::string& out, size_t n) {
  char num[24];
  auto [e, ec] = std::to_chars(num, num + sizeof num, n);
  out += "Content-Length: ";
  out.append(num, e);
  out += "\r\n\r\n";
}
}  // namespace

void render_request(const RequestSpec& spec, const Target& target, bool close_connection, Rng& rng,
                    std::string& out, std::string& scratch) {
  out.clear();
  render_head(spec, target, close_connection, rng, out);
  if (!spec.has_body) {
    out += "\r\n";
    return;
  }
  const std::string* body = &spec.body.literal();
  if (!spec.body.constant()) {
    scratch.clear();
    spec.body.render(scratch, rng);
    body = &scratch;
  }
  append_length(out, body->size());
  out += *body;
}

void prerender(RequestSpec& spec, const Target& target, bool close_connection) {
  bool constant = spec.target.constant() && spec.body.constant();
  for (auto& [n, v] : spec.headers)
    constant = constant && v.constant();
  spec.constant = constant;
  if (constant) {
    Rng rng(1);
    std::string scratch;
    render_request(spec, target, close_connection, rng, spec.prerendered, scratch);
  }
}

}  // namespace sluice::load
