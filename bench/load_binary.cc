// coffer-bench over the binary protocol: the domain mix (SPEC's payments,
// recharges, refunds, balance reads, paper voucher redemptions) as core
// commands, in calls of --batch commands, --in-flight calls per connection.
// Ids are derived from caller-style string ids exactly as coffer-gateway
// derives them (net/ids.h), so every payment of a run can be looked up over HTTP.
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/load.h"
#include "clients/client.h"
#include "net/ids.h"

namespace coffer::bench {

namespace {

constexpr uint32_t kConfigFieldWalletAutoOpen = 13;  // bit of ConfigBody::mask
constexpr uint64_t kVoucherStore = 1;
constexpr uint32_t kSystemAccountsProbed = 16;  // ids 2^63 + 1.. (core/README.md)

struct Ctx {
  const Options& o;
  std::string prefix;  // of this run's string ids
  uint64_t merchant_id = 0;
  std::vector<Id128> codes;  // paper voucher codes (hashes), redeemed in order
  std::atomic<uint64_t> next_code{0};
  uint64_t run_key = 0;  // of this run's hot-loop command ids (hot_id)
};

// The command id of a hot-loop operation. A binary client may choose any
// unique 128-bit id; SHA-256 over a formatted string (what the gateway does for
// its callers' string ids) would cost this load generator ~0.3 µs per
// operation, CPU that the server it measures shares. Unique per (run, worker,
// kind, counter): the run key is random, the rest is packed without overlap.
Id128 hot_id(const Ctx& ctx, uint32_t worker, char kind, uint64_t counter) {
  return Id128{ctx.run_key ^ (uint64_t(uint8_t(kind)) << 56), (uint64_t{worker} << 40) | counter};
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

int fail(const std::string& m) {
  std::fprintf(stderr, "coffer-bench: %s\n", m.c_str());
  return 2;
}

// Sends `batch` synchronously; every reply must be ok (or one of `also_ok`).
bool submit_all(client::Client* c, std::vector<Command>* batch, const char* what,
                std::initializer_list<Result> also_ok = {}) {
  if (batch->empty()) return true;
  auto r = c->submit_sync(*batch);
  batch->clear();
  if (r.status != Result::ok) {
    std::fprintf(stderr, "coffer-bench: %s failed: %s\n", what, result_name(r.status).data());
    return false;
  }
  for (const Reply& rep : r.replies) {
    bool fine = rep.result == Result::ok;
    for (Result a : also_ok)
      fine = fine || rep.result == a;
    if (!fine) {
      std::fprintf(stderr, "coffer-bench: %s failed: %s\n", what, result_name(rep.result).data());
      return false;
    }
  }
  return true;
}

bool setup(client::Client* c, Ctx* ctx) {
  const Options& o = ctx->o;
  std::vector<Command> batch;
  Command cfg{};
  cfg.kind = CommandKind::config_set;
  cfg.id = net::id_from_string("bench_config", ctx->prefix);
  cfg.body.config.mask = 1u << kConfigFieldWalletAutoOpen;
  cfg.body.config.values.wallet_auto_open = 1;
  batch.push_back(cfg);
  Command merchant{};
  merchant.kind = CommandKind::merchant_set;
  merchant.id = net::id_from_string("bench_merchant", ctx->prefix);
  merchant.body.merchant.merchant_id = ctx->merchant_id;
  batch.push_back(merchant);
  if (!submit_all(c, &batch, "config and merchant")) return false;

  std::fprintf(stderr, "coffer-bench: registering and funding %" PRIu64 " members\n", o.members);
  // Registration ids are the gateway's (POST /v1/members): a member registered
  // before answers ok (replayed); ID_REUSED means it exists with a phone.
  for (uint64_t m = 1; m <= o.members; ++m) {
    Command c1{};
    c1.kind = CommandKind::member_register;
    c1.id = net::id_from_string("member", std::to_string(m));
    c1.body.member.member_id = m;
    batch.push_back(c1);
    if (batch.size() == setup_batch_size &&
        !submit_all(c, &batch, "member registration", {Result::id_reused}))
      return false;
  }
  if (!submit_all(c, &batch, "member registration", {Result::id_reused})) return false;
  for (uint64_t m = 1; m <= o.members; ++m) {
    Command c1{};
    c1.kind = CommandKind::member_credit;
    c1.id = net::id_from_string("credit", op_id(ctx->prefix, 0, 'f', m));
    c1.body.money = MoneyBody{m, initial_funds_minor, asset_wallet, money_source_adjustment};
    batch.push_back(c1);
    if (batch.size() == setup_batch_size && !submit_all(c, &batch, "funding")) return false;
  }
  if (!submit_all(c, &batch, "funding")) return false;

  if (!ctx->codes.empty()) {
    // One paper batch; codes are any non-zero 16-byte hashes at the core level.
    Command b{};
    b.kind = CommandKind::voucher_batch_create;
    b.id = net::id_from_string("voucher_batch", ctx->prefix);
    b.body.batch = BatchBody{ctx->merchant_id,
                             voucher_face_value_minor,
                             0,
                             UINT64_MAX / 2,
                             static_cast<uint32_t>(ctx->codes.size()),
                             voucher_paper};
    batch.push_back(b);
    for (uint32_t k = 0; k < ctx->codes.size(); k += batch_codes_per_command) {
      Command a{};
      a.kind = CommandKind::voucher_batch_add_codes;
      a.id = net::id_from_string("voucher_batch_codes", op_id(ctx->prefix, 0, 'k', k));
      a.body.batch_codes.batch_id = b.id;
      a.body.batch_codes.first_index = k;
      uint32_t n =
          std::min<uint32_t>(batch_codes_per_command, static_cast<uint32_t>(ctx->codes.size()) - k);
      a.body.batch_codes.count = static_cast<uint8_t>(n);
      for (uint32_t j = 0; j < n; ++j)
        a.body.batch_codes.codes[j] = ctx->codes[k + j];
      batch.push_back(a);
      if (batch.size() == setup_batch_size && !submit_all(c, &batch, "voucher batch")) return false;
    }
    if (!submit_all(c, &batch, "voucher batch")) return false;
  }
  return true;
}

// Members' wallet balances (balance_get), the merchant's settlement balance
// (merchant_get) and the sum of the wallet-asset system accounts (lookup_account).
bool snapshot(client::Client* c, const Ctx& ctx, Snapshot* s) {
  const uint64_t n = ctx.o.members;
  s->member_balance.assign(n + 1, 0);
  std::vector<Command> batch;
  for (uint64_t first = 1; first <= n; first += setup_batch_size) {
    uint64_t last = std::min<uint64_t>(n, first + setup_batch_size - 1);
    for (uint64_t m = first; m <= last; ++m) {
      Command r{};
      r.kind = CommandKind::balance_get;
      r.body.read.key = m;
      batch.push_back(r);
    }
    auto res = c->submit_sync(batch);
    batch.clear();
    if (res.status != Result::ok) return false;
    for (uint64_t m = first; m <= last; ++m) {
      const Reply& rep = res.replies[m - first];
      s->member_balance[m] = rep.result == Result::ok ? reply_data(rep).v[0] : INT64_MIN;
    }
  }
  Command mg{};
  mg.kind = CommandKind::merchant_get;
  mg.body.read.key = ctx.merchant_id;
  batch.push_back(mg);
  for (uint32_t k = 0; k < kSystemAccountsProbed; ++k)
    batch.push_back(make_lookup(domain_account_id_min | (k + 1)));
  auto res = c->submit_sync(batch);
  if (res.status != Result::ok) return false;
  s->merchant_known = res.replies[0].result == Result::ok;
  s->merchant_balance = reply_data(res.replies[0]).v[1];
  s->system_known = true;
  s->system_sum = 0;
  for (uint32_t k = 0; k < kSystemAccountsProbed; ++k) {
    const Reply& rep = res.replies[1 + k];
    if (rep.result == Result::ok && rep.asset == asset_wallet)
      s->system_sum += rep.credits_posted - rep.debits_posted;
  }
  return true;
}

struct OpMeta {
  OpKind kind;
  uint64_t member;
  int64_t amount;
  uint64_t counter;
};

void run_worker(Ctx* ctx, client::Client* client, const AccountChooser& chooser, uint32_t worker,
                Progress* progress, WorkerStats* stats) {
  const Options& o = ctx->o;
  std::mt19937_64 rng(o.seed * 1'000'003 + worker);
  std::mt19937_64 pool_rng(o.seed * 7'919 + worker);  // used under mu only
  uint64_t counter = 0;
  // mu guards stats, pool and outstanding against the client's reader thread;
  // the worker sleeps on cv (no spinning: it would take a core from cofferd).
  std::mutex mu;
  std::condition_variable cv;
  RefundPool pool;
  uint32_t outstanding = 0;
  const uint32_t wid = worker + 1;  // 0 is the set-up's
  while (progress->claim(o, o.batch)) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return outstanding < o.in_flight; });
    }
    std::vector<Command> batch;
    std::vector<OpMeta> meta;
    batch.reserve(o.batch);
    meta.reserve(o.batch);
    for (uint32_t i = 0; i < o.batch; ++i) {
      OpKind kind = pick_op(o.mix, rng);
      Captured refund{};
      uint64_t code_index = 0;
      if (kind == OpKind::refund) {
        std::lock_guard lock(mu);
        if (!pool.take(rng, &refund)) kind = OpKind::payment;  // nothing captured yet
      }
      if (kind == OpKind::voucher) {
        code_index = ctx->next_code.fetch_add(1);
        if (code_index >= ctx->codes.size()) kind = OpKind::payment;  // all redeemed
      }
      Command c{};
      OpMeta m{kind, chooser.pick(rng), 0, ++counter};
      switch (kind) {
        case OpKind::payment: {
          m.amount = payment_amount_min_minor +
                     static_cast<int64_t>(
                         rng() % (payment_amount_max_minor - payment_amount_min_minor + 1));
          c.kind = CommandKind::payment_create;
          c.id = hot_id(*ctx, wid, 'p', m.counter);
          PaymentBody& p = c.body.payment;
          p.member_id = m.member;
          p.merchant_id = ctx->merchant_id;
          p.amount = m.amount;
          p.capture = 1;
          break;
        }
        case OpKind::recharge:
          m.amount = 1 + static_cast<int64_t>(rng() % recharge_amount_max_minor);
          c.kind = CommandKind::member_credit;
          c.id = hot_id(*ctx, wid, 'c', m.counter);
          c.body.money = MoneyBody{m.member, m.amount, asset_wallet, money_source_cash};
          break;
        case OpKind::refund:
          m.member = refund.member;
          m.amount = 1 + static_cast<int64_t>(rng() % refund_amount_max_minor);
          c.kind = CommandKind::payment_refund;
          c.id = hot_id(*ctx, wid, 'r', m.counter);
          c.body.payment_op.payment_id = hot_id(*ctx, wid, 'p', refund.counter);
          c.body.payment_op.amount = m.amount;
          break;
        case OpKind::read:
          c.kind = CommandKind::balance_get;
          c.body.read.key = m.member;
          break;
        case OpKind::voucher:
          m.amount = voucher_face_value_minor;
          c.kind = CommandKind::voucher_redeem;
          c.id = hot_id(*ctx, wid, 'v', m.counter);
          c.body.redeem.code = ctx->codes[code_index];
          c.body.redeem.merchant_id = ctx->merchant_id;
          c.body.redeem.store_id = kVoucherStore;
          break;
      }
      batch.push_back(c);
      meta.push_back(m);
    }
    {
      std::lock_guard lock(mu);
      outstanding++;
    }
    auto start = Clock::now();
    client->submit(batch, [&, start, meta = std::move(meta)](client::SubmitResult r) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      // Nothing of the worker is touched after the lock is released: the
      // worker may return as soon as it can take the lock with nothing outstanding.
      std::lock_guard lock(mu);
      {
        stats->latency.record(static_cast<uint64_t>(us.count()));
        stats->operations += meta.size();
        progress->done += meta.size();
        if (r.status != Result::ok) {
          // The call as a whole failed: its commands' outcome is unknown.
          stats->errors[std::string(result_name(r.status))] += meta.size();
          stats->uncertain += meta.size();
          progress->errors += meta.size();
        } else {
          for (size_t i = 0; i < meta.size(); ++i) {
            const OpMeta& m = meta[i];
            Result res = r.replies[i].result;
            if (res != Result::ok) {
              stats->errors[std::string(result_name(res))]++;
              progress->errors++;
              continue;
            }
            stats->book(m.kind, m.member, m.amount);
            if (m.kind == OpKind::payment) pool.add({m.counter, m.member, m.amount}, pool_rng);
          }
        }
      }
      outstanding--;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return outstanding == 0; });
}

}  // namespace

