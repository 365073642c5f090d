// Network endpoints given as text: "127.0.0.1:8080", "[::1]:8080", "localhost:8080".
#pragma once

#include <netinet/in.h>
#include <asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

struct HostPort {
  std::string host;  // as written, without brackets
  uint16_t port = 0;
  asio::ip::tcp::endpoint endpoint;  // resolved: IP literals, or "localhost" as 127.0.0.1
  std::string text() const;          // "host:port", with brackets for IPv6
};

// Parses and resolves a literal address; nullopt with `error` set when it is not one.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error);

// 127.0.0.1:port, for the socket calls of helpers that do not go through Asio.
sockaddr_in loopback_sockaddr(uint16_t port);
// Whether a listener (with SO_REUSEADDR, as the gateway's) could bind 127.0.0.1:port now.
bool loopback_port_free(uint16_t port);
// The first of `count` consecutive loopback ports that are free now, picked at random below
// Linux's ephemeral range (32768 and up) so that no outgoing connection takes one before it is
// bound; 0 when none was found.
uint16_t free_loopback_ports(int count);

}  // namespace sluice
