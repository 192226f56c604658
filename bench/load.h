// coffer-bench's shared pieces: options and limits, the workload mix, account
// choice, per-worker statistics and the money tally, the progress line and the
// final report. The two transports (load_binary.cc: the binary protocol;
// load_http.cc: coffer-gateway's JSON API) drive the same mix and hand back a
// RunResult that report() prints and writes as JSON.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/latency_histogram.h"

namespace coffer::bench {

using Clock = std::chrono::steady_clock;

// ---- Limits (all of coffer-bench's, in one place) ------------------------------

inline constexpr uint64_t members_max = 50'000'000;
inline constexpr uint32_t connections_max = 1024;
inline constexpr uint32_t in_flight_max = 1024;
inline constexpr uint32_t setup_batch_size = 4096;             // commands per set-up call
inline constexpr uint32_t refund_pool_size_max = 4096;         // captured payments kept per worker
inline constexpr uint32_t voucher_codes_max = 100'000;         // one paper batch (core's V1 limit)
inline constexpr uint32_t http_attempts_max = 4;               // per request: 503 / lost connection
inline constexpr int64_t initial_funds_minor = 1'000'000'000;  // per member
inline constexpr int64_t payment_amount_min_minor = 100;
inline constexpr int64_t payment_amount_max_minor = 10'000;
inline constexpr int64_t refund_amount_max_minor = 100;  // partial refunds, at most this
inline constexpr int64_t recharge_amount_max_minor = 10'000;
inline constexpr int64_t voucher_face_value_minor = 500;
static_assert(refund_amount_max_minor <= payment_amount_min_minor,
              "a refund must never exceed the payment it refunds");
static_assert(initial_funds_minor / payment_amount_max_minor >= 10'000,
              "members must afford long runs without INSUFFICIENT_FUNDS");

// ---- The mix --------------------------------------------------------------------

enum class OpKind : uint8_t { payment = 0, recharge = 1, refund = 2, read = 3, voucher = 4 };
inline constexpr size_t op_kind_count = 5;
const char* op_kind_name(OpKind kind);  // "payments", "recharges", ...

// Percent per OpKind, summing to 100.
using Mix = std::array<uint32_t, op_kind_count>;
// "payments=70,recharges=10,refunds=5,reads=10,vouchers=5"; names left out are
// 0. False (and *mix untouched) unless every name is known and the sum is 100.
bool parse_mix(const std::string& text, Mix* mix);
std::string mix_text(const Mix& mix);
OpKind pick_op(const Mix& mix, std::mt19937_64& rng);

struct Options {
  // Binary protocol.
  std::string server = "127.0.0.1:7700";
  std::string token_file = "data/token";
  uint32_t batch = 64;
  uint32_t in_flight = 8;  // calls outstanding per connection
  // HTTP (coffer-gateway): set by --http HOST:PORT or --target http://HOST:PORT.
  bool http = false;
  std::string http_host;
  uint16_t http_port = 0;
  std::string api_key;
  uint32_t http_threads = 1;  // I/O threads driving the connections
  // Both.
  uint64_t members = 100'000;
  uint32_t connections = 4;
  double duration_s = 10;
  uint64_t count = 0;  // operations; 0 = run for duration_s
  double zipf = 0;     // 0 = uniform
  uint64_t seed = 1;
  std::string merchant = "coffer-bench";
  std::string json_path = "coffer-bench.json";
  bool setup = true;
  bool verify = true;
  bool progress = true;
  std::vector<int> cpu_pids;  // --cpu-pids: processes whose CPU time is reported
  Mix mix{70, 10, 5, 10, 5};
};

// Zipf over 1..n by inversion of a precomputed CDF (n up to a few million).
class AccountChooser {
 public:
  AccountChooser(uint64_t n, double s);
  uint64_t pick(std::mt19937_64& rng) const;

 private:
  uint64_t n_;
  std::vector<double> cdf_;
};

