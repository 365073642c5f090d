// The upstream exchange: pick an endpoint, get a pooled or new connection, send the request,
// relay the response, and put the connection back when it can be reused.
#pragma once

#include <asio/awaitable.hpp>

#include "common/async.hpp"
#include "common/buffer.hpp"
#include "gateway/config.hpp"
#include "gateway/pipeline.hpp"
#include "http/head_reader.hpp"

namespace sluice::gateway {

class ClientConnection;
class Worker;

using http::HeadRead;
// Reads an upstream response head into `ubuf` (taken from the worker's pool when empty),
// skipping interim 1xx answers. Deadlines are the caller's: it cancels `socket`.
Task<HeadRead> read_upstream_head(Worker& w, http::Parser& parser, TcpSocket& socket, Buffer& ubuf,
                                  bool head_request, size_t& head_size);

// Returns whether the client connection stays open.
Task<bool> forward(ClientConnection& conn, RequestContext& ctx, const RouteConfig& route);

}  // namespace sluice::gateway