int run_binary(const Options& o) {
  client::ClientOptions copts;
  if (!parse_host_port(o.server, &copts.host, &copts.port))
    return fail("--server must be HOST:PORT");
  if (!read_token(o.token_file, &copts.token))
    return fail("cannot read the token from " + o.token_file);
  copts.client_name = "coffer-bench";
  std::vector<std::unique_ptr<client::Client>> clients(o.connections);
  for (auto& c : clients) {
    auto st = client::Client::connect(copts, &c);
    if (!st.ok()) return fail("cannot connect to " + o.server + ": " + st.message);
  }

  Ctx ctx{o, "", net::account_id_from_string(o.merchant), {}, {}};
  std::random_device rd;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "cb%08x%04x", rd(), rd() & 0xffff);
  ctx.prefix = prefix;
  ctx.run_key = (uint64_t{rd()} << 32 | rd()) & ((uint64_t{1} << 56) - 1);
  if (o.mix[static_cast<size_t>(OpKind::voucher)] > 0 && o.setup) {
    ctx.codes.resize(voucher_codes_max);
    for (uint32_t k = 0; k < ctx.codes.size(); ++k)
      ctx.codes[k] = net::id_from_string("bench_code", op_id(ctx.prefix, 0, 'k', k));
  }
  if (o.setup && !setup(clients[0].get(), &ctx)) return fail("set-up failed");

  Snapshot before;
  if (o.verify && !snapshot(clients[0].get(), ctx, &before)) {
    return fail("reading balances before the run failed");
  }

  AccountChooser chooser(o.members, o.zipf);
  Progress progress;
  std::vector<WorkerStats> stats(o.connections);
  for (auto& st : stats)
    st.member_delta.assign(o.members + 1, 0);
  std::vector<std::thread> workers;
  auto start = Clock::now();
  CpuMeter cpu(o);
  for (uint32_t w = 0; w < o.connections; ++w) {
    workers.emplace_back(run_worker, &ctx, clients[w].get(), std::cref(chooser), w, &progress,
                         &stats[w]);
  }
  watch_progress(o, &progress, start);
  for (auto& t : workers)
    t.join();
  RunResult result;
  result.transport = "binary";
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.finish(&result);
  result.total.member_delta.assign(o.members + 1, 0);
  for (const auto& s : stats)
    result.total.merge(s);

  if (o.verify) {
    Snapshot after;
    if (!snapshot(clients[0].get(), ctx, &after)) {
      report(o, result);  // the run's figures, without a money check
      return fail("reading balances after the run failed: no money check");
    }
    check_money(before, after, &result);
  }
  return report(o, result);
}

}  // namespace coffer::bench
