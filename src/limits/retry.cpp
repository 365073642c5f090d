#include "limits/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace sluice::limits {

bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    if (method == m) return true;
  return false;
}

bool is_idempotent(llhttp_method_t method) {
  switch (method) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_OPTIONS:
    case HTTP_TRACE:
    case HTTP_PUT:
    case HTTP_DELETE:
      return true;
    default:
      return false;
  }
}

bool should_retry(const RetryPolicy& policy, uint32_t retries_done, AttemptFailure failure,
                  int status, bool idempotent, bool request_sent) {
  if (retries_done >= policy.attempts) return false;
  if (failure == AttemptFailure::connect || !request_sent) return true;
  if (!idempotent) return false;
  if (failure == AttemptFailure::reset) return true;
  return std::find(policy.on.begin(), policy.on.end(), status) != policy.on.end();
}

Duration retry_backoff(const RetryPolicy& policy, uint32_t retry_number, uint64_t random) {
  int64_t base = std::max<int64_t>(policy.backoff.count(), 0);
  int64_t cap = std::max<int64_t>(policy.max_backoff.count(), base);
  int64_t d = base;
  for (uint32_t i = 1; i < retry_number && d < cap; ++i)
    d *= 2;
  d = std::min(d, cap);
  int64_t half = d / 2;
  return Duration(half + static_cast<int64_t>(random % static_cast<uint64_t>(d - half + 1)));
}

Duration retry_backoff(const RetryPolicy& policy, uint32_t retry_number) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return retry_backoff(policy, retry_number, rng());
}

RetryBudget::RetryBudget(double budget, uint32_t reserve)
    : deposit_(static_cast<int64_t>(std::llround(std::clamp(budget, 0.0, 1.0) * 1000))),
      cap_(std::max<int64_t>(static_cast<int64_t>(reserve) * 1000, 1000)),
      balance_(static_cast<int64_t>(reserve) * 1000) {}

void RetryBudget::on_request() {
  int64_t b = balance_.load(std::memory_order_relaxed);
  while (b < cap_ && !balance_.compare_exchange_weak(b, std::min(b + deposit_, cap_),
                                                     std::memory_order_relaxed)) {
  }
}

bool RetryBudget::try_spend() {
  int64_t b = balance_.load(std::memory_order_relaxed);
  while (b >= 1000)
    if (balance_.compare_exchange_weak(b, b - 1000, std::memory_order_relaxed)) return true;
  denied_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

double RetryBudget::balance() const {
  return static_cast<double>(balance_.load(std::memory_order_relaxed)) / 1000.0;
}

}  // namespace sluice::limits
