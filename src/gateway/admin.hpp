// The admin listener: health, and later metrics, stats and cache control. It runs on a thread
// of its own so that operators are answered even when the workers are saturated.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/address.hpp"
#include "common/async.hpp"

namespace sluice::gateway {

struct AdminRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  explicit AdminServer(const HostPort& address);
  ~AdminServer();
  // Exact path; method "" matches any method.
  void handle(std::string method, std::string path, Handler handler);
  // Binds (throws std::system_error) and starts the thread.
  void start();
  void stop();
  AdminResponse dispatch(const AdminRequest& req) const;

 private:
  struct Entry {
    std::string method;
    std::string path;
    Handler handler;
  };
  void accept_next();

  HostPort address_;
  asio::io_context io_{1};
  TcpAcceptor acceptor_;
  std::vector<Entry> routes_;
  std::thread thread_;
};

}  // namespace sluice::gateway
