// What each upstream attempt teaches the gateway: outlier feedback for the endpoint, and whether
// a failed attempt may be tried again on another endpoint (policy, then the shared budget).
#pragma once

#include <asio/awaitable.hpp>

#include <cstdint>

#include "common/async.hpp"
#include "limits/admission.hpp"
#include "upstream/endpoint.hpp"

namespace sluice::gateway {

class Worker;

// Feeds the endpoint's outlier detector, respecting the upstream's max_ejected_percent.
void record_attempt(const upstream::UpstreamState& up, size_t endpoint,
                    limits::AttemptResult result, int64_t now);

// The policy allows another try and the budget pays for it.
bool retry_allowed(limits::UpstreamPolicies& policies, uint32_t retries_done,
                   limits::AttemptFailure failure, int status, bool idempotent, bool request_sent);

// Whether `status` is one the upstream retries.
bool retryable_status(const limits::RetryPolicy& policy, int status);

// Waits the jittered backoff before the retry_number-th retry (1-based).
Task<void> retry_pause(Worker& worker, const limits::RetryPolicy& policy, uint32_t retry_number);

}  // namespace sluice::gateway
