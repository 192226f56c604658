#include "gateway/metrics.h"

#include <cinttypes>
#include <cstdio>

#include "gateway/errors.h"

namespace coffer::gateway {
namespace {

constexpr std::array<std::string_view, Metrics::bucket_bounds_us.size()> kBucketLabels = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};

void append_u64(std::string* out, uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%" PRIu64, v);
  out->append(buf, size_t(n));
}

void append_seconds(std::string* out, uint64_t us) {
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, us / 1'000'000, us % 1'000'000);
  out->append(buf, size_t(n));
}

void header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

std::string route_label_value(size_t slot) {
  if (slot == route_count) return "unmatched";
  return route_label(route_table()[slot]);
}

}  // namespace

std::string_view metric_error_name(MetricError e) {
  switch (e) {
    case MetricError::header_timeout:
      return "header_timeout";
    case MetricError::idle_timeout:
      return "idle_timeout";
    case MetricError::malformed_request:
      return "malformed_request";
    case MetricError::connection_rejected:
      return "connection_rejected";
    case MetricError::handler_timeout:
      return "handler_timeout";
    case MetricError::write_failed:
      return "write_failed";
    case MetricError::ledger_error:
      return "ledger_error";
  }
  return "unknown";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void Metrics::Histogram::observe(uint64_t us) {
  size_t i = 0;
  while (i < bucket_bounds_us.size() && us > bucket_bounds_us[i])
    ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
  sum_us.fetch_add(us, std::memory_order_relaxed);
}

size_t Metrics::route_slot(const RouteSpec* route) {
  if (route == nullptr) return route_count;
  size_t i = static_cast<size_t>(route->id);
  COFFER_ASSERT(i < route_count);
  return i;
}

size_t Metrics::status_slot(unsigned status) {
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == status) return i;
  }
  return statuses.size();
}

void Metrics::record_request(const RouteSpec* route, unsigned status, uint64_t latency_us) {
  size_t r = route_slot(route);
  requests_[r][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  latency_[r].observe(latency_us);
}

void Metrics::record_ledger_round_trip(uint64_t latency_us) {
  ledger_round_trip_.observe(latency_us);
}

void Metrics::record_error(MetricError e) {
  size_t i = static_cast<size_t>(e);
  COFFER_ASSERT(i < metric_error_count);
  errors_[i].fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::requests(const RouteSpec* route, unsigned status) const {
  return requests_[route_slot(route)][status_slot(status)].load(std::memory_order_relaxed);
}

uint64_t Metrics::errors(MetricError e) const {
  return errors_[static_cast<size_t>(e)].load(std::memory_order_relaxed);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(16 << 10);

  header(&out, "coffer_http_requests_total", "counter",
         "HTTP requests answered, by route and status.");
  for (size_t r = 0; r < route_slots; ++r) {
    std::string route = escape_label_value(route_label_value(r));
    for (size_t s = 0; s < status_slots; ++s) {
      uint64_t n = requests_[r][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "coffer_http_requests_total{route=\"";
      out += route;
      out += "\",status=\"";
      if (s < statuses.size()) {
        append_u64(&out, statuses[s]);
      } else {
        out += "other";
      }
      out += "\"} ";
      append_u64(&out, n);
      out += '\n';
    }
  }

  auto histogram = [&out](std::string_view name, std::string_view labels, const Histogram& h) {
    // Read each bucket once; _count is their sum so that it always equals
    // the +Inf bucket even while requests are being recorded.
    uint64_t cumulative = 0;
    for (size_t b = 0; b < bucket_count; ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      out += name;
      out += "_bucket{";
      out += labels;
      if (!labels.empty()) out += ',';
      out += "le=\"";
      out += b < kBucketLabels.size() ? kBucketLabels[b] : std::string_view("+Inf");
      out += "\"} ";
      append_u64(&out, cumulative);
      out += '\n';
    }
    // Built by appends: GCC 12's -Wrestrict misfires on `"{" + std::string(...)` at -O3.
    std::string braces;
    if (!labels.empty()) {
      braces += '{';
      braces += labels;
      braces += '}';
    }
    out += name;
    out += "_sum";
    out += braces;
    out += ' ';
    append_seconds(&out, h.sum_us.load(std::memory_order_relaxed));
    out += '\n';
    out += name;
    out += "_count";
    out += braces;
    out += ' ';
    append_u64(&out, cumulative);
    out += '\n';
  };

  header(&out, "coffer_http_request_duration_seconds", "histogram",
         "Time from a complete request header to its answer, by route.");
  for (size_t r = 0; r < route_slots; ++r) {
    uint64_t any = 0;
    for (const auto& b : latency_[r].buckets)
      any += b.load(std::memory_order_relaxed);
    if (any == 0) continue;
    std::string labels = "route=\"" + escape_label_value(route_label_value(r)) + "\"";
    histogram("coffer_http_request_duration_seconds", labels, latency_[r]);
  }

  header(&out, "coffer_ledger_round_trip_seconds", "histogram",
         "Time from sending a command to the ledger server to its result.");
  histogram("coffer_ledger_round_trip_seconds", "", ledger_round_trip_);

  header(&out, "coffer_http_open_connections", "gauge", "HTTP connections open now.");
  out += "coffer_http_open_connections ";
  int64_t open = open_connections();
  append_u64(&out, open < 0 ? 0 : uint64_t(open));
  out += '\n';

  header(&out, "coffer_gateway_errors_total", "counter", "Gateway errors, by kind.");
  for (size_t e = 0; e < metric_error_count; ++e) {
    out += "coffer_gateway_errors_total{kind=\"";
    out += escape_label_value(metric_error_name(MetricError(e)));
    out += "\"} ";
    append_u64(&out, errors_[e].load(std::memory_order_relaxed));
    out += '\n';
  }
  return out;
}

}  // namespace coffer::gateway
