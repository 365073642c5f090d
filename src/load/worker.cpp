// Per-thread scheduling: the closed model keeps N connections busy, the open model sends on a
// fixed (or Poisson) schedule and measures latency from the scheduled time.
#include "load/worker.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::load {
namespace {
constexpr int64_t kSecond = 1'000'000'000;
constexpr auto kControlPeriod = std::chrono::milliseconds(100);
// Open model: connects in flight per thread. Without a bound, a server pausing for a millisecond
// at a high rate makes every due request open a connection, connecting slows the loop, and more
// requests find none free: a storm up to --max-inflight. Requests beyond it wait (counted late).
constexpr int kMaxConnecting = 16;
// Sends this little after the end of the schedule still count as on time (timer slack).
constexpr int64_t kEndGrace = static_cast<int64_t>(kMaxLoopLagMs * 1e6);

int64_t ns_of(asio::steady_timer::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

asio::steady_timer::time_point at(int64_t ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}
}  // namespace

Worker::Worker(const Plan& plan, SharedState& shared, int index, int connections, double rate)
    : plan_(plan),
      shared_(shared),
      index_(index),
      rng_(0x5eed0000ULL + static_cast<uint64_t>(index) * 7919 +
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())),
      share_connections_(connections),
      share_rate_(rate),
      tick_(io_),
      second_(io_),
      sweep_(io_),
      control_(io_),
      heartbeat_(io_) {
  stats_.by_name.resize(plan.requests.size());
  if (plan.requests.size() > 1 || plan.opts.requests.size() > 0)
    for (auto& n : stats_.by_name)
      n = std::make_unique<NameStats>();
  if (plan.open_model) {
    max_connections_ = static_cast<size_t>(
        std::max(1, plan.max_inflight / plan.threads + (index < plan.max_inflight % plan.threads)));
  }
}

size_t Worker::pick_request() {
  if (plan_.requests.size() == 1) return 0;
  double u = rng_.uniform() * plan_.cumulative_weight.back();
  auto it = std::upper_bound(plan_.cumulative_weight.begin(), plan_.cumulative_weight.end(), u);
  return std::min(static_cast<size_t>(it - plan_.cumulative_weight.begin()),
                  plan_.requests.size() - 1);
}

Connection* Worker::new_connection() {
  conns_.push_back(std::make_unique<Connection>(*this));
  return conns_.back().get();
}

void Worker::prepare() {
  if (!plan_.open_model || !plan_.opts.keepalive) return;
  double peak = share_rate_;
  for (auto& st : plan_.opts.stages)
    peak = std::max(peak, st.target / plan_.threads);
  // About a millisecond's worth of requests: enough for a fast server, few for a slow one.
  size_t want = std::min(max_connections_, static_cast<size_t>(std::ceil(peak / 1000)) + 1);
  for (size_t i = 0; i < want; ++i, ++warming_)
    new_connection()->warm_up();
  int64_t deadline =
      now_ns() + std::min<Duration>(plan_.opts.timeout, std::chrono::seconds(2)).count();
  bool aborted = false;
  while (warming_ > 0) {
    if (!aborted && now_ns() > deadline) {
      aborted = true;
      for (auto& c : conns_)
        c->retire();
    }
    io_.run_one_for(std::chrono::milliseconds(10));
  }
  io_.restart();
  for (auto& c : conns_)
    idle_.push_back(c.get());
}

void Worker::run() {
  int64_t start = shared_.start_ns;
  if (plan_.duration.count() > 0) end_ns_ = start + plan_.duration.count();
  schedule_end_ns_ = end_ns_;
  last_snapshot_ns_ = start;
  clock_.start(start);
  heartbeat_.expires_at(at(start));
  heartbeat();
  next_second_ns_ = start + kSecond;
  second_.expires_at(at(next_second_ns_));
  second_.async_wait([this](const asio::error_code& ec) {
    if (!ec) tick_second();
  });
  sweep_timeouts();
  if (plan_.open_model) {
    // Threads interleave their schedules instead of sending in bursts at the same instants.
    double rate = current_rate(start);
    next_ns_ = static_cast<double>(start) +
               (rate > 0 ? 1e9 / rate * index_ / std::max(1, plan_.threads) : 0);
    dispatch();
  } else {
    control();
  }
  io_.run();
  snapshot_second();  // the last, partial second
  std::lock_guard lock(stats_.series_mutex);
  stats_.delivered_last = true;
}

bool Worker::take_seconds(std::vector<SecondSample>& out) {
  std::lock_guard lock(stats_.series_mutex);
  out.swap(stats_.pending);
  return stats_.delivered_last;
}

double Worker::schedule_seconds() const {
  int64_t end = schedule_end_ns_ == INT64_MAX ? finished_at_ : schedule_end_ns_;
  return static_cast<double>(std::max<int64_t>(0, end - shared_.start_ns)) / 1e9;
}

