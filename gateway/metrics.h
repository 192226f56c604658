// Prometheus metrics of the gateway. Recording is a few relaxed atomic
// increments on fixed arrays (no locks, no allocation); render() writes the
// text exposition format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/routes.h"

namespace coffer::gateway {

enum class MetricError : uint8_t {
  header_timeout,       // request header or body not received in time
  idle_timeout,         // keep-alive connection closed for silence
  malformed_request,    // HTTP parse errors (400/413/431 before routing)
  connection_rejected,  // over connections_max
  handler_timeout,      // handler did not answer in handler_timeout_ms
  write_failed,         // client went away or stopped reading
  ledger_error,         // ledger unreachable or failed (recorded by handlers)
};
inline constexpr size_t metric_error_count = 7;
std::string_view metric_error_name(MetricError e);

// Escapes a label value for the text format: \ " and newline.
std::string escape_label_value(std::string_view value);

class Metrics {
 public:
  // Latency bucket upper bounds (microseconds), then +Inf.
  static constexpr std::array<uint64_t, 14> bucket_bounds_us = {
      500,     1'000,   2'500,   5'000,     10'000,    25'000,    50'000,
      100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
  static constexpr size_t bucket_count = bucket_bounds_us.size() + 1;
  // Statuses counted individually; anything else counts as "other".
  static constexpr std::array<uint16_t, 16> statuses = {200, 201, 204, 400, 401, 403, 404, 405,
                                                        409, 413, 422, 429, 431, 500, 501, 503};
  static constexpr size_t status_slots = statuses.size() + 1;
  // Requests that matched no route count under route "unmatched".
  static constexpr size_t route_slots = route_count + 1;

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // `route` is nullptr for requests that matched no route.
  void record_request(const RouteSpec* route, unsigned status, uint64_t latency_us);
  void record_ledger_round_trip(uint64_t latency_us);
  void record_error(MetricError e);
  void connection_opened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  uint64_t requests(const RouteSpec* route, unsigned status) const;
  uint64_t errors(MetricError e) const;

  std::string render() const;

 private:
  struct Histogram {
    std::array<std::atomic<uint64_t>, bucket_count> buckets{};
    std::atomic<uint64_t> sum_us{0};
    void observe(uint64_t us);
  };
  static size_t route_slot(const RouteSpec* route);
  static size_t status_slot(unsigned status);

  std::array<std::array<std::atomic<uint64_t>, status_slots>, route_slots> requests_{};
  std::array<Histogram, route_slots> latency_{};
  Histogram ledger_round_trip_;
  std::array<std::atomic<uint64_t>, metric_error_count> errors_{};
  std::atomic<int64_t> open_connections_{0};
};

}  // namespace coffer::gateway