// Captured payments a worker may refund later: bounded, a random one is
// replaced when full. Each payment is refunded at most once.
struct Captured {
  uint64_t counter;  // the payment's op counter (its string id is derived from it)
  uint64_t member;
  int64_t amount;
};
class RefundPool {
 public:
  void add(const Captured& c, std::mt19937_64& rng);
  bool take(std::mt19937_64& rng, Captured* out);

 private:
  std::vector<Captured> items_;
};

// The caller-side string ids (the gateway's payment_id, credit_id, refund_id):
// "<prefix>-<worker>-<tag><counter>". Both transports derive the core ids
// from them as the gateway does, so a bench payment is visible over HTTP.
std::string op_id(const std::string& prefix, uint32_t worker, char tag, uint64_t counter);

struct WorkerStats {
  LatencyHistogram latency;  // per call: a batch (binary) or a request (HTTP)
  std::array<LatencyHistogram, op_kind_count> op_latency;  // HTTP only: per request
  std::array<uint64_t, op_kind_count> ok{};                // acknowledged, by kind
  uint64_t operations = 0;                                 // answered, ok or not
  std::map<std::string, uint64_t> errors;                  // by result code
  uint64_t uncertain = 0;  // outcome unknown (lost connection, UNAVAILABLE after retries)
  // The acknowledged net change of every member's wallet (index = member id)
  // and of the merchant's settlement account: the reference tally.
  std::vector<int64_t> member_delta;
  int64_t merchant_delta = 0;

  void merge(const WorkerStats& other);
  // Books one acknowledged operation in the tally.
  void book(OpKind kind, uint64_t member, int64_t amount);
};

// Counters the progress line reads while workers run.
struct Progress {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> issued{0};
  std::atomic<bool> stop{false};
  // Count mode: claims `n` operations; false once --count is reached.
  // Duration mode: false once stop is set.
  bool claim(const Options& o, uint64_t n) {
    if (o.count == 0) return !stop.load(std::memory_order_relaxed);
    return issued.fetch_add(n) < o.count;
  }
};
// Prints a progress line each second until the run ends (count reached, or
// duration passed: then sets stop). Returns when the workers may be joined.
void watch_progress(const Options& o, Progress* p, Clock::time_point start);

// Balances read back before and after the run.
struct Snapshot {
  std::vector<int64_t> member_balance;  // index = member id; [0] unused
  bool merchant_known = false;          // binary: merchant settlement balance
  int64_t merchant_balance = 0;
  bool system_known = false;  // binary: the sum over the wallet-asset system accounts
  int64_t system_sum = 0;
};

struct RunResult {
  std::string transport;  // "binary" or "http"
  double elapsed_s = 0;
  double cpu_s = 0;               // coffer-bench's own CPU time (user + system) while it ran
  std::vector<double> pid_cpu_s;  // the same for each of Options::cpu_pids
  WorkerStats total;
  bool verified = false;
  uint64_t members_mismatched = 0;
  bool merchant_checked = false;
  bool merchant_ok = true;
  bool zero_sum_checked = false;
  int64_t zero_sum_delta = 0;  // change of all our accounts + system accounts: must be 0
};
// CPU seconds (user + system) this process has used so far.
double process_cpu_s();
// The same for another process (Linux /proc); 0 if it cannot be read.
double pid_cpu_s(int pid);
// Measures the CPU time of this process and of Options::cpu_pids over a run.
class CpuMeter {
 public:
  explicit CpuMeter(const Options& o);
  void finish(RunResult* r) const;

 private:
  const Options& o_;
  double self_s_;
  std::vector<double> pids_s_;
};

// Compares the snapshots with the tally; fills the verification fields.
void check_money(const Snapshot& before, const Snapshot& after, RunResult* r);

// Prints the summary, writes the JSON file; returns the exit code (1: money
// check failed).
int report(const Options& o, const RunResult& r);

int run_binary(const Options& o);
int run_http(const Options& o);

}  // namespace coffer::bench
