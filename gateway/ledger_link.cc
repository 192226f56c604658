#include "gateway/ledger_link.h"

#include <chrono>
#include <cstdio>

namespace coffer::gateway {

namespace {
// A finished call's round trip and, if it failed, the error (metrics may be null).
void record_call(Metrics* metrics, std::chrono::steady_clock::time_point start, Result status) {
  if (metrics == nullptr) return;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  metrics->record_ledger_round_trip(static_cast<uint64_t>(us.count()));
  if (status != Result::ok) metrics->record_error(MetricError::ledger_error);
}
}  // namespace

LedgerLink::LedgerLink(LedgerLinkOptions options, Metrics* metrics)
    : options_(std::move(options)), metrics_(metrics), pool_(options_.connections) {}

LedgerLink::~LedgerLink() {
  // Closed outside the lock: closing fails pending calls, whose callbacks may
  // call the link again (and find it empty).
  std::vector<std::shared_ptr<client::Client>> pool;
  {
    std::lock_guard lock(mu_);
    pool.swap(pool_);
  }
  pool.clear();
}

std::shared_ptr<client::Client> LedgerLink::pick() {
  std::lock_guard lock(mu_);
  if (pool_.empty()) return nullptr;
  auto& slot = pool_[next_++ % pool_.size()];
  if (slot) return slot;
  // Opened here, under the lock: a burst of calls while the ledger is down
  // makes one attempt per slot, not one per call.
  client::ClientOptions o;
  o.host = options_.host;
  o.port = options_.port;
  o.token = options_.token;
  o.client_name = "coffer-gateway";
  o.connect_timeout_ms = options_.connect_timeout_ms;
  o.in_flight_frames_max = options_.in_flight_frames_max;
  o.reconnect_attempts_max = options_.reconnect_attempts_max;
  o.log = [host = o.host, port = o.port](const std::string& message) {
    std::fprintf(stderr, "coffer-gateway: ledger %s:%u: %s\n", host.c_str(), unsigned(port),
                 message.c_str());
  };
  std::unique_ptr<client::Client> c;
  if (!client::Client::connect(o, &c).ok()) return nullptr;
  slot = std::shared_ptr<client::Client>(std::move(c));
  return slot;
}

void LedgerLink::submit(std::vector<Command> commands, client::Client::Callback done) {
  submit(std::move(commands), {}, std::move(done));
}

void LedgerLink::submit(std::vector<Command> commands, std::vector<CommandText> texts,
                        client::Client::Callback done) {
  auto c = pick();
  if (!c) {
    if (metrics_) metrics_->record_error(MetricError::ledger_error);
    return done(client::SubmitResult{Result::unavailable, {}});
  }
  auto start = std::chrono::steady_clock::now();
  auto* metrics = metrics_;
  // The client keeps the commands' bytes until the call completes; they are
  // moved into the callback to live that long.
  auto held = std::make_shared<std::pair<std::vector<Command>, std::vector<CommandText>>>(
      std::move(commands), std::move(texts));
  // A client that could not reach the ledger stays in the pool: its next
  // call starts a new reconnect cycle, and calls waiting in it stay queued.
  c->submit(held->first, held->second,
            [held, start, metrics, done = std::move(done)](client::SubmitResult r) {
              record_call(metrics, start, r.status);
              done(std::move(r));
            });
}

void LedgerLink::query(client::Query q, client::Client::QueryCallback done) {
  auto c = pick();
  if (!c) {
    if (metrics_) metrics_->record_error(MetricError::ledger_error);
    return done(client::QueryResult{Result::unavailable, {}, {}});
  }
  auto start = std::chrono::steady_clock::now();
  auto* metrics = metrics_;
  c->query(std::move(q), [start, metrics, done = std::move(done)](client::QueryResult r) {
    record_call(metrics, start, r.status);
    done(std::move(r));
  });
}

void LedgerLink::probe(std::function<void(bool)> done) {
  submit({make_lookup(0)}, [done = std::move(done)](client::SubmitResult r) {
    done(r.status == Result::ok && r.replies.size() == 1);
  });
}

}  // namespace coffer::gateway
