// stale-while-revalidate: the client was answered with the stale entry; this fetch renews it in
// the background on the worker's loop, so the client's connection is not held up.
#pragma once

#include "cache/response_cache.hpp"

namespace sluice::gateway {

class ClientConnection;
struct RequestContext;

// Copies what the fetch needs from the current request (whose head is still in the
// connection's buffer) and starts it. The lease ends with the fetch: stored, or given up.
void refresh_in_background(ClientConnection& conn, RequestContext& ctx, cache::FillLease lease);

}  // namespace sluice::gateway