// Fires on a fixed cadence: after a stall the overdue beats run back to back, each measuring how
// far behind the loop still was, so the time spent behind adds up.
void Worker::heartbeat() {
  heartbeat_.expires_at(heartbeat_.expiry() + std::chrono::nanoseconds(kHeartbeatNs));
  heartbeat_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    int64_t lag = now_ns() - ns_of(heartbeat_.expiry());
    if (lag > stats_.sec_max_lag_ns) stats_.sec_max_lag_ns = lag;
    if (lag >= static_cast<int64_t>(kMaxLoopLagMs * 1e6)) stats_.sec_stalled_ns += kHeartbeatNs;
    heartbeat();
  });
}

void Worker::note_lag(const asio::steady_timer& timer) {
  int64_t lag = now_ns() - ns_of(timer.expiry());
  if (lag > stats_.sec_max_lag_ns) stats_.sec_max_lag_ns = lag;
}

// Requests the schedule asks of this thread between two instants (the integral of its rate).
double Worker::due_between(int64_t from_ns, int64_t to_ns) const {
  from_ns = std::max(from_ns, shared_.start_ns);
  to_ns = std::min(to_ns, schedule_end_ns_);
  if (to_ns <= from_ns) return 0;
  double seconds = static_cast<double>(to_ns - from_ns) / 1e9;
  if (plan_.opts.stages.empty()) return share_rate_ * seconds;
  constexpr int kSteps = 20;  // trapezoids; exact within a linear stage
  double sum = 0;
  for (int i = 0; i < kSteps; ++i) {
    int64_t a = from_ns + (to_ns - from_ns) * i / kSteps;
    int64_t b = from_ns + (to_ns - from_ns) * (i + 1) / kSteps;
    sum += (current_rate(a) + current_rate(b)) / 2 * (static_cast<double>(b - a) / 1e9);
  }
  return sum;
}

double Worker::current_rate(int64_t at_ns) const {
  if (plan_.opts.stages.empty()) return share_rate_;
  double total = stage_target(plan_.opts.stages, 0, Duration(at_ns - shared_.start_ns));
  return total / plan_.threads;
}

// Closed model: adjusts the number of connections to the (staged) target.
void Worker::control() {
  if (finished_) return;
  int64_t now = now_ns();
  if (!plan_.opts.stages.empty()) {
    double total = stage_target(plan_.opts.stages, 0, Duration(now - shared_.start_ns));
    int n = static_cast<int>(std::lround(total));
    desired_ = n / plan_.threads + (index_ < n % plan_.threads ? 1 : 0);
  } else {
    desired_ = share_connections_;
  }
  if (now >= end_ns_) stopping_ = true;
  while (!stopping_ && active_ < desired_) {
    if (shared_.budget.load(std::memory_order_relaxed) <= 0) break;
    if (!shared_.take_one()) {
      stopping_ = true;
      break;
    }
    Connection* c;
    if (!spare_.empty()) {
      c = spare_.back();
      spare_.pop_back();
    } else {
      c = new_connection();
    }
    ++active_;
    c->issue(now_ns());
  }
  maybe_finish();
  if (finished_) return;
  control_.expires_after(kControlPeriod);
  control_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    note_lag(control_);
    control();
  });
}

void Worker::on_done(Connection* c, bool connect_failed) {
  if (plan_.open_model) {
    idle_.push_back(c);
    dispatch();
    return;
  }
  int64_t now = now_ns();
  if (now >= end_ns_) stopping_ = true;
  if (stopping_ || active_ > desired_ || !shared_.take_one()) {
    if (!stopping_ && active_ <= desired_) stopping_ = true;  // request budget used up
    c->retire();
    spare_.push_back(c);
    --active_;
    maybe_finish();
    return;
  }
  if (connect_failed) {
    // Do not spin on a refusing server: wait a little before the next attempt.
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(10));
    timer->async_wait([this, c, timer](const asio::error_code&) { c->issue(now_ns()); });
    return;
  }
  c->issue(now);
}

void Worker::advance_schedule() {
  // Unit-mean gap in "arrivals": 1 for constant spacing, exponential for Poisson.
  double gap = plan_.opts.poisson ? -std::log(1.0 - rng_.uniform()) : 1.0;
  while (next_ns_ < static_cast<double>(end_ns_)) {
    double rate = current_rate(static_cast<int64_t>(next_ns_));
    double slope = 0;
    if (!plan_.opts.stages.empty())
      slope = stage_slope(plan_.opts.stages, 0,
                          Duration(static_cast<int64_t>(next_ns_) - shared_.start_ns)) /
              plan_.threads;
    double dt_s;
    if (std::abs(slope) < 1e-9) {
      dt_s = rate > 0 ? gap / rate : -1;
    } else {
      // The rate ramps linearly: solve rate*dt + slope*dt^2/2 = gap for the next arrival.
      double disc = rate * rate + 2 * slope * gap;
      dt_s = disc >= 0 ? (-rate + std::sqrt(disc)) / slope : -1;
      if (dt_s <= 0 && rate > 0) dt_s = gap / rate;
    }
    if (dt_s > 0) {
      next_ns_ += dt_s * 1e9;
      break;
    }
    next_ns_ += 1e7;  // nothing due at a zero target: look again 10 ms later
  }
  if (next_ns_ >= static_cast<double>(end_ns_)) schedule_done_ = true;
}

