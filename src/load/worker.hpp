// The per-thread half of the engine: connections on one io_context, and their statistics.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "http/parser.hpp"
#include "load/engine.hpp"
#include "load/health.hpp"
#include "load/templates.hpp"

namespace sluice::load {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// State every worker sees.
struct SharedState {
  int64_t start_ns = 0;
  std::atomic<int64_t> budget{INT64_MAX};  // requests left to start
  bool take_one() { return budget.fetch_sub(1, std::memory_order_relaxed) > 0; }
};

struct ThreadStats {
  Histogram latency, service, connect, interval;
  ErrorCounts error_kinds{};
  uint64_t requests = 0, errors = 0, bytes_in = 0, bytes_out = 0, late = 0;
  uint64_t cache_hits = 0, cache_misses = 0;
  std::array<uint64_t, 600> statuses{};
  std::vector<std::unique_ptr<NameStats>> by_name;  // by request index
  uint64_t sec_requests = 0, sec_errors = 0, sec_bytes = 0;
  uint64_t sec_sent = 0, sec_late = 0, sec_dropped = 0;
  int64_t sec_max_lag_ns = 0, sec_stalled_ns = 0;
  // Open model, for the achieved-rate check: arrivals due before the end of the schedule, and
  // how many of them were sent before it.
  uint64_t scheduled = 0, sent_in_window = 0;
  std::atomic<uint64_t> live_requests{0}, live_errors{0};
  // Finished seconds wait here until the main thread takes them (once a second each way).
  std::mutex series_mutex;
  std::vector<SecondSample> pending;
  bool delivered_last = false;
};

class Worker;

class Connection {
 public:
  explicit Connection(Worker& w);
  // Sends one request whose latency counts from `intended_ns`.
  void issue(int64_t intended_ns);
  // Connects without sending (open model warm-up); counts down w.warming_ when done.
  void warm_up();
  void retire();
  bool busy() const { return busy_; }
  bool retired() const { return retired_; }
  // Aborts the exchange in flight when it started before `deadline_ns`.
  void expire_if_started_before(int64_t deadline_ns);

 private:
  void connect();
  void write();
  void read();
  void on_read(size_t n);
  void complete();
  void fail(ErrorKind kind);
  void close();

  Worker& w_;
  asio::ip::tcp::socket sock_;
  std::optional<http::Parser> parser_;
  std::unique_ptr<char[]> rbuf_;
  size_t fill_ = 0, pos_ = 0;
  std::string wbuf_, scratch_;
  const std::string* out_ = nullptr;
  size_t req_ = 0;
  int64_t intended_ = 0, sent_ = 0, started_ = 0;
  int status_ = 0;
  bool connected_ = false, busy_ = false, retired_ = false, timed_out_ = false;
  bool keep_alive_ = true;
};

class Worker {
 public:
  Worker(const Plan& plan, SharedState& shared, int index, int connections, double rate);
  // Before the clock starts: the open model opens a few connections, so the first second does
  // not open one per due request while the first connects are still in flight.
  void prepare();
  void run();
  ThreadStats& stats() { return stats_; }
  int64_t finished_at() const { return finished_at_; }
  // Moves the finished seconds into `out`; true once the last one has been handed over.
  bool take_seconds(std::vector<SecondSample>& out);
  // Open model: the length of the schedule this thread ran, in seconds.
  double schedule_seconds() const;

 private:
  friend class Connection;
  void on_done(Connection* c, bool connect_failed);
  size_t pick_request();
  void dispatch();
  void advance_schedule();
  double current_rate(int64_t at_ns) const;
  void control();
  void tick_second();
  void sweep_timeouts();
  void maybe_finish();
  void snapshot_second();
  void note_lag(const asio::steady_timer& timer);
  void heartbeat();
  double due_between(int64_t from_ns, int64_t to_ns) const;
  Connection* new_connection();

  const Plan& plan_;
  SharedState& shared_;
  int index_;
  asio::io_context io_{1};
  Rng rng_;
  ThreadStats stats_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<Connection*> idle_;   // open model: connected and free
  std::vector<Connection*> spare_;  // closed model: retired by a ramp-down, reusable
  int desired_ = 0;                 // closed model: connections this thread should have
  int active_ = 0;
  int share_connections_;
  double share_rate_;
  int64_t end_ns_ = INT64_MAX;
  bool stopping_ = false;  // no new requests
  bool finished_ = false;
  int64_t finished_at_ = 0;
  // Open model schedule.
  double next_ns_ = 0;
  bool schedule_done_ = false;
  bool backlogged_ = false;
  bool first_scheduled_ = false;
  bool tick_armed_ = false;
  size_t max_connections_ = 0;
  int warming_ = 0;
  int connecting_ = 0;  // connects in flight
  asio::steady_timer tick_, second_, sweep_, control_, heartbeat_;
  int64_t next_second_ns_ = 0;
  int64_t last_snapshot_ns_ = 0;
  int64_t schedule_end_ns_ = INT64_MAX;  // end of the run, or when the request budget ran out
  ThreadClock clock_;
};

}  // namespace sluice::load
