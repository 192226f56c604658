// Randomized recovery property test. From a seed: random command streams
// (tests/core/sim_util.h) applied by a live Ledger, journaled on the in-memory
// file system, followed by the state store (sometimes lagging, sometimes
// stopped); checkpoints at random points; a crash at a random point (power cut
// or a short write in the journal, keeping a random prefix of unsynced bytes;
// the store's last transaction aborted instead of committed). Then recover into
// a fresh Ledger and compare state_hash, every balance and every account's
// history with a reference Ledger that applied exactly the durable prefix.
// COFFER_SOAK=1 runs many more seeds; COFFER_SEED=<n> replays one.
#include <gtest/gtest.h>

#include <cstring>

#include "core/ledger.h"
#include "storage/journal.h"
#include "storage/memory_file_system.h"
#include "storage/recovery.h"
#include "tests/core/sim_util.h"
#include "tests/storage/state_store_test_util.h"

namespace coffer::storage {
namespace {

using testing::apply_record;

const std::string kJournalDir = "/journal";

struct Coverage {
  uint64_t seeds = 0;
  uint64_t with_image = 0;
  uint64_t store_behind = 0;
  uint64_t torn_tails = 0;
  uint64_t store_aborted = 0;
  uint64_t commands = 0;
};

void run_seed(uint64_t seed, Coverage* cov) {
  SCOPED_TRACE("COFFER_SEED=" + std::to_string(seed));
  test::Rng rng(seed * 7919 + 1);
  test::CommandGenerator gen(seed);
  MemoryFileSystem fs;
  testing::TempDir tmp;
  const std::string lmdb_dir = tmp.sub("lmdb");

  JournalOptions jo;
  jo.dir = kJournalDir;
  jo.fs = &fs;
  jo.writer_thread = false;
  jo.segment_size_bytes = (8 + rng.below(56)) * kKiB;
  jo.record_payload_size_max =
      static_cast<uint32_t>(jo.segment_size_bytes - kSegmentHeaderSize - kFrameHeaderSize);
  jo.log = [](const std::string&) {};
  std::unique_ptr<Journal> journal;
  ASSERT_TRUE(Journal::open(jo, &journal).ok());
  auto store = testing::open_store(lmdb_dir, /*thread=*/rng.chance(50));

  Ledger live(testing::small_config());
  std::vector<JournalRecord> submitted;
  const uint64_t record_count = 20 + rng.below(130);
  const uint64_t crash_at = rng.below(record_count + 1);  // == record_count: no fault
  const uint64_t follower_stops_at = rng.chance(40) ? rng.below(record_count + 1) : record_count;
  const bool short_write = rng.chance(50);
  for (uint64_t r = 0; r < record_count; ++r) {
    std::vector<Command> cs;
    const uint64_t groups = 1 + rng.below(8);
    for (uint64_t g = 0; g < groups; ++g) {
      auto grp = gen.next_group();
      cs.insert(cs.end(), grp.begin(), grp.end());
    }
    auto effects = apply_record(live, cs);
    if (r == crash_at) {
      if (short_write) {
        fs.set_fault_hook([](FsOp op, std::string_view, uint64_t, uint64_t) {
          return op == FsOp::write ? Fault::short_write : Fault::none;
        });
      } else {
        fs.power_off();
      }
    }
    submitted.push_back(testing::to_record(cs));
    const Status s = journal->append_and_wait(submitted.back());
    if (!s.ok()) break;  // not durable: the sequencer would stop here
    cov->commands += cs.size();
    // Only durable batches reach the follower.
    if (r < follower_stops_at) {
      ASSERT_TRUE(store->submit(testing::to_batch(cs, std::move(effects))).ok());
    }
    if (rng.chance(8)) {
      ASSERT_TRUE(
          store->save_image(live.last_seq(), live.state_hash(), testing::image_of(live)).ok());
    }
    if (rng.chance(10)) {
      ASSERT_TRUE(store->flush().ok());
    }
  }
  // The crash: the store's next commit never happens, the journal loses its
  // unsynced bytes (possibly keeping a torn prefix).
  if (rng.chance(50)) {
    store->test_abort_next_commit();
    if (!store->flush().ok()) cov->store_aborted++;
  }
  store.reset();
  journal.reset();
  fs.set_fault_hook(nullptr);
  fs.crash(rng.chance(50), rng.next());

  // The reference: exactly what the journal holds now, applied from scratch.
  Ledger reference(testing::small_config());
  std::vector<Effect> reference_effects;
  {
    std::unique_ptr<JournalReader> reader;
    ASSERT_TRUE(JournalReader::open({kJournalDir, &fs}, 0, &reader).ok());
    JournalRecordView v;
    size_t i = 0;
    for (bool has = true;;) {
      Status s = reader->next(&v, &has);
      ASSERT_TRUE(s.ok()) << s.to_string();
      if (!has) break;
      ASSERT_LT(i, submitted.size());
      ASSERT_EQ(v.first_seq, submitted[i].first_seq);
      ASSERT_EQ(v.payload.size(), submitted[i].payload.size());
      ASSERT_EQ(std::memcmp(v.payload.data(), submitted[i].payload.data(), v.payload.size()), 0);
      std::vector<Command> cs(v.command_count);
      std::memcpy(cs.data(), v.payload.data(), v.payload.size());
      auto e = apply_record(reference, cs);
      reference_effects.insert(reference_effects.end(), e.begin(), e.end());
      i++;
    }
    if (reader->torn_tail()) cov->torn_tails++;
  }

  store = testing::open_store(lmdb_dir);
  const uint64_t applied_before = store->last_applied_seq();
  ASSERT_LE(applied_before, reference.last_seq());
  if (applied_before < reference.last_seq()) cov->store_behind++;
  Ledger recovered(testing::small_config());
  RecoveryOptions ro;
  ro.journal_dir = kJournalDir;
  ro.fs = &fs;
  ro.log = [](const std::string&) {};
  RecoveryReport report;
  Status s = recover(ro, *store, recovered, &report);
  ASSERT_TRUE(s.ok()) << s.to_string();
  if (report.image_loaded) cov->with_image++;

  EXPECT_EQ(report.state_hash, reference.state_hash());
  EXPECT_EQ(recovered.state_hash(), reference.state_hash());
  EXPECT_EQ(recovered.last_seq(), reference.last_seq());
  EXPECT_EQ(store->last_applied_seq(), reference.last_seq());
  for (uint64_t acc = 1; acc <= test::CommandGenerator::account_id_max + 2; ++acc) {
    const uint32_t a = reference.find_account(acc), b = recovered.find_account(acc);
    ASSERT_EQ(a == Ledger::slot_none, b == Ledger::slot_none) << acc;
    if (a != Ledger::slot_none) {
      EXPECT_EQ(reference.account(a).balance(), recovered.account(b).balance()) << acc;
      EXPECT_EQ(reference.account(a).held(), recovered.account(b).held()) << acc;
      EXPECT_EQ(reference.account(a).maturing(), recovered.account(b).maturing()) << acc;
    }
    const auto want = testing::balance_changes(reference_effects, acc);
    const auto got = testing::full_history(*store, acc, 64);
    ASSERT_EQ(got.size(), want.size()) << acc;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].seq, want[i].seq);
      ASSERT_EQ(got[i].balance_after,
                want[i].balance.credits_posted - want[i].balance.debits_posted);
    }
  }

  // The journal opens where recovery says the sequencer continues.
  JournalOpenReport jr;
  ASSERT_TRUE(Journal::open(jo, &journal, &jr).ok());
  if (!jr.empty && jr.next_seq != 0) {
    EXPECT_EQ(jr.next_seq, report.next_seq);
  }
  cov->seeds++;
}

TEST(RecoveryPropertyTest, RecoveredStateEqualsTheDurablePrefix) {
  Coverage cov;
  const uint64_t one = test::env_u64("COFFER_SEED", 0);
  if (one != 0) {
    run_seed(one, &cov);
  } else {
    const uint64_t seeds = test::soak() ? 5000 : 300;
    for (uint64_t seed = 1; seed <= seeds && !HasFatalFailure(); ++seed)
      run_seed(seed, &cov);
  }
  std::printf(
      "seeds %llu, commands %llu, recovered from an image %llu, store behind %llu, torn tails "
      "%llu, store commits aborted %llu\n",
      (unsigned long long)cov.seeds, (unsigned long long)cov.commands,
      (unsigned long long)cov.with_image, (unsigned long long)cov.store_behind,
      (unsigned long long)cov.torn_tails, (unsigned long long)cov.store_aborted);
  if (one == 0) {
    EXPECT_GT(cov.with_image, 0u);
    EXPECT_GT(cov.store_behind, 0u);
  }
}

}  // namespace
}  // namespace coffer::storage