// Open model: sends every request whose time has come, on an idle connection or a new one.
void Worker::dispatch() {
  int64_t now = now_ns();
  if (!schedule_done_ && next_ns_ >= static_cast<double>(end_ns_)) schedule_done_ = true;
  while (!schedule_done_ && next_ns_ <= static_cast<double>(now)) {
    if (!plan_.opts.stages.empty() && !first_scheduled_) {
      // Under a ramp the first arrival is where the integral of the rate reaches one.
      first_scheduled_ = true;
      advance_schedule();
      continue;
    }
    int64_t intended = static_cast<int64_t>(next_ns_);
    if (now - intended > plan_.opts.timeout.count()) {
      // Waited longer than the timeout for a free connection: counted, never silently skipped.
      ++stats_.requests;
      ++stats_.sec_requests;
      ++stats_.errors;
      ++stats_.sec_errors;
      ++stats_.sec_dropped;
      ++stats_.scheduled;
      ++stats_.error_kinds[static_cast<int>(ErrorKind::dropped)];
      stats_.live_requests.fetch_add(1, std::memory_order_relaxed);
      stats_.live_errors.fetch_add(1, std::memory_order_relaxed);
      advance_schedule();
      continue;
    }
    Connection* c = nullptr;
    if (!idle_.empty()) {
      c = idle_.back();
      idle_.pop_back();
    } else if (conns_.size() < max_connections_ && connecting_ < kMaxConnecting) {
      c = new_connection();
    } else {
      backlogged_ = true;
      break;
    }
    if (!shared_.take_one()) {
      idle_.push_back(c);
      schedule_done_ = true;
      schedule_end_ns_ = std::min(schedule_end_ns_, intended);
      break;
    }
    if (backlogged_) {
      ++stats_.late;
      ++stats_.sec_late;
    }
    ++stats_.sec_sent;
    ++stats_.scheduled;
    if (now - kEndGrace < end_ns_) ++stats_.sent_in_window;
    c->issue(intended);
    advance_schedule();
  }
  if (!schedule_done_ && next_ns_ > static_cast<double>(now)) backlogged_ = false;
  if (!schedule_done_ && !tick_armed_ && !backlogged_) {
    tick_armed_ = true;
    tick_.expires_at(at(static_cast<int64_t>(next_ns_)));
    tick_.async_wait([this](const asio::error_code& ec) {
      tick_armed_ = false;
      if (ec) return;
      note_lag(tick_);
      dispatch();
    });
  }
  maybe_finish();
}

void Worker::maybe_finish() {
  if (finished_) return;
  bool done;
  if (plan_.open_model)
    done = schedule_done_ && idle_.size() == conns_.size();
  else
    done = stopping_ && active_ == 0;
  if (!done) return;
  finished_ = true;
  finished_at_ = now_ns();
  for (auto& c : conns_)
    c->retire();
  io_.stop();
}

void Worker::sweep_timeouts() {
  int64_t limit = now_ns() - plan_.opts.timeout.count();
  for (auto& c : conns_)
    c->expire_if_started_before(limit);
  sweep_.expires_after(std::min<Duration>(std::chrono::milliseconds(100), plan_.opts.timeout / 4));
  sweep_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    note_lag(sweep_);
    sweep_timeouts();
  });
}

void Worker::snapshot_second() {
  int64_t now = now_ns();
  SecondSample s;
  s.requests = stats_.sec_requests;
  s.errors = stats_.sec_errors;
  s.bytes_in = stats_.sec_bytes;
  s.target = plan_.open_model ? (now < schedule_end_ns_ ? current_rate(now) : 0) : desired_;
  if (plan_.open_model) {
    s.sent = stats_.sec_sent;
    s.late = stats_.sec_late;
    s.dropped = stats_.sec_dropped;
    s.due = due_between(last_snapshot_ns_, now);
  }
  stats_.interval.drain_into(s.latency);
  s.generator.push_back(clock_.sample(now, stats_.sec_max_lag_ns, stats_.sec_stalled_ns));
  s.saturated = s.generator.back().saturated;
  stats_.sec_requests = stats_.sec_errors = stats_.sec_bytes = 0;
  stats_.sec_sent = stats_.sec_late = stats_.sec_dropped = 0;
  stats_.sec_max_lag_ns = stats_.sec_stalled_ns = 0;
  last_snapshot_ns_ = now;
  std::lock_guard lock(stats_.series_mutex);
  stats_.pending.push_back(std::move(s));
}

void Worker::tick_second() {
  note_lag(second_);
  snapshot_second();
  next_second_ns_ += kSecond;
  second_.expires_at(at(next_second_ns_));
  second_.async_wait([this](const asio::error_code& ec) {
    if (!ec) tick_second();
  });
}

}  // namespace sluice::load
