// coffer-bench: a load generator over the binary protocol. It opens
// --connections clients, each sending calls of --batch commands drawn from the
// workload mix, for --duration seconds or --count commands; prints a progress
// line each second and, at the end, throughput, latency percentiles, errors by
// code and a JSON result file. Last, it reads every touched account back and
// checks that the ledger holds exactly what the acknowledged commands imply: no
// lost and no duplicated money.
//
// The mix today is made of engine commands (single-phase transfers between a
// member's wallet, a merchant settlement account and a channel clearing
// account, and account lookups); voucher redemptions need the domain commands.
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/latency_histogram.h"
#include "clients/client.h"

namespace po = boost::program_options;
using namespace coffer;
using coffer::bench::LatencyHistogram;
using Clock = std::chrono::steady_clock;

namespace {

// System accounts live at the top of the id space, far from member ids 1..N.
constexpr uint64_t kClearingAccount = 0x7fff'ffff'ffff'ff01;
constexpr uint64_t kMerchantAccount = 0x7fff'ffff'ffff'ff02;
constexpr int64_t kInitialFunds = 1'000'000'000;  // per member, minor units

enum class Op : uint8_t { payment, recharge, refund, read };

struct Options {
  std::string server = "127.0.0.1:7700";
  std::string token_file = "data/token";
  uint64_t members = 100'000;
  uint32_t connections = 4;
  uint32_t batch = 64;
  uint32_t in_flight = 8;  // calls outstanding per connection
  double duration_s = 10;
  uint64_t count = 0;  // commands; 0 = run for duration_s
  double zipf = 0;     // 0 = uniform
  uint64_t seed = 1;
  std::string json_path = "coffer-bench.json";
  bool setup = true;
  bool verify = true;
  // Mix, in percent: payments, recharges, refunds, reads.
  std::array<uint32_t, 4> mix{70, 10, 5, 15};
};

// Zipf over 1..n by inversion of a precomputed CDF (n up to a few million).
class AccountChooser {
 public:
  AccountChooser(uint64_t n, double s) : n_(n) {
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
  uint64_t pick(std::mt19937_64& rng) const {
    if (cdf_.empty()) return 1 + rng() % n_;
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    uint64_t rank =
        static_cast<uint64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    // Scatter ranks over ids so that hot accounts are not neighbours.
    return 1 + (rank * 0x9e3779b97f4a7c15ull) % n_;
  }

 private:
  uint64_t n_;
  std::vector<double> cdf_;
};

struct WorkerStats {
  LatencyHistogram latency;  // per call
  uint64_t commands = 0;
  std::map<std::string, uint64_t> errors;  // by result name
  // Acknowledged net change per account slot (see slot_of): a flat array, so
  // that the bookkeeping keeps up with millions of replies per second.
  std::vector<int64_t> deltas;
};

struct Shared {
  std::atomic<uint64_t> commands_done{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> commands_issued{0};
  std::atomic<bool> stop{false};
};

Id128 make_id(uint64_t run, uint64_t counter) {
  return Id128{counter, run};
}

// Members 1..N keep their id as slot; the two system accounts take 0 and N+1.
size_t slot_of(uint64_t account, uint64_t members) {
  if (account == kClearingAccount) return 0;
  if (account == kMerchantAccount) return members + 1;
  return account;
}

bool parse_host_port(const std::string& s, std::string* host, uint16_t* port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *host = s.substr(0, colon);
  try {
    unsigned long p = std::stoul(s.substr(colon + 1));
    if (p == 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

bool read_token(const std::string& path, std::string* token) {
  std::ifstream in(path);
  if (!in || !std::getline(in, *token) || token->empty()) return false;
  while (!token->empty() && (token->back() == '\r' || token->back() == ' '))
    token->pop_back();
  return true;
}

std::vector<uint32_t> parse_mix(const std::string& text, std::array<uint32_t, 4>* mix) {
  // "payments=70,recharges=10,refunds=5,reads=15"
  std::array<uint32_t, 4> m{0, 0, 0, 0};
  static const char* names[] = {"payments", "recharges", "refunds", "reads"};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    auto eq = item.find('=');
    if (eq == std::string::npos) return {};
    std::string name = item.substr(0, eq);
    int idx = -1;
    for (int i = 0; i < 4; ++i)
      if (name == names[i]) idx = i;
    if (idx < 0) return {};
    try {
      m[idx] = static_cast<uint32_t>(std::stoul(item.substr(eq + 1)));
    } catch (...) {
      return {};
    }
    pos = end + 1;
  }
  if (m[0] + m[1] + m[2] + m[3] != 100) return {};
  *mix = m;
  return {1};
}

Op pick_op(const Options& o, std::mt19937_64& rng) {
  uint32_t r = static_cast<uint32_t>(rng() % 100);
  for (int i = 0; i < 4; ++i) {
    if (r < o.mix[i]) return static_cast<Op>(i);
    r -= o.mix[i];
  }
  return Op::read;
}

void run_worker(const Options& o, client::Client* client, const AccountChooser& chooser,
                uint64_t run_id, uint32_t worker, Shared* shared, WorkerStats* stats) {
  std::mt19937_64 rng(o.seed * 1'000'003 + worker);
  uint64_t counter = uint64_t{worker} << 40;
  std::mutex mu;  // guards stats against the client's reader thread
  std::atomic<uint32_t> outstanding{0};
  auto budget_left = [&] {
    if (o.count == 0) return !shared->stop.load();
    return shared->commands_issued.fetch_add(o.batch) < o.count;
  };
  while (budget_left()) {
    while (outstanding.load() >= o.in_flight)
      std::this_thread::yield();
    std::vector<Command> batch;
    batch.reserve(o.batch);
    for (uint32_t i = 0; i < o.batch; ++i) {
      uint64_t member = chooser.pick(rng);
      int64_t amount = 1 + static_cast<int64_t>(rng() % 100);
      Id128 id = make_id(run_id, ++counter);
      switch (pick_op(o, rng)) {
        case Op::payment:
          batch.push_back(make_transfer(id, member, kMerchantAccount, amount, asset_wallet));
          break;
        case Op::recharge:
          batch.push_back(make_transfer(id, kClearingAccount, member, amount, asset_wallet));
          break;
        case Op::refund:
          batch.push_back(make_transfer(id, kMerchantAccount, member, amount, asset_wallet));
          break;
        case Op::read:
          batch.push_back(make_lookup(member));
          break;
      }
    }
    outstanding++;
    auto start = Clock::now();
    client->submit(batch, [&, start, batch](client::SubmitResult r) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      std::lock_guard lock(mu);
      stats->latency.record(static_cast<uint64_t>(us.count()));
      stats->commands += batch.size();
      shared->commands_done += batch.size();
      if (r.status != Result::ok) {
        stats->errors[std::string(result_name(r.status))] += batch.size();
        shared->errors += batch.size();
      } else {
        for (size_t i = 0; i < batch.size(); ++i) {
          const Command& c = batch[i];
          Result res = r.replies[i].result;
          if (res != Result::ok) {
            stats->errors[std::string(result_name(res))]++;
            shared->errors++;
            continue;
          }
          if (c.kind == CommandKind::transfer) {
            stats->deltas[slot_of(c.body.transfer.debit_account_id, o.members)] -=
                c.body.transfer.amount;
            stats->deltas[slot_of(c.body.transfer.credit_account_id, o.members)] +=
                c.body.transfer.amount;
          }
        }
      }
      outstanding--;
    });
  }
  while (outstanding.load() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Balances of `ids`, read in batches through the core queue (strongly consistent).
bool read_balances(client::Client* c, const std::vector<uint64_t>& ids,
                   std::map<uint64_t, int64_t>* out) {
  for (size_t i = 0; i < ids.size(); i += 4096) {
    std::vector<Command> batch;
    for (size_t j = i; j < std::min(ids.size(), i + 4096); ++j)
      batch.push_back(make_lookup(ids[j]));
    auto r = c->submit_sync(batch);
    if (r.status != Result::ok) return false;
    for (size_t j = 0; j < batch.size(); ++j) {
      const Reply& rep = r.replies[j];
      (*out)[ids[i + j]] =
          rep.result == Result::ok ? rep.credits_posted - rep.debits_posted : INT64_MIN;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string mix_text = "payments=70,recharges=10,refunds=5,reads=15";
  po::options_description flags("coffer-bench options");
  // clang-format off
  flags.add_options()
    ("help,h", "print this help and exit")
    ("server", po::value(&o.server)->default_value(o.server), "cofferd address HOST:PORT")
    ("token-file", po::value(&o.token_file)->default_value(o.token_file), "access token file")
    ("members", po::value(&o.members)->default_value(o.members), "member accounts (ids 1..N)")
    ("connections", po::value(&o.connections)->default_value(o.connections), "client connections")
    ("batch", po::value(&o.batch)->default_value(o.batch), "commands per call (1..8192)")
    ("in-flight", po::value(&o.in_flight)->default_value(o.in_flight), "calls outstanding per connection")
    ("duration", po::value(&o.duration_s)->default_value(o.duration_s), "seconds to run")
    ("count", po::value(&o.count)->default_value(0), "commands to send instead of --duration")
    ("mix", po::value(&mix_text)->default_value(mix_text), "workload mix in percent, summing to 100")
    ("zipf", po::value(&o.zipf)->default_value(0), "Zipf exponent of account choice (0 = uniform)")
    ("seed", po::value(&o.seed)->default_value(1), "random seed")
    ("json", po::value(&o.json_path)->default_value(o.json_path), "result file")
    ("no-setup", "do not create and fund the accounts (they exist)")
    ("no-verify", "skip the final money check");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, flags), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "coffer-bench: " << e.what() << "\n\n" << flags;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: coffer-bench [options]\n\n" << flags;
    return 0;
  }
  o.setup = !vm.count("no-setup");
  o.verify = !vm.count("no-verify");
  auto bad = [&](const std::string& m) {
    std::cerr << "coffer-bench: " << m << "\n";
    return 2;
  };
  if (parse_mix(mix_text, &o.mix).empty()) {
    return bad("--mix takes payments=,recharges=,refunds=,reads= percentages summing to 100");
  }
  if (o.members == 0 || o.members > 50'000'000) return bad("--members must be 1..50000000");
  if (o.connections == 0 || o.connections > 256) return bad("--connections must be 1..256");
  if (o.batch == 0 || o.batch > batch_size_max) return bad("--batch must be 1..8192");
  if (o.in_flight == 0 || o.in_flight > 1024) return bad("--in-flight must be 1..1024");
  if (o.zipf < 0 || o.zipf > 5) return bad("--zipf must be 0..5");
  client::ClientOptions copts;
  if (!parse_host_port(o.server, &copts.host, &copts.port))
    return bad("--server must be HOST:PORT");
  if (!read_token(o.token_file, &copts.token))
    return bad("cannot read the token from " + o.token_file);
  copts.client_name = "coffer-bench";

  std::vector<std::unique_ptr<client::Client>> clients(o.connections);
  for (auto& c : clients) {
    auto st = client::Client::connect(copts, &c);
    if (!st.ok()) return bad("cannot connect to " + o.server + ": " + st.message);
  }
  std::random_device rd;
  uint64_t run_id = (uint64_t{rd()} << 32 | rd()) | 1;

  // Set-up: system accounts, members, and their funds (idempotent per run).
  if (o.setup) {
    std::cerr << "coffer-bench: creating " << o.members << " members\n";
    std::vector<Command> batch;
    uint64_t setup_counter = uint64_t{1} << 62;
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      auto r = clients[0]->submit_sync(batch);
      batch.clear();
      if (r.status != Result::ok) return false;
      for (const auto& rep : r.replies)
        if (rep.result != Result::ok && rep.result != Result::account_exists) return false;
      return true;
    };
    batch.push_back(make_create_account(make_id(run_id, ++setup_counter), kClearingAccount,
                                        asset_wallet, AccountKind::channel_clearing));
    batch.push_back(make_create_account(make_id(run_id, ++setup_counter), kMerchantAccount,
                                        asset_wallet, AccountKind::merchant_settlement));
    for (uint64_t m = 1; m <= o.members; ++m) {
      batch.push_back(make_create_account(make_id(run_id, ++setup_counter), m, asset_wallet,
                                          AccountKind::member_wallet, account_flag_no_negative));
      if (batch.size() == 4096 && !flush()) return bad("account creation failed");
    }
    if (!flush()) return bad("account creation failed");
    for (uint64_t m = 1; m <= o.members; ++m) {
      batch.push_back(make_transfer(make_id(run_id, ++setup_counter), kClearingAccount, m,
                                    kInitialFunds, asset_wallet));
      if (batch.size() == 4096 && !flush()) return bad("funding failed");
    }
    if (!flush()) return bad("funding failed");
  }

  std::vector<uint64_t> all_ids{kClearingAccount, kMerchantAccount};
  for (uint64_t m = 1; m <= o.members; ++m)
    all_ids.push_back(m);
  std::map<uint64_t, int64_t> before;
  if (o.verify && !read_balances(clients[0].get(), all_ids, &before)) {
    return bad("reading balances before the run failed");
  }

  AccountChooser chooser(o.members, o.zipf);
  Shared shared;
  std::vector<WorkerStats> stats(o.connections);
  for (auto& st : stats)
    st.deltas.assign(o.members + 2, 0);
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (uint32_t w = 0; w < o.connections; ++w) {
    workers.emplace_back(run_worker, std::cref(o), clients[w].get(), std::cref(chooser), run_id, w,
                         &shared, &stats[w]);
  }
  uint64_t last_done = 0;
  while (true) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t done = shared.commands_done.load();
    std::fprintf(stderr, "\r[%6.1fs] %12lu commands  %10.0f/s  errors %lu   ", elapsed,
                 static_cast<unsigned long>(done), static_cast<double>(done - last_done),
                 static_cast<unsigned long>(shared.errors.load()));
    last_done = done;
    if (o.count == 0 && elapsed >= o.duration_s) shared.stop = true;
    if (o.count != 0 && shared.commands_issued.load() >= o.count) break;
    if (shared.stop) break;
  }
  shared.stop = true;
  for (auto& t : workers)
    t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "\n");

  WorkerStats total;
  total.deltas.assign(o.members + 2, 0);
  for (auto& s : stats) {
    total.latency.merge(s.latency);
    total.commands += s.commands;
    for (auto& [k, v] : s.errors)
      total.errors[k] += v;
    for (size_t i = 0; i < s.deltas.size(); ++i)
      total.deltas[i] += s.deltas[i];
  }

  // The money check: every touched account holds its balance before the run
  // plus exactly the acknowledged transfers; the asset still sums to zero.
  uint64_t mismatched = 0;
  int64_t sum_after = 0;
  if (o.verify) {
    std::map<uint64_t, int64_t> after;
    if (!read_balances(clients[0].get(), all_ids, &after)) return bad("reading balances failed");
    for (uint64_t id : all_ids) {
      int64_t expected = before[id] + total.deltas[slot_of(id, o.members)];
      if (after[id] != expected) {
        if (mismatched < 10) {
          std::cerr << "coffer-bench: account " << id << " holds " << after[id] << ", expected "
                    << expected << "\n";
        }
        mismatched++;
      }
      sum_after += after[id];
    }
  }

  double rate = static_cast<double>(total.commands) / elapsed;
  auto ms = [](uint64_t us) { return static_cast<double>(us) / 1000.0; };
  std::printf("commands      %lu in %.2f s\n", static_cast<unsigned long>(total.commands), elapsed);
  std::printf("throughput    %.0f commands/s\n", rate);
  std::printf(
      "call latency  p50 %.3f ms  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (%u commands/call)\n",
      ms(total.latency.percentile_us(50)), ms(total.latency.percentile_us(90)),
      ms(total.latency.percentile_us(99)), ms(total.latency.percentile_us(99.9)),
      ms(total.latency.max_us()), o.batch);
  for (auto& [code, n] : total.errors)
    std::printf("result        %-22s %lu\n", code.c_str(), n);
  if (o.verify) {
    std::printf("money check   %s (%lu accounts mismatched, asset sum %ld)\n",
                mismatched == 0 && sum_after == 0 ? "OK" : "FAILED",
                static_cast<unsigned long>(mismatched), static_cast<long>(sum_after));
  }

  std::ofstream json(o.json_path);
  json << "{\"commands\":" << total.commands << ",\"seconds\":" << elapsed
       << ",\"commands_per_s\":" << rate << ",\"batch\":" << o.batch
       << ",\"connections\":" << o.connections << ",\"members\":" << o.members
       << ",\"zipf\":" << o.zipf << ",\"seed\":" << o.seed
       << ",\"latency_ms\":{\"p50\":" << ms(total.latency.percentile_us(50))
       << ",\"p90\":" << ms(total.latency.percentile_us(90))
       << ",\"p99\":" << ms(total.latency.percentile_us(99))
       << ",\"p99_9\":" << ms(total.latency.percentile_us(99.9))
       << ",\"max\":" << ms(total.latency.max_us()) << "},\"errors\":{";
  bool first = true;
  for (auto& [code, n] : total.errors) {
    json << (first ? "" : ",") << "\"" << code << "\":" << n;
    first = false;
  }
  json << "},\"money_check\":"
       << (!o.verify ? "null" : (mismatched == 0 && sum_after == 0 ? "true" : "false")) << "}\n";
  return o.verify && (mismatched != 0 || sum_after != 0) ? 1 : 0;
}
