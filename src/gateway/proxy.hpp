// The upstream exchange: pick an endpoint, get a pooled or new connection, send the request,
// relay the response, and put the connection back when it can be reused.
#pragma once

#include <asio/awaitable.hpp>

#include "common/async.hpp"
#include "gateway/config.hpp"
#include "gateway/pipeline.hpp"

namespace sluice::gateway {

class ClientConnection;

// Returns whether the client connection stays open.
Task<bool> forward(ClientConnection& conn, RequestContext& ctx, const RouteConfig& route);

}  // namespace sluice::gateway
