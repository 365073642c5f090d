// The request pipeline: every phase a request goes through, in order, in pipeline.cpp.
#pragma once

#include <asio/awaitable.hpp>

#include <string>
#include <vector>

#include "common/async.hpp"
#include "gateway/cache_phase.hpp"
#include "gateway/router.hpp"
#include "http/parser.hpp"
#include "limits/concurrency.hpp"
#include "upstream/endpoint.hpp"

namespace sluice::gateway {

class ClientConnection;

// Per-request state, owned by the connection and reused from one request to the next.
struct RequestContext {
  int64_t start_ns = 0;
  NormalisedTarget target;
  std::string host;
  std::string forward_target;  // path + query as sent upstream
  std::string upstream_head;   // serialised request head for the upstream
  int route = -1;
  int status = 0;
  uint64_t bytes_sent = 0;
  const char* upstream_name = "";
  // Where the time went, kept only when the slow-request log is on.
  struct Timing {
    bool on = false;
    int64_t queue_ns = 0;     // waiting for admission
    int64_t connect_ns = 0;   // connecting, or waiting for a connection slot
    int64_t upstream_ns = 0;  // sending the request until the response head arrived
    int64_t transfer_ns = 0;  // relaying the response body
    // Adds the time since `*mark` to `field` and moves the mark; no-op when off.
    void lap(int64_t& field, int64_t& mark) {
      if (!on) return;
      int64_t now = upstream::mono_ns();
      field += now - mark;
      mark = now;
    }
  } timing;
  // Traffic control: held until the response is done, then released.
  limits::RouteConcurrency::Slot route_slot;
  limits::Permit permit;
  char rate_headers[192];  // RateLimit-* lines for every answer of a limited route
  size_t rate_headers_size = 0;
  std::string_view rate_limit_headers() const { return {rate_headers, rate_headers_size}; }
  std::string_view x_cache;    // the X-Cache line of an answer fetched upstream, or empty
  std::string fields_scratch;  // the extra fields of one answer, reused
  CacheExchange cache;
};

// Counts a finished request and writes its access-log line.
void account(ClientConnection& conn, RequestContext& ctx);

// Handles one request whose head the connection has just read. Returns whether the client
// connection stays open for another request.
Task<bool> handle_request(ClientConnection& conn);

}  // namespace sluice::gateway
