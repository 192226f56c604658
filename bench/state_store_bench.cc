// LMDB state store and recovery on the real file system ($COFFER_BENCH_DIR or
// /tmp; LMDB commits with fsync as in production):
//   BM_FollowerApply   effects/s and commands/s of the follower, batches of 8 192
//                      transfers from a real Ledger, many batches per transaction
//   BM_FollowerPayments the same for the shape of the payments workload: domain
//                      payments (member wallet -> merchant settlement, captured)
//                      from a real Ledger over 100 k members, a text on 3 %
//   BM_HistoryRead     one newest-first page of 50 entries (read transaction +
//                      one cursor walk)
//   BM_Recovery        image load + replay of a journal tail into a fresh Ledger,
//                      for 1M and 10M accounts; bytes per command on disk
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/ledger.h"
#include "storage/journal.h"
#include "storage/recovery.h"
#include "storage/state_store.h"

namespace coffer::storage {
namespace {

std::string make_temp_dir(const char* what) {
  const char* base = std::getenv("COFFER_BENCH_DIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/coffer-" + what + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

struct TempDir {
  explicit TempDir(const char* what) : path(make_temp_dir(what)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

uint64_t dir_size_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st;
    // Allocated blocks, not the sparse/preallocated size.
    if (::stat(e.path().c_str(), &st) == 0) total += uint64_t(st.st_blocks) * 512;
  }
  return total;
}

// A stream of sequencer batches: member wallets paying merchants and back.
class Workload {
 public:
  Workload(uint32_t accounts, uint32_t idempotency)
      : accounts_(accounts), ledger_(config(accounts, idempotency)) {
    std::vector<Command> cs;
    for (uint64_t a = 1; a <= accounts; ++a) {
      Command c = make_create_account(
          Id128{next_id_++, 1}, a, asset_wallet,
          a % 100 == 0 ? AccountKind::merchant_settlement : AccountKind::channel_clearing);
      cs.push_back(c);
      if (cs.size() == batch_size_max) {
        apply(cs, nullptr);
        cs.clear();
      }
    }
    if (!cs.empty()) apply(cs, nullptr);
  }

  static LedgerConfig config(uint32_t accounts, uint32_t idempotency) {
    LedgerConfig c;
    c.accounts_capacity = accounts;
    c.pending_capacity = 1u << 12;
    c.idempotency_capacity = idempotency;
    return c;
  }

  // Next batch of `n` single-phase transfers; fills *batch and the journal record.
  void next(uint32_t n, EffectBatch* batch, JournalRecord* record) {
    std::vector<Command> cs;
    cs.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t d =
          1 + (x_ = x_ * 6364136223846793005ull + 1442695040888963407ull) % accounts_;
      const uint64_t c = 1 + (d + 1 + (x_ >> 33) % (accounts_ - 1)) % accounts_;
      Command t = make_transfer(Id128{next_id_++, 2}, d, c, 1 + int64_t(x_ >> 50), asset_wallet);
      t.body.transfer.code = 7;
      cs.push_back(t);
    }
    apply(cs, batch);
    if (record != nullptr) {
      record->first_seq = cs.front().seq;
      record->command_count = n;
      record->time_first_us = cs.front().time_us;
      record->time_last_us = cs.back().time_us;
      record->payload.resize(n * sizeof(Command));
      std::memcpy(record->payload.data(), cs.data(), record->payload.size());
    }
  }

  Ledger& ledger() { return ledger_; }

 private:
  void apply(std::vector<Command>& cs, EffectBatch* batch) {
    for (Command& c : cs) {
      c.seq = ++seq_;
      c.time_us = (time_us_ += 10);
    }
    replies_.resize(cs.size());
    std::span<const Command> rest(cs);
    if (batch != nullptr) {
      batch->first_seq = cs.front().seq;
      batch->last_seq = cs.back().seq;
      batch->effects.clear();
    }
    while (!rest.empty()) {
      EffectSink sink(effects_);
      const size_t k = ledger_.apply(rest, replies_, sink);
      if (batch != nullptr) {
        batch->effects.insert(batch->effects.end(), sink.effects().begin(), sink.effects().end());
      }
      rest = rest.subspan(k);
    }
  }

  uint32_t accounts_;
  Ledger ledger_;
  uint64_t seq_ = 0;
  uint64_t time_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  uint64_t x_ = 42;
  std::vector<Reply> replies_;
  std::vector<Effect> effects_ = std::vector<Effect>(1u << 16);
};

// Payments as cofferd sees them: one merchant, `members` members with funded
// wallets, then batches of captured wallet payments; 3 % carry a text (the
// caller's ref and a note, as the gateway writes them).
class PaymentsWorkload {
 public:
  explicit PaymentsWorkload(uint32_t members) : members_(members) {
    LedgerConfig c;
    c.accounts_capacity = 2 * members + 64;
    c.pending_capacity = 1u << 12;
    c.idempotency_capacity = 1u << 22;
    c.members_capacity = members;
    c.merchants_capacity = 4;
    c.payments_capacity = 1u << 23;
    c.records_capacity = 1u << 20;
    c.batches_capacity = 4;
    ledger_ = std::make_unique<Ledger>(c);
  }

  // The set-up commands (merchant, members, their credits) as batches.
  void setup(std::vector<EffectBatch>* out) {
    std::vector<Command> cs;
    auto flush = [&] {
      if (cs.empty()) return;
      out->emplace_back();
      apply(cs, &out->back());
      cs.clear();
    };
    auto push = [&](const Command& c) {
      cs.push_back(c);
      if (cs.size() == batch_size_max) flush();
    };
    Command m{};
    m.kind = CommandKind::merchant_set;
    m.id = id();
    m.body.merchant.merchant_id = 1;
    push(m);
    for (uint32_t k = 1; k <= members_; k++) {
      Command c{};
      c.kind = CommandKind::member_register;
      c.id = id();
      c.body.member.member_id = k;
      push(c);
    }
    for (uint32_t k = 1; k <= members_; k++) {
      Command c{};
      c.kind = CommandKind::member_credit;
      c.id = id();
      c.body.money = MoneyBody{k, 1'000'000'000, asset_wallet, 0};
      push(c);
    }
    flush();
  }

  void next(uint32_t n, EffectBatch* batch) {
    std::vector<Command> cs(n);
    for (Command& c : cs) {
      x_ = x_ * 6364136223846793005ull + 1442695040888963407ull;
      c.kind = CommandKind::payment_create;
      c.id = id();
      PaymentBody& p = c.body.payment;
      p.member_id = 1 + (x_ >> 20) % members_;
      p.merchant_id = 1;
      p.store_id = 1 + (x_ >> 50) % 8;
      p.amount = 100 + int64_t((x_ >> 40) % 9000);
      p.capture = 1;
    }
    apply(cs, batch);
  }

 private:
  Id128 id() { return Id128{next_id_++, 0xbe}; }

  void apply(std::vector<Command>& cs, EffectBatch* batch) {
    for (Command& c : cs) {
      c.seq = ++seq_;
      c.time_us = (time_us_ += 10);
    }
    replies_.resize(cs.size());
    batch->first_seq = cs.front().seq;
    batch->last_seq = cs.back().seq;
    batch->effects.clear();
    batch->texts.clear();
    size_t done = 0;
    while (done < cs.size()) {
      EffectSink sink(effects_);
      done += ledger_->apply(std::span<const Command>(cs).subspan(done),
                             std::span(replies_).subspan(done), sink);
      batch->effects.insert(batch->effects.end(), sink.effects().begin(), sink.effects().end());
    }
    for (size_t k = 0; k < cs.size(); k++) {
      if (cs[k].kind != CommandKind::payment_create ||
          (cs[k].id.lo * 0x9e3779b97f4a7c15ull) >> 58 > 1)
        continue;  // 2 in 64: ~3 %
      if (replies_[k].result != Result::ok) continue;
      batch->texts.push_back(StoredText{cs[k].seq, cs[k].id, 0,
                                        "{\"ref\":\"order-" + std::to_string(cs[k].id.lo) +
                                            "\",\"order_ref\":\"T" + std::to_string(cs[k].seq) +
                                            "\",\"note\":\"table 12\"}"});
    }
  }

  uint32_t members_;
  std::unique_ptr<Ledger> ledger_;
  uint64_t seq_ = 0;
  uint64_t time_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  uint64_t x_ = 42;
  std::vector<Reply> replies_;
  std::vector<Effect> effects_ = std::vector<Effect>(1u << 18);
};

std::unique_ptr<StateStore> open_store(const std::string& dir, uint64_t map = 64 * kGiB,
                                       uint64_t txn_effect_count = kApplyTxnEffectCountDefault) {
  StateStoreOptions o;
  o.dir = dir;
  o.map_size_bytes = map;
  o.txn_effect_count = txn_effect_count;
  std::unique_ptr<StateStore> s;
  if (!StateStore::open(o, &s).ok()) std::abort();
  return s;
}

void BM_FollowerApply(benchmark::State& state) {
  const uint32_t batch = static_cast<uint32_t>(state.range(0));
  const int batches_per_iter = 16;
  TempDir dir("lmdb-bench");
  auto store = open_store(dir.path, 64 * kGiB, uint64_t(state.range(1)));
  Workload w(100'000, 1u << 20);
  store->submit(EffectBatch{1, w.ledger().last_seq(), {}, {}});
  uint64_t effects = 0, commands = 0;
  std::vector<EffectBatch> pending(batches_per_iter);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& b : pending)
      w.next(batch, &b, nullptr);
    state.ResumeTiming();
    for (auto& b : pending) {
      effects += b.effects.size();
      commands += b.last_seq - b.first_seq + 1;
      if (!store->submit(std::move(b)).ok()) std::abort();
    }
    if (!store->flush().ok()) std::abort();
  }
  const auto st = store->stats();
  state.counters["effects/s"] = benchmark::Counter(double(effects), benchmark::Counter::kIsRate);
  state.counters["commands/s"] = benchmark::Counter(double(commands), benchmark::Counter::kIsRate);
  state.counters["txns"] = double(st.txn_count);
  state.counters["lmdb_B/cmd"] = double(dir_size_bytes(dir.path)) / double(commands);
}
// Args: commands per batch, effects per write transaction (at least).
BENCHMARK(BM_FollowerApply)
    ->Args({8192, 16384})
    ->Args({8192, 65536})
    ->Args({8192, 262144})
    ->Args({8192, 1048576})
    ->MinTime(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_FollowerPayments(benchmark::State& state) {
  const uint32_t batch = 8192;
  const int batches_per_iter = 16;
  TempDir dir("lmdb-pay");
  auto store = open_store(dir.path, 64 * kGiB, uint64_t(state.range(0)));
  PaymentsWorkload w(100'000);
  {
    std::vector<EffectBatch> setup;
    w.setup(&setup);
    for (auto& b : setup)
      if (!store->submit(std::move(b)).ok()) std::abort();
    if (!store->flush().ok()) std::abort();
  }
  const auto st0 = store->stats();
  uint64_t effects = 0, commands = 0, texts = 0;
  std::vector<EffectBatch> pending(batches_per_iter);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& b : pending)
      w.next(batch, &b);
    state.ResumeTiming();
    for (auto& b : pending) {
      effects += b.effects.size();
      texts += b.texts.size();
      commands += b.last_seq - b.first_seq + 1;
      if (!store->submit(std::move(b)).ok()) std::abort();
    }
    if (!store->flush().ok()) std::abort();
  }
  const auto st = store->stats();
  state.counters["effects/s"] = benchmark::Counter(double(effects), benchmark::Counter::kIsRate);
  state.counters["commands/s"] = benchmark::Counter(double(commands), benchmark::Counter::kIsRate);
  state.counters["effects/cmd"] = double(effects) / double(commands);
  state.counters["texts/cmd"] = double(texts) / double(commands);
  state.counters["hist/cmd"] =
      double(st.history_entries_written - st0.history_entries_written) / double(commands);
  state.counters["rec/cmd"] = double(st.records_written - st0.records_written) / double(commands);
  state.counters["lmdb_MB"] = double(st.file_size_bytes) / 1e6;
}
// Arg: effects per write transaction (at least).
BENCHMARK(BM_FollowerPayments)
    ->Arg(262144)
    ->Arg(1048576)
    ->MinTime(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_HistoryRead(benchmark::State& state) {
  TempDir dir("lmdb-hist");
  auto store = open_store(dir.path);
  const uint32_t accounts = 10'000;
  Workload w(accounts, 1u << 20);
  store->submit(EffectBatch{1, w.ledger().last_seq(), {}, {}});
  for (int i = 0; i < 150; ++i) {  // ~1.2M transfers: ~250 entries per account
    EffectBatch b;
    w.next(8192, &b, nullptr);
    if (!store->submit(std::move(b)).ok()) std::abort();
  }
  if (!store->flush().ok()) std::abort();
  uint64_t x = 7, entries = 0;
  HistoryPage page;
  for (auto _ : state) {
    x = x * 6364136223846793005ull + 1;
    if (!store->history(1 + (x >> 33) % accounts, {}, 50, &page).ok()) std::abort();
    entries += page.entries.size();
  }
  state.counters["entries/page"] = double(entries) / double(state.iterations());
}
BENCHMARK(BM_HistoryRead)->Unit(benchmark::kMicrosecond);

// Recovery: an image of `accounts` accounts (+ a 1M-entry idempotency table)
// and a journal tail of 100 batches x 8 192 transfers after it.
void BM_Recovery(benchmark::State& state) {
  const uint32_t accounts = static_cast<uint32_t>(state.range(0));
  const uint32_t tail_batches = 100;
  TempDir dir("recovery-bench");
  const std::string journal_dir = dir.path + "/journal", lmdb_dir = dir.path + "/lmdb";
  Workload w(accounts, 1u << 20);
  double save_s = 0, image_bytes = 0, journal_bytes = 0, commands = 0;
  {
    auto store = open_store(lmdb_dir);
    store->submit(EffectBatch{1, w.ledger().last_seq(), {}, {}});
    ImageBuffer image;
    const auto t0 = std::chrono::steady_clock::now();
    w.ledger().write_image(image);
    image_bytes = double(image.size_bytes());
    Status st = store->save_image(w.ledger().last_seq(), w.ledger().state_hash(), std::move(image));
    if (!st.ok()) {
      std::fprintf(stderr, "save_image: %s\n", st.to_string().c_str());
      std::abort();
    }
    st = store->flush();
    if (!st.ok()) {
      std::fprintf(stderr, "flush: %s\n", st.to_string().c_str());
      std::abort();
    }
    save_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    JournalOptions jo;
    jo.dir = journal_dir;
    std::unique_ptr<Journal> journal;
    std::filesystem::create_directories(journal_dir);
    st = Journal::open(jo, &journal);
    if (!st.ok()) {
      std::fprintf(stderr, "journal: %s\n", st.to_string().c_str());
      std::abort();
    }
    for (uint32_t i = 0; i < tail_batches; ++i) {
      EffectBatch b;
      JournalRecord r;
      w.next(8192, &b, &r);
      commands += r.command_count;
      st = journal->append_and_wait(std::move(r));
      if (st.ok()) st = store->submit(std::move(b));
      if (!st.ok()) {
        std::fprintf(stderr, "tail: %s\n", st.to_string().c_str());
        std::abort();
      }
    }
    journal_bytes = double(journal->stats().bytes_written);
    if (!store->flush().ok()) std::abort();
  }
  const uint64_t want_hash = w.ledger().state_hash();
  RecoveryReport report;
  for (auto _ : state) {
    auto store = open_store(lmdb_dir);
    auto fresh = std::make_unique<Ledger>(Workload::config(accounts, 1u << 20));
    RecoveryOptions ro;
    ro.journal_dir = journal_dir;
    ro.remove_segments_below_image = false;
    ro.log = [](const std::string&) {};
    if (!recover(ro, *store, *fresh, &report).ok() || report.state_hash != want_hash) {
      state.SkipWithError("recovery failed");
      break;
    }
  }
  state.counters["image_MB"] = image_bytes / 1e6;
  state.counters["image_save_s"] = save_s;
  state.counters["tail_cmds"] = commands;
  state.counters["journal_B/cmd"] = journal_bytes / commands;
}
// The image alone: load from LMDB into a fresh Ledger (read_image verifies it).
void BM_ImageLoad(benchmark::State& state) {
  const uint32_t accounts = static_cast<uint32_t>(state.range(0));
  TempDir dir("image-bench");
  Workload w(accounts, 1u << 20);
  auto store = open_store(dir.path);
  store->submit(EffectBatch{1, w.ledger().last_seq(), {}, {}});
  ImageBuffer image;
  w.ledger().write_image(image);
  const double bytes = double(image.size_bytes());
  if (!store->save_image(w.ledger().last_seq(), w.ledger().state_hash(), std::move(image)).ok() ||
      !store->flush().ok()) {
    std::abort();
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto fresh = std::make_unique<Ledger>(Workload::config(accounts, 1u << 20));
    state.ResumeTiming();
    StoredImage img;
    if (!store->load_image(&img).ok() || fresh->read_image(*img.reader) != Result::ok ||
        fresh->state_hash() != img.state_hash) {
      state.SkipWithError("image load failed");
      break;
    }
  }
  state.counters["image_MB"] = bytes / 1e6;
  state.counters["MB/s"] =
      benchmark::Counter(bytes / 1e6 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ImageLoad)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_Recovery)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace coffer::storage
