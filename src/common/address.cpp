#include "common/address.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <random>

namespace sluice {

std::string HostPort::text() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string& error) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPv6]:PORT";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "expected HOST:PORT";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    error = "invalid port \"" + std::string(port_text) + "\"";
    return std::nullopt;
  }
  hp.port = static_cast<uint16_t>(port);
  std::string host = hp.host == "localhost" ? "127.0.0.1" : hp.host;
  asio::error_code aec;
  auto addr = asio::ip::make_address(host, aec);
  if (aec) {
    error =
        "\"" + hp.host + "\" is not an IP address (names other than localhost are not resolved)";
    return std::nullopt;
  }
  hp.endpoint = asio::ip::tcp::endpoint(addr, hp.port);
  return hp;
}

sockaddr_in loopback_sockaddr(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

bool loopback_port_free(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback_sockaddr(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

uint16_t free_loopback_ports(int count) {
  thread_local std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto first = static_cast<uint16_t>(20000 + rng() % 12000);
    bool ok = true;
    for (int i = 0; i < count && ok; ++i)
      ok = loopback_port_free(static_cast<uint16_t>(first + i));
    if (ok) return first;
  }
  return 0;
}

}  // namespace sluice
