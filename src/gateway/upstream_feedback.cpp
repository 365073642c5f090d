#include "gateway/upstream_feedback.hpp"
#include "common/async.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "gateway/worker.hpp"

namespace sluice::gateway {

void record_attempt(const upstream::UpstreamState& up, size_t endpoint,
                    limits::AttemptResult result, int64_t now) {
  auto& ep = *up.endpoints[endpoint];
  if (!ep.outlier) return;
  const Duration at(now);
  bool allowed = true;
  if (result != limits::AttemptResult::success) {
    size_t ejected = 0;
    for (const auto& e : up.endpoints)
      if (e->is_ejected(now)) ++ejected;
    // Never eject more than max_ejected_percent of the endpoints (at least one stays).
    allowed =
        (ejected + 1) * 100 <= up.endpoints.size() * up.config->traffic.outlier.max_ejected_percent;
  }
  if (ep.outlier->record(result, at, allowed))
    LOG_WARN("upstream %s endpoint %s: ejected until +%s", up.config->name.c_str(), ep.name.c_str(),
             format_duration(ep.outlier->ejected_until() - at).c_str());
}

bool retryable_status(const limits::RetryPolicy& policy, int status) {
  return std::find(policy.on.begin(), policy.on.end(), status) != policy.on.end();
}

bool retry_allowed(limits::UpstreamPolicies& policies, uint32_t retries_done,
                   limits::AttemptFailure failure, int status, bool idempotent, bool request_sent) {
  return limits::should_retry(policies.retry, retries_done, failure, status, idempotent,
                              request_sent) &&
         policies.budget.try_spend();
}

Task<void> retry_pause(Worker& worker, const limits::RetryPolicy& policy, uint32_t retry_number) {
  Duration pause = limits::retry_backoff(policy, retry_number);
  if (pause.count() <= 0) co_return;
  SteadyTimer timer(worker.io());
  timer.expires_after(pause);
  co_await timer.async_wait(use_nothrow);
}

}  // namespace sluice::gateway
