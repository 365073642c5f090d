#include "support/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/address.hpp"
#include "http/headers.hpp"
#include "http/parser.hpp"

namespace sluice::test {

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sluice-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

double json_number(const std::string& json, const std::string& key, const std::string& from) {
  size_t start = from.empty() ? 0 : json.find("\"" + from + "\":");
  if (start == std::string::npos) return -1;
  size_t p = json.find("\"" + key + "\":", start);
  if (p == std::string::npos) return -1;
  return std::stod(json.substr(p + key.size() + 3));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

uint16_t free_port() {
  // Below the kernel's ephemeral range: a port taken from that range can be handed to some
  // other test's outgoing connection before the server here binds it. Never the same port
  // twice in one process, as one handed out may not be bound yet.
  static std::vector<bool> given(65536, false);
  for (int attempt = 0; attempt < 200; ++attempt) {
    uint16_t port = free_loopback_ports(1);
    if (port == 0) break;
    if (given[port]) continue;
    given[port] = true;
    return port;
  }
  throw std::runtime_error("no free loopback port between 20000 and 32000");
}

namespace {
int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback_sockaddr(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
}  // namespace

bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int fd = connect_loopback(port);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  TempDir dir;
  auto out = (dir / "out").string(), err = (dir / "err").string();
  Process p = Process::spawn(argv, out, err);
  CommandResult r;
  auto st = p.wait(timeout);
  if (!st) p.stop(SIGKILL, 2s);
  r.status = st.value_or(-1);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

bool Nginx::available() {
  return ::access("/usr/sbin/nginx", X_OK) == 0;
}

Nginx::Nginx(NginxOptions opts) : opts_(std::move(opts)) {
  if (opts_.ports.empty()) opts_.ports.push_back(free_port());
  std::ostringstream conf;
  auto d = dir_.path().string();
  conf << "worker_processes 1;\ndaemon off;\nmaster_process off;\npid " << d << "/nginx.pid;\n"
       << "error_log " << d << "/error.log warn;\nevents { worker_connections 4096; }\n"
       << "http {\n  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d
       << "/proxy;\n  fastcgi_temp_path " << d << "/fcgi;\n  uwsgi_temp_path " << d
       << "/uwsgi;\n  scgi_temp_path " << d << "/scgi;\n"
       << "  log_format conn '$connection $request_method $request_uri $status $request_length';\n"
       << "  access_log " << d << "/access.log conn;\n"
       << "  keepalive_requests " << opts_.keepalive_requests << ";\n"
       << "  client_max_body_size 0;\n"
       << opts_.http_extra << "\n";
  for (auto port : opts_.ports) {
    conf << "  server {\n    listen 127.0.0.1:" << port << ";\n"
         << opts_.locations << "\n    location / { return 200 \"hello from " << port
         << "\\n\"; }\n  }\n";
  }
  conf << "}\n";
  write_file(dir_ / "nginx.conf", conf.str());
  proc_ =
      Process::spawn({"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf"}, "", d + "/stderr.log");
  for (auto port : opts_.ports)
    if (!wait_for_port(port))
      throw std::runtime_error("nginx did not start: " + read_file(dir_ / "stderr.log") +
                               read_file(dir_ / "error.log"));
}

Nginx::~Nginx() {
  stop();
}
void Nginx::stop() {
  proc_.stop(SIGQUIT, 5s);
}

std::vector<std::string> Nginx::access_log() {
  std::vector<std::string> lines;
  std::istringstream in(read_file(dir_ / "access.log"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

Sluice::Sluice(const std::string& config, uint16_t wait_port) {
  write_file(dir_ / "sluice.toml", config);
  proc_ = Process::spawn({SLUICE_BINARY, "serve", "--config", (dir_ / "sluice.toml").string()},
                         (dir_ / "stdout.log").string(), (dir_ / "stderr.log").string());
  if (!wait_for_port(wait_port, 10s))
    throw std::runtime_error("sluice did not start: " + read_file(dir_ / "stderr.log"));
}
Sluice::~Sluice() {
  proc_.stop(SIGKILL, 5s);
}

std::string Response::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (http::iequals(k, name)) return v;
  return "";
}
bool Response::has_header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (http::iequals(k, name)) return true;
  return false;
}

RawClient::RawClient(uint16_t port, std::chrono::milliseconds timeout)
    : fd_(connect_loopback(port)), timeout_(timeout) {}
RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

void RawClient::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

bool RawClient::fill() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, n);
  return true;
}

std::optional<Response> RawClient::read_response(bool head_only) {
  if (fd_ < 0) return std::nullopt;
  // Parses from the start of the buffer on each attempt: simple, and tests read small messages.
  while (true) {
    http::Parser parser(http::Parser::Kind::response);
    parser.set_response_has_no_body(head_only);
    parser.start_message(buf_.data());
    Response resp;
    size_t pos = 0;
    http::ParseStatus st;
    bool interim = false;
    while (true) {
      auto r = parser.parse(buf_.data() + pos, buf_.size() - pos);
      pos += r.consumed;
      for (auto s : parser.body_spans())
        resp.body.append(s);
      if (r.status == http::ParseStatus::head_complete) {
        int code = parser.head().status;
        if (code < 200 && code != 101) {
          interim = true;
          break;
        }
        continue;
      }
      st = r.status;
      break;
    }
    if (interim) {
      // A 1xx interim response: drop it and read the final one.
      buf_.erase(0, pos);
      continue;
    }
    if (st == http::ParseStatus::error) return std::nullopt;
    bool complete = st == http::ParseStatus::message_complete || st == http::ParseStatus::upgrade;
    if (!complete) {
      if (fill()) continue;
      if (!(parser.head_done() && parser.body_until_close() &&
            parser.finish().status == http::ParseStatus::message_complete))
        return std::nullopt;
      pos = buf_.size();
    }
    const auto& h = parser.head();
    resp.status = h.status;
    resp.version_minor = h.version_minor;
    resp.chunked = h.chunked;
    for (auto& f : h.headers)
      resp.headers.emplace_back(std::string(f.name.in(parser.base())),
                                std::string(f.value.in(parser.base())));
    buf_.erase(0, pos);
    return resp;
  }
}

std::string RawClient::read_until_close() {
  while (fill()) {
  }
  std::string out;
  out.swap(buf_);
  return out;
}

bool RawClient::peer_closed(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    if (::poll(&p, 1, 50) > 0) {
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return true;
      buf_.append(tmp, n);
    }
  }
  return false;
}

std::optional<Response> http_request(uint16_t port, const std::string& method,
                                     const std::string& path, const std::string& body,
                                     const std::vector<std::string>& extra_headers) {
  RawClient c(port);
  if (!c.connected()) return std::nullopt;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: test.local\r\n";
  for (auto& h : extra_headers)
    req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!c.send(req)) return std::nullopt;
  return c.read_response(method == "HEAD");
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

}  // namespace sluice::test
