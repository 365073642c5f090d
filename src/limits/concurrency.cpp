#include "limits/concurrency.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::limits {
namespace {

constexpr uint32_t kUnlimited = UINT32_MAX / 2;

uint32_t capped(uint32_t value, uint32_t cap) {
  return cap == 0 ? value : std::min(value, cap);
}

}  // namespace

const char* to_string(Shed s) {
  switch (s) {
    case Shed::none:
      return "none";
    case Shed::queue_full:
      return "queue_full";
    case Shed::deadline:
      return "deadline";
    case Shed::timeout:
      return "timeout";
  }
  return "?";
}

Permit& Permit::operator=(Permit&& o) noexcept {
  if (this != &o) {
    release();
    gate_ = std::exchange(o.gate_, nullptr);
    cls_ = o.cls_;
    outcome_ = o.outcome_;
    inflight_at_start_ = o.inflight_at_start_;
    latency_ = o.latency_;
  }
  return *this;
}

void Permit::record(Duration latency) {
  outcome_ = Outcome::latency;
  latency_ = latency;
}

void Permit::record_drop() {
  outcome_ = Outcome::drop;
}

void Permit::release() {
  if (ConcurrencyGate* g = std::exchange(gate_, nullptr)) g->release(*this);
}

ConcurrencyGate::Waiter::Waiter(asio::any_io_executor ex)
    : executor(asio::prefer(ex, asio::execution::outstanding_work.tracked)), timer(ex) {}

ConcurrencyGate::ConcurrencyGate(GateConfig config, Duration now)
    : config_(std::move(config)),
      classes_(config_.classes),
      queue_limit_(capped(config_.queue_limit, config_.max_pending)),
      adaptive_(config_.adaptive_params, now) {
  uint32_t base = config_.adaptive
                      ? adaptive_.limit()
                      : (config_.static_limit == 0 ? kUnlimited : config_.static_limit);
  limit_.store(capped(base, config_.max_active));
}

bool ConcurrencyGate::try_take_slot() {
  uint32_t t = total_.load();
  while (t < limit_.load(std::memory_order_relaxed))
    if (total_.compare_exchange_weak(t, t + 1)) return true;
  return false;
}

Permit ConcurrencyGate::try_acquire(size_t cls) {
  if (cls >= classes_.size()) cls = 0;
  if (waiting_.load() != 0 || !try_take_slot()) return {};
  inflight_[cls].fetch_add(1);
  counters_.admitted.fetch_add(1, std::memory_order_relaxed);
  return Permit(this, static_cast<uint8_t>(cls), total_.load(std::memory_order_relaxed));
}

size_t ConcurrencyGate::queued() const {
  std::lock_guard lock(mu_);
  return queued_;
}

double ConcurrencyGate::drain_rate() const {
  int64_t ns = latency_ewma_ns_.load(std::memory_order_relaxed);
  uint32_t l = limit();
  if (ns <= 0 || l >= kUnlimited) return 0;
  return static_cast<double>(l) * 1e9 / static_cast<double>(ns);
}

uint32_t ConcurrencyGate::retry_after_locked() const {
  double rate = drain_rate();
  if (rate <= 0) return 1;
  double seconds = static_cast<double>(queued_ + 1) / rate;
  return std::clamp<uint32_t>(static_cast<uint32_t>(std::ceil(seconds)), 1, 3600);
}

bool ConcurrencyGate::admissible_locked(size_t cls) const {
  uint32_t l = limit();
  if (inflight_[cls].load() < classes_.reserved(cls, l)) return true;
  // Borrowing: only while no class waits below its guarantee.
  for (size_t c = 0; c < classes_.size(); ++c)
    if (c != cls && !queues_[c].empty() && inflight_[c].load() < classes_.reserved(c, l))
      return false;
  return true;
}

void ConcurrencyGate::post_completion(const std::shared_ptr<Waiter>& w, Admission a) {
  asio::post(w->executor, [w, a = std::move(a)]() mutable {
    w->timer.cancel();
    w->complete(std::move(a));
  });
}

