#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "bench/load.h"

namespace coffer::bench {

namespace {
constexpr const char* kOpNames[op_kind_count] = {"payments", "recharges", "refunds", "reads",
                                                 "vouchers"};
}

const char* op_kind_name(OpKind kind) {
  return kOpNames[static_cast<size_t>(kind)];
}

bool parse_mix(const std::string& text, Mix* mix) {
  Mix m{};
  if (!text.empty() && text.back() == ',') return false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    auto eq = item.find('=');
    if (eq == std::string::npos) return false;
    std::string name = item.substr(0, eq);
    size_t idx = op_kind_count;
    for (size_t i = 0; i < op_kind_count; ++i)
      if (name == kOpNames[i]) idx = i;
    if (idx == op_kind_count) return false;
    try {
      size_t used = 0;
      unsigned long v = std::stoul(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1 || v > 100) return false;
      m[idx] = static_cast<uint32_t>(v);
    } catch (...) {
      return false;
    }
    pos = end + 1;
  }
  uint32_t sum = 0;
  for (uint32_t v : m)
    sum += v;
  if (sum != 100) return false;
  *mix = m;
  return true;
}

std::string mix_text(const Mix& mix) {
  std::string s;
  for (size_t i = 0; i < op_kind_count; ++i) {
    if (!s.empty()) s += ",";
    s += std::string(kOpNames[i]) + "=" + std::to_string(mix[i]);
  }
  return s;
}

OpKind pick_op(const Mix& mix, std::mt19937_64& rng) {
  uint32_t r = static_cast<uint32_t>(rng() % 100);
  for (size_t i = 0; i < op_kind_count; ++i) {
    if (r < mix[i]) return static_cast<OpKind>(i);
    r -= mix[i];
  }
  return OpKind::read;  // unreachable: the mix sums to 100
}

AccountChooser::AccountChooser(uint64_t n, double s) : n_(n) {
  if (s <= 0) return;
  cdf_.resize(n);
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
    cdf_[i] = sum;
  }
  for (auto& c : cdf_)
    c /= sum;
}

uint64_t AccountChooser::pick(std::mt19937_64& rng) const {
  if (cdf_.empty()) return 1 + rng() % n_;
  double u = std::uniform_real_distribution<double>(0, 1)(rng);
  auto rank = static_cast<uint64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  // Scatter ranks over ids so that hot members are not neighbours.
  return 1 + (std::min(rank, n_ - 1) * 0x9e3779b97f4a7c15ull) % n_;
}

void RefundPool::add(const Captured& c, std::mt19937_64& rng) {
  if (items_.size() < refund_pool_size_max) {
    items_.push_back(c);
  } else {
    items_[rng() % items_.size()] = c;
  }
}

bool RefundPool::take(std::mt19937_64& rng, Captured* out) {
  if (items_.empty()) return false;
  size_t i = rng() % items_.size();
  *out = items_[i];
  items_[i] = items_.back();
  items_.pop_back();
  return true;
}

std::string op_id(const std::string& prefix, uint32_t worker, char tag, uint64_t counter) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "-%u-%c%llu", worker, tag,
                        static_cast<unsigned long long>(counter));
  return prefix + std::string(buf, static_cast<size_t>(n));
}

void WorkerStats::merge(const WorkerStats& other) {
  latency.merge(other.latency);
  for (size_t i = 0; i < op_kind_count; ++i) {
    op_latency[i].merge(other.op_latency[i]);
    ok[i] += other.ok[i];
  }
  operations += other.operations;
  uncertain += other.uncertain;
  for (const auto& [code, n] : other.errors)
    errors[code] += n;
  if (member_delta.size() < other.member_delta.size())
    member_delta.resize(other.member_delta.size(), 0);
  for (size_t i = 0; i < other.member_delta.size(); ++i)
    member_delta[i] += other.member_delta[i];
  merchant_delta += other.merchant_delta;
}

void WorkerStats::book(OpKind kind, uint64_t member, int64_t amount) {
  ok[static_cast<size_t>(kind)]++;
  switch (kind) {
    case OpKind::payment:  // wallet only: the whole amount moves to the merchant
      member_delta[member] -= amount;
      merchant_delta += amount;
      break;
    case OpKind::recharge:
      member_delta[member] += amount;
      break;
    case OpKind::refund:
      member_delta[member] += amount;
      merchant_delta -= amount;
      break;
    case OpKind::voucher:  // paper: voucher liability pays the merchant
      merchant_delta += amount;
      break;
    case OpKind::read:
      break;
  }
}

