// Retries: which failed attempts may be tried again, how long to wait, and a budget that keeps
// retries a bounded fraction of the traffic so they cannot multiply an outage.
#pragma once

#include <llhttp.h>

#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

#include "limits/clock.hpp"

namespace sluice::limits {

struct RetryPolicy {
  uint32_t attempts = 1;         // retries after the first try; 0 disables retries
  double budget = 0.2;           // retries may be at most this fraction of requests...
  uint32_t budget_reserve = 10;  // ...plus this many, so quiet upstreams can retry at all
  std::vector<int> on = {502, 503, 504};
  Duration backoff{std::chrono::milliseconds(25)};
  Duration max_backoff{std::chrono::milliseconds(250)};
};

enum class AttemptFailure : uint8_t {
  connect,  // no connection: the request never reached the backend
  reset,    // the connection failed before a response head arrived
  status,   // a response with a status of `on`
};

// RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
bool is_idempotent(std::string_view method);
bool is_idempotent(llhttp_method_t method);

// Whether the policy allows another try (the budget is checked separately). `request_sent` is
// false when provably no byte of the request reached the backend; such a request may be retried
// whatever its method. The gateway must also be able to replay the body.
bool should_retry(const RetryPolicy& policy, uint32_t retries_done, AttemptFailure failure,
                  int status, bool idempotent, bool request_sent);

// Equal-jitter exponential backoff for the n-th retry (1-based): half of
// min(backoff * 2^(n-1), max_backoff) plus a random part of the other half.
Duration retry_backoff(const RetryPolicy& policy, uint32_t retry_number, uint64_t random);
Duration retry_backoff(const RetryPolicy& policy, uint32_t retry_number);  // thread-local RNG

// Token budget shared by the worker threads: every request deposits `budget` of a token (up to
// `budget_reserve` tokens, which is also the starting balance) and every retry takes one.
class RetryBudget {
 public:
  explicit RetryBudget(double budget = 0.2, uint32_t reserve = 10);
  explicit RetryBudget(const RetryPolicy& p) : RetryBudget(p.budget, p.budget_reserve) {}

  void on_request();
  bool try_spend();  // true: the retry may go ahead
  double balance() const;
  uint64_t denied() const { return denied_.load(std::memory_order_relaxed); }

 private:
  int64_t deposit_;  // milli-tokens per request
  int64_t cap_;      // milli-tokens
  std::atomic<int64_t> balance_;
  std::atomic<uint64_t> denied_{0};
};

}  // namespace sluice::limits