void ConcurrencyGate::enqueue(std::shared_ptr<Waiter> w, Duration deadline) {
  const size_t cls = w->cls;
  const Duration now = steady_now();
  Admission shed;
  {
    std::lock_guard lock(mu_);
    waiting_.fetch_add(1);  // announced before the re-check, so a release cannot miss it
    if (queues_[cls].empty() && admissible_locked(cls) && try_take_slot()) {
      waiting_.fetch_sub(1);
      inflight_[cls].fetch_add(1);
      counters_.admitted.fetch_add(1, std::memory_order_relaxed);
      post_completion(w, Admission{Permit(this, w->cls, total_.load()), Shed::none, 0});
      return;
    }
    Duration expires = deadline;
    if (config_.queue_timeout < deadline - now) expires = now + config_.queue_timeout;
    if (queues_[cls].size() >= classes_.queue_capacity(cls, queue_limit_)) {
      shed.shed = Shed::queue_full;
    } else if (double rate = drain_rate(); rate > 0) {
      // Served before this request: its own class when below its guarantee, else everyone.
      size_t ahead =
          inflight_[cls].load() < classes_.reserved(cls, limit()) ? queues_[cls].size() : queued_;
      auto wait = Duration(static_cast<int64_t>(static_cast<double>(ahead + 1) / rate * 1e9));
      Duration service(latency_ewma_ns_.load(std::memory_order_relaxed));
      if (now + wait > expires || now + wait + service > deadline) shed.shed = Shed::deadline;
    } else if (expires <= now) {
      shed.shed = Shed::deadline;
    }
    if (shed.shed != Shed::none) {
      waiting_.fetch_sub(1);
      shed.retry_after_seconds = retry_after_locked();
      (shed.shed == Shed::queue_full ? counters_.shed_queue_full : counters_.shed_deadline)
          .fetch_add(1, std::memory_order_relaxed);
      post_completion(w, std::move(shed));
      return;
    }
    w->seq = next_seq_++;
    queues_[cls].push_back(w);
    w->position = std::prev(queues_[cls].end());
    ++queued_;
    counters_.queued.fetch_add(1, std::memory_order_relaxed);
    // Runs on the waiter's executor; a completion posted by another thread is ordered after it.
    w->timer.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(expires)));
  }
  w->timer.async_wait([this, w](const asio::error_code& ec) {
    if (!ec) on_timeout(w);
  });
}

void ConcurrencyGate::on_timeout(const std::shared_ptr<Waiter>& w) {
  Admission shed;
  {
    std::lock_guard lock(mu_);
    if (w->done) return;
    w->done = true;
    queues_[w->cls].erase(w->position);
    --queued_;
    waiting_.fetch_sub(1);
    shed.shed = Shed::timeout;
    shed.retry_after_seconds = retry_after_locked();
    counters_.shed_timeout.fetch_add(1, std::memory_order_relaxed);
  }
  w->complete(std::move(shed));
}

void ConcurrencyGate::cancel_all() {
  std::lock_guard lock(mu_);
  for (auto& queue : queues_) {
    for (auto& w : queue) {
      w->done = true;
      waiting_.fetch_sub(1);
      counters_.shed_timeout.fetch_add(1, std::memory_order_relaxed);
      post_completion(w, Admission{Permit(), Shed::timeout, 1});
    }
    queue.clear();
  }
  queued_ = 0;
}

void ConcurrencyGate::dispatch_locked() {
  while (queued_ > 0) {
    uint32_t l = limit();
    // A class below its guarantee first, then the oldest waiter of any class.
    auto oldest = [&](bool deficit_only) {
      int pick = -1;
      for (size_t c = 0; c < classes_.size(); ++c) {
        if (queues_[c].empty()) continue;
        if (deficit_only && inflight_[c].load() >= classes_.reserved(c, l)) continue;
        if (pick < 0 || queues_[c].front()->seq < queues_[pick].front()->seq)
          pick = static_cast<int>(c);
      }
      return pick;
    };
    int pick = oldest(true);
    if (pick < 0) pick = oldest(false);
    if (pick < 0 || !try_take_slot()) return;
    std::shared_ptr<Waiter> w = std::move(queues_[pick].front());
    queues_[pick].pop_front();
    --queued_;
    w->done = true;
    inflight_[pick].fetch_add(1);
    waiting_.fetch_sub(1);
    counters_.admitted.fetch_add(1, std::memory_order_relaxed);
    post_completion(w, Admission{Permit(this, w->cls, total_.load()), Shed::none, 0});
  }
}

void ConcurrencyGate::release(const Permit& p) {
  bool limit_changed = false;
  if (p.outcome_ != Permit::Outcome::none) {
    const Duration now = steady_now();
    if (p.outcome_ == Permit::Outcome::latency) {
      // EWMA with weight 1/16; racing updates lose a sample at worst.
      int64_t old = latency_ewma_ns_.load(std::memory_order_relaxed);
      int64_t next = old == 0 ? p.latency_.count() : old + (p.latency_.count() - old) / 16;
      latency_ewma_ns_.store(std::max<int64_t>(next, 1), std::memory_order_relaxed);
    }
    if (config_.adaptive) {
      std::lock_guard lock(sample_mu_);
      if (adaptive_.on_sample(now, p.latency_, p.inflight_at_start_,
                              p.outcome_ == Permit::Outcome::drop)) {
        uint32_t before = limit_.load();
        uint32_t after = capped(adaptive_.limit(), config_.max_active);
        limit_.store(after);
        limit_changed = after > before;
      }
    }
  }
  inflight_[p.cls_].fetch_sub(1);
  total_.fetch_sub(1);
  if (waiting_.load() > 0 || limit_changed) {
    std::lock_guard lock(mu_);
    dispatch_locked();
  }
}

RouteConcurrency::Slot& RouteConcurrency::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    if (owner_) owner_->count_.fetch_sub(1);
    owner_ = std::exchange(o.owner_, nullptr);
  }
  return *this;
}

RouteConcurrency::Slot::~Slot() {
  if (owner_) owner_->count_.fetch_sub(1);
}

RouteConcurrency::Slot RouteConcurrency::try_acquire() {
  uint32_t n = count_.load();
  while (n < max_)
    if (count_.compare_exchange_weak(n, n + 1)) return Slot(this);
  return {};
}

}  // namespace sluice::limits