void watch_progress(const Options& o, Progress* p, Clock::time_point start) {
  uint64_t last_done = 0;
  auto next = start;
  while (true) {
    next += std::chrono::seconds(1);
    // Wake often enough to notice the end of a --count run quickly.
    while (Clock::now() < next) {
      if (o.count != 0 && p->done.load() >= o.count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t done = p->done.load();
    if (o.progress) {
      std::fprintf(stderr, "\r[%6.1fs] %12llu operations  %10.0f/s  errors %llu   ", elapsed,
                   static_cast<unsigned long long>(done), static_cast<double>(done - last_done),
                   static_cast<unsigned long long>(p->errors.load()));
    }
    last_done = done;
    if (o.count == 0 && elapsed >= o.duration_s) p->stop = true;
    if (o.count != 0 && p->issued.load() >= o.count) break;
    if (p->stop) break;
  }
  p->stop = true;
  if (o.progress) std::fprintf(stderr, "\n");
}

double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

double pid_cpu_s(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int k = 3; k <= 15 && fields >> f; ++k) {
    if (k >= 14) ticks += std::stod(f);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

CpuMeter::CpuMeter(const Options& o) : o_(o), self_s_(process_cpu_s()) {
  for (int pid : o.cpu_pids)
    pids_s_.push_back(pid_cpu_s(pid));
}

void CpuMeter::finish(RunResult* r) const {
  r->cpu_s = process_cpu_s() - self_s_;
  r->pid_cpu_s.clear();
  for (size_t i = 0; i < o_.cpu_pids.size(); ++i)
    r->pid_cpu_s.push_back(pid_cpu_s(o_.cpu_pids[i]) - pids_s_[i]);
}

void check_money(const Snapshot& before, const Snapshot& after, RunResult* r) {
  r->verified = true;
  const WorkerStats& t = r->total;
  int64_t members_change = 0;
  for (size_t m = 1; m < before.member_balance.size(); ++m) {
    int64_t delta = m < t.member_delta.size() ? t.member_delta[m] : 0;
    int64_t expected = before.member_balance[m] + delta;
    if (after.member_balance[m] != expected) {
      if (r->members_mismatched < 10) {
        std::fprintf(stderr, "coffer-bench: member %zu holds %lld, expected %lld\n", m,
                     static_cast<long long>(after.member_balance[m]),
                     static_cast<long long>(expected));
      }
      r->members_mismatched++;
    }
    members_change += after.member_balance[m] - before.member_balance[m];
  }
  if (before.merchant_known && after.merchant_known) {
    r->merchant_checked = true;
    int64_t expected = before.merchant_balance + t.merchant_delta;
    r->merchant_ok = after.merchant_balance == expected;
    if (!r->merchant_ok) {
      std::fprintf(stderr, "coffer-bench: merchant holds %lld, expected %lld\n",
                   static_cast<long long>(after.merchant_balance),
                   static_cast<long long>(expected));
    }
    if (before.system_known && after.system_known) {
      // Money moved only between our members, our merchant and the system
      // accounts (if nobody else used the ledger meanwhile): the total change
      // of all of them is zero, as in any double-entry ledger.
      r->zero_sum_checked = true;
      r->zero_sum_delta = members_change + (after.merchant_balance - before.merchant_balance) +
                          (after.system_sum - before.system_sum);
    }
  }
}

namespace {
bool money_ok(const RunResult& r) {
  return r.verified && r.members_mismatched == 0 && r.merchant_ok &&
         (!r.zero_sum_checked || r.zero_sum_delta == 0);
}
}  // namespace

int report(const Options& o, const RunResult& r) {
  const WorkerStats& t = r.total;
  double rate = r.elapsed_s > 0 ? static_cast<double>(t.operations) / r.elapsed_s : 0;
  auto ms = [](uint64_t us) { return static_cast<double>(us) / 1000.0; };
  std::printf("transport     %s  (%u connections%s)\n", r.transport.c_str(), o.connections,
              r.transport == "binary" ? (", batch " + std::to_string(o.batch)).c_str() : "");
  std::printf("mix           %s\n", mix_text(o.mix).c_str());
  std::printf("operations    %llu in %.2f s\n", static_cast<unsigned long long>(t.operations),
              r.elapsed_s);
  std::printf("throughput    %.0f operations/s  (coffer-bench CPU %.2f s)\n", rate, r.cpu_s);
  for (size_t i = 0; i < op_kind_count; ++i) {
    if (t.ok[i] == 0) continue;
    std::printf("  ok %-10s %12llu  %10.0f/s\n", kOpNames[i],
                static_cast<unsigned long long>(t.ok[i]),
                static_cast<double>(t.ok[i]) / r.elapsed_s);
  }
  const char* unit = r.transport == "binary" ? "call" : "request";
  std::printf("%-13s p50 %.3f ms  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
              (std::string(unit) + " latency").c_str(), ms(t.latency.percentile_us(50)),
              ms(t.latency.percentile_us(90)), ms(t.latency.percentile_us(99)),
              ms(t.latency.percentile_us(99.9)), ms(t.latency.max_us()));
  for (const auto& [code, n] : t.errors)
    std::printf("result        %-22s %llu\n", code.c_str(), static_cast<unsigned long long>(n));
  if (t.uncertain) {
    std::printf("uncertain     %llu operations (outcome unknown)\n",
                static_cast<unsigned long long>(t.uncertain));
  }
  if (r.verified) {
    std::printf("money check   %s (%llu members mismatched", money_ok(r) ? "OK" : "FAILED",
                static_cast<unsigned long long>(r.members_mismatched));
    if (r.merchant_checked) std::printf(", merchant %s", r.merchant_ok ? "ok" : "WRONG");
    if (r.zero_sum_checked)
      std::printf(", zero-sum change %lld", static_cast<long long>(r.zero_sum_delta));
    std::printf(")\n");
  }

  std::ofstream json(o.json_path);
  auto lat = [&](const LatencyHistogram& h) {
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        "{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f,\"count\":%llu}",
        ms(h.percentile_us(50)), ms(h.percentile_us(90)), ms(h.percentile_us(99)),
        ms(h.percentile_us(99.9)), ms(h.max_us()), static_cast<unsigned long long>(h.count()));
    return std::string(buf);
  };
  json << "{\"transport\":\"" << r.transport << "\",\"mix\":\"" << mix_text(o.mix)
       << "\",\"operations\":" << t.operations << ",\"seconds\":" << r.elapsed_s
       << ",\"operations_per_s\":" << rate << ",\"cpu_s\":" << r.cpu_s << ",\"pid_cpu_s\":[";
  for (size_t i = 0; i < r.pid_cpu_s.size(); ++i)
    json << (i ? "," : "") << r.pid_cpu_s[i];
  json << "],\"commands_per_s\":" << rate
       << ",\"batch\":" << (r.transport == "binary" ? o.batch : 1)
       << ",\"connections\":" << o.connections << ",\"members\":" << o.members
       << ",\"zipf\":" << o.zipf << ",\"seed\":" << o.seed << ",\"ok\":{";
  for (size_t i = 0; i < op_kind_count; ++i) {
    json << (i ? "," : "") << "\"" << kOpNames[i] << "\":" << t.ok[i];
  }
  json << "},\"ok_per_s\":{";
  for (size_t i = 0; i < op_kind_count; ++i) {
    json << (i ? "," : "") << "\"" << kOpNames[i]
         << "\":" << (r.elapsed_s > 0 ? static_cast<double>(t.ok[i]) / r.elapsed_s : 0);
  }
  json << "},\"latency_ms\":" << lat(t.latency);
  if (r.transport == "http") {
    json << ",\"latency_ms_by_kind\":{";
    bool first = true;
    for (size_t i = 0; i < op_kind_count; ++i) {
      if (t.op_latency[i].count() == 0) continue;
      json << (first ? "" : ",") << "\"" << kOpNames[i] << "\":" << lat(t.op_latency[i]);
      first = false;
    }
    json << "}";
  }
  json << ",\"errors\":{";
  bool first = true;
  for (const auto& [code, n] : t.errors) {
    json << (first ? "" : ",") << "\"" << code << "\":" << n;
    first = false;
  }
  json << "},\"uncertain\":" << t.uncertain
       << ",\"money_check\":" << (!r.verified ? "null" : (money_ok(r) ? "true" : "false"))
       << ",\"members_mismatched\":" << r.members_mismatched
       << ",\"zero_sum_checked\":" << (r.zero_sum_checked ? "true" : "false") << "}\n";
  return r.verified && !money_ok(r) ? 1 : 0;
}

}  // namespace coffer::bench
