// Recovery, case by case: image + journal tail, no image, image older than the
// journal (segments below it removed), journal older than the image, torn tail,
// flipped bits mid-journal, a missing segment, a journal starting after the
// image, the follower behind the image, and MDB_MAP_FULL followed by a restart
// with a bigger map.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/ledger.h"
#include "storage/journal.h"
#include "storage/lmdb_env.h"
#include "storage/memory_file_system.h"
#include "storage/recovery.h"
#include "tests/core/sim_util.h"
#include "tests/storage/state_store_test_util.h"

namespace coffer::storage {
namespace {

using testing::apply_record;
using testing::TempDir;

const std::string kJournalDir = "/journal";

// A miniature server: the live Ledger, the journal on an in-memory file system,
// and the state store on disk. step() does what the sequencer does per batch.
class World {
 public:
  explicit World(uint64_t seed, uint64_t segment_size_bytes = 8 * kKiB)
      : gen_(seed), segment_size_bytes_(segment_size_bytes) {
    open_journal();
    store_ = testing::open_store(tmp_.sub("lmdb"));
  }

  void open_journal() {
    JournalOptions o;
    o.dir = kJournalDir;
    o.fs = &fs_;
    o.writer_thread = false;
    o.segment_size_bytes = segment_size_bytes_;
    o.record_payload_size_max =
        static_cast<uint32_t>(segment_size_bytes_ - kSegmentHeaderSize - kFrameHeaderSize);
    o.log = [](const std::string&) {};
    JournalOpenReport report;
    Status s = Journal::open(o, &journal_, &report);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }

  // One record of a few command groups: applied, journaled, then (if the
  // follower is on) its effects are handed to the store.
  void step(bool feed_store = true) {
    std::vector<Command> cs;
    const uint64_t groups = 1 + rng_.below(6);
    for (uint64_t g = 0; g < groups; ++g) {
      auto grp = gen_.next_group();
      cs.insert(cs.end(), grp.begin(), grp.end());
    }
    auto effects = apply_record(live_, cs);
    Status s = journal_->append_and_wait(testing::to_record(cs));
    ASSERT_TRUE(s.ok()) << s.to_string();
    all_effects_.insert(all_effects_.end(), effects.begin(), effects.end());
    record_ends_.push_back(cs.back().seq);
    if (feed_store) {
      ASSERT_TRUE(store_->submit(testing::to_batch(cs, std::move(effects))).ok());
    }
  }
  void steps(int n, bool feed_store = true) {
    for (int i = 0; i < n; ++i)
      step(feed_store);
  }
  void checkpoint() {
    ASSERT_TRUE(
        store_->save_image(live_.last_seq(), live_.state_hash(), testing::image_of(live_)).ok());
    ASSERT_TRUE(store_->flush().ok());
  }

  // Stops everything (clean shutdown of the process).
  void stop() {
    journal_.reset();
    store_.reset();
  }

  // Restart: a fresh Ledger recovered from the store and the journal.
  Status restart(RecoveryReport* report, uint64_t map_size_bytes = 1ull << 30) {
    stop();
    store_ = testing::open_store(tmp_.sub("lmdb"), true, map_size_bytes);
    recovered_ = std::make_unique<Ledger>(testing::small_config());
    RecoveryOptions ro;
    ro.journal_dir = kJournalDir;
    ro.fs = &fs_;
    ro.log = [](const std::string&) {};
    return recover(ro, *store_, *recovered_, report);
  }

  void expect_recovered_equals_live() {
    ASSERT_NE(recovered_, nullptr);
    EXPECT_EQ(recovered_->state_hash(), live_.state_hash());
    EXPECT_EQ(recovered_->last_seq(), live_.last_seq());
    for (uint64_t acc = 1; acc <= test::CommandGenerator::account_id_max + 2; ++acc) {
      const uint32_t a = live_.find_account(acc), b = recovered_->find_account(acc);
      ASSERT_EQ(a == Ledger::slot_none, b == Ledger::slot_none);
      if (a == Ledger::slot_none) continue;
      EXPECT_EQ(live_.account(a).balance(), recovered_->account(b).balance());
      EXPECT_EQ(live_.account(a).held(), recovered_->account(b).held());
      const auto want = testing::balance_changes(all_effects_, acc);
      const auto got = testing::full_history(*store_, acc, 50);
      ASSERT_EQ(got.size(), want.size()) << "account " << acc;
      if (!got.empty()) {
        EXPECT_EQ(got.front().balance_after, live_.account(a).balance());
      }
    }
    EXPECT_EQ(store_->last_applied_seq(), live_.last_seq());
  }

  std::vector<std::string> segment_names() {
    std::vector<std::pair<uint64_t, std::string>> segs;
    EXPECT_TRUE(list_segments(&fs_, kJournalDir, &segs).ok());
    std::vector<std::string> names;
    for (auto& s : segs)
      names.push_back(s.second);
    return names;
  }

  MemoryFileSystem fs_;
  TempDir tmp_;
  test::Rng rng_{99};
  test::CommandGenerator gen_;
  uint64_t segment_size_bytes_;
  Ledger live_{testing::small_config()};
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Ledger> recovered_;
  std::vector<Effect> all_effects_;
  std::vector<uint64_t> record_ends_;
};

TEST(RecoveryTest, ImagePlusJournalTail) {
  World w(1);
  w.steps(40);
  w.checkpoint();
  const uint64_t s = w.live_.last_seq();
  w.steps(40);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(r.image_loaded);
  EXPECT_EQ(r.image_seq, s);
  EXPECT_EQ(r.records_replayed, 40u);
  EXPECT_EQ(r.journal_first_seq, s + 1);
  EXPECT_EQ(r.effects_fed, 0u);  // the store had everything
  EXPECT_EQ(r.state_hash, w.live_.state_hash());
  EXPECT_EQ(r.next_seq, w.live_.last_seq() + 1);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, NoImageReplaysEverythingAndRebuildsHistory) {
  World w(2);
  w.steps(60, /*feed_store=*/false);  // the store never saw anything
  RecoveryReport r;
  ASSERT_TRUE(w.restart(&r).ok());
  EXPECT_FALSE(r.image_loaded);
  EXPECT_EQ(r.records_replayed, 60u);
  EXPECT_EQ(r.journal_first_seq, 1u);
  EXPECT_GT(r.effects_fed, 0u);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, ImageOlderThanJournalRemovesSegmentsBelowIt) {
  World w(3, /*segment_size_bytes=*/4 * kKiB);
  w.steps(80);
  w.checkpoint();
  w.steps(30);
  const size_t before = w.segment_names().size();
  ASSERT_GT(before, 4u);
  RecoveryReport r;
  ASSERT_TRUE(w.restart(&r).ok());
  EXPECT_GT(r.segments_removed, 0u);
  EXPECT_EQ(w.segment_names().size(), before - r.segments_removed);
  w.expect_recovered_equals_live();
  // And again from what is left: same result.
  RecoveryReport r2;
  ASSERT_TRUE(w.restart(&r2).ok());
  EXPECT_EQ(r2.segments_removed, 0u);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, FollowerBehindFeedsTheRest) {
  World w(4);
  w.steps(30);
  w.checkpoint();
  w.steps(30, /*feed_store=*/false);  // crash before the follower applied these
  RecoveryReport r;
  ASSERT_TRUE(w.restart(&r).ok());
  EXPECT_GT(r.effects_fed, 0u);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, ImageWaitingForTheFollowerIsNotUsedBeforeItsEffects) {
  World w(5);
  w.steps(20);
  w.checkpoint();
  const uint64_t first_image = w.live_.last_seq();
  w.steps(20, /*feed_store=*/false);
  // The core thread checkpoints while the follower is behind: the image waits.
  w.checkpoint();
  EXPECT_EQ(w.store_->image_seq(), first_image);
  RecoveryReport r;
  ASSERT_TRUE(w.restart(&r).ok());  // the process died: the waiting image is gone
  EXPECT_EQ(r.image_seq, first_image);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, JournalOlderThanImageContinuesAfterTheImage) {
  World w(6, 4 * kKiB);
  w.steps(30);
  // Keep a copy of the journal as it is now.
  std::map<std::string, std::vector<std::byte>> old;
  for (auto& n : w.segment_names())
    old[n] = w.fs_.contents(kJournalDir + "/" + n);
  w.steps(30);
  w.checkpoint();
  const uint64_t s = w.live_.last_seq();
  w.stop();
  // The journal goes back in time (restored from a backup, say).
  for (auto& n : w.segment_names())
    ASSERT_TRUE(w.fs_.remove(kJournalDir + "/" + n).ok());
  for (auto& [n, bytes] : old)
    w.fs_.set_contents(kJournalDir + "/" + n, bytes);
  RecoveryReport r;
  ASSERT_TRUE(w.restart(&r).ok());
  EXPECT_TRUE(r.journal_behind_image);
  EXPECT_EQ(r.records_replayed, 0u);
  EXPECT_EQ(r.next_seq, s + 1);
  EXPECT_TRUE(w.segment_names().empty());
  w.expect_recovered_equals_live();
  // The journal takes S + 1 next, and a later recovery replays it on the image.
  w.open_journal();
  w.steps(10);
  RecoveryReport r2;
  ASSERT_TRUE(w.restart(&r2).ok());
  EXPECT_EQ(r2.journal_first_seq, s + 1);
  EXPECT_EQ(r2.records_replayed, 10u);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, StoreAheadOfTheJournalIsAnError) {
  World w(14, 4 * kKiB);
  w.steps(30);
  std::map<std::string, std::vector<std::byte>> old;
  for (auto& n : w.segment_names())
    old[n] = w.fs_.contents(kJournalDir + "/" + n);
  w.steps(20);
  w.checkpoint();
  w.steps(20);  // the store applies past the image
  ASSERT_TRUE(w.store_->flush().ok());
  w.stop();
  for (auto& n : w.segment_names())
    ASSERT_TRUE(w.fs_.remove(kJournalDir + "/" + n).ok());
  for (auto& [n, bytes] : old)
    w.fs_.set_contents(kJournalDir + "/" + n, bytes);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
  EXPECT_NE(st.message().find("lost records"), std::string::npos) << st.message();
}

TEST(RecoveryTest, TornTailIsIgnoredAndReported) {
  World w(7, 64 * kKiB);
  w.steps(25);
  w.stop();
  auto names = w.segment_names();
  ASSERT_EQ(names.size(), 1u);
  const std::string path = kJournalDir + "/" + names.back();
  // Find where the data ends, then leave half a frame header there.
  std::unique_ptr<JournalReader> reader;
  ASSERT_TRUE(JournalReader::open({kJournalDir, &w.fs_}, 0, &reader).ok());
  JournalRecordView v;
  for (bool has = true; has;)
    ASSERT_TRUE(reader->next(&v, &has).ok());
  const uint64_t end = reader->end_offset();
  auto bytes = w.fs_.contents(path);
  for (int i = 0; i < 17; ++i)
    bytes[end + i] = std::byte{0x5a};
  w.fs_.set_contents(path, bytes);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.torn_tail_offset, end);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, FlippedBitsMidJournalStopWithFileAndOffset) {
  World w(8, 64 * kKiB);
  w.steps(25);
  w.stop();
  auto names = w.segment_names();
  const std::string path = kJournalDir + "/" + names.front();
  auto bytes = w.fs_.contents(path);
  bytes[kSegmentHeaderSize + kFrameHeaderSize + 100] ^= std::byte{0x10};  // first record
  w.fs_.set_contents(path, bytes);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
  EXPECT_NE(st.message().find(names.front()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("offset " + std::to_string(kSegmentHeaderSize)), std::string::npos)
      << st.message();
}

TEST(RecoveryTest, MissingSegmentAfterTheImageStops) {
  World w(9, 4 * kKiB);
  w.steps(20);
  w.checkpoint();
  w.steps(60);
  auto names = w.segment_names();
  ASSERT_GT(names.size(), 4u);
  w.stop();
  ASSERT_TRUE(w.fs_.remove(kJournalDir + "/" + names[names.size() - 2]).ok());
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
  EXPECT_NE(st.message().find("missing segment"), std::string::npos) << st.message();
}

TEST(RecoveryTest, JournalStartingAfterTheImageIsAGap) {
  World w(10, 4 * kKiB);
  w.steps(60);
  auto names = w.segment_names();
  ASSERT_GT(names.size(), 3u);
  w.stop();
  // No image and the first segments are gone: 1.. cannot be rebuilt.
  ASSERT_TRUE(w.fs_.remove(kJournalDir + "/" + names[0]).ok());
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
}

// Rewrites the store's last applied seq behind its back (an operator restoring
// an old copy, a bug): the case the image-waits-for-its-effects rule prevents.
void force_last_applied(const std::string& dir, uint64_t seq) {
  std::unique_ptr<lmdb::Env> env;
  ASSERT_TRUE(lmdb::Env::open(dir, 1ull << 30, kStateStoreDbCount, 0, &env).ok());
  lmdb::Txn txn;
  ASSERT_TRUE(txn.begin(*env, false).ok());
  MDB_dbi meta;
  ASSERT_TRUE(lmdb::open_dbi(txn, "meta", 0, &meta).ok());
  const char key[] = "last_applied_seq";
  ASSERT_TRUE(
      lmdb::put(txn, meta, lmdb::val(key, sizeof key - 1), lmdb::val(&seq, sizeof seq)).ok());
  ASSERT_TRUE(txn.commit().ok());
}

// Flips one byte of the stored image (chunk `chunk`, offset `offset`), or of
// its recorded state hash when chunk == UINT64_MAX.
void tamper_image(const std::string& dir, uint64_t chunk, size_t offset) {
  std::unique_ptr<lmdb::Env> env;
  ASSERT_TRUE(lmdb::Env::open(dir, 1ull << 30, kStateStoreDbCount, 0, &env).ok());
  lmdb::Txn txn;
  ASSERT_TRUE(txn.begin(*env, false).ok());
  MDB_dbi dbi;
  std::vector<std::byte> key;
  if (chunk == UINT64_MAX) {
    ASSERT_TRUE(lmdb::open_dbi(txn, "meta", 0, &dbi).ok());
    const char k[] = "image";
    key.assign(reinterpret_cast<const std::byte*>(k), reinterpret_cast<const std::byte*>(k) + 5);
    offset = 8;  // the state hash
  } else {
    ASSERT_TRUE(lmdb::open_dbi(txn, "image", 0, &dbi).ok());
    for (int i = 7; i >= 0; --i)
      key.push_back(std::byte((chunk >> (8 * i)) & 0xff));
  }
  MDB_val v;
  bool found = false;
  ASSERT_TRUE(lmdb::get(txn, dbi, lmdb::val(key), &v, &found).ok());
  ASSERT_TRUE(found);
  std::vector<std::byte> bytes(lmdb::bytes(v).begin(), lmdb::bytes(v).end());
  ASSERT_LT(offset, bytes.size());
  bytes[offset] ^= std::byte{0x04};
  ASSERT_TRUE(lmdb::put(txn, dbi, lmdb::val(key), lmdb::val(bytes)).ok());
  ASSERT_TRUE(txn.commit().ok());
}

TEST(RecoveryTest, DamagedImageIsRejected) {
  for (const uint64_t chunk : {uint64_t{0}, UINT64_MAX}) {
    SCOPED_TRACE(chunk);
    World w(15);
    w.steps(30);
    w.checkpoint();
    w.steps(5);
    w.stop();
    tamper_image(w.tmp_.sub("lmdb"), chunk, 200);
    RecoveryReport r;
    Status st = w.restart(&r);
    ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
    EXPECT_NE(st.message().find("state image as of seq"), std::string::npos) << st.message();
  }
}

TEST(RecoveryTest, FollowerBehindTheImageReplaysFromScratchWhenItCan) {
  World w(11);
  w.steps(30);
  w.checkpoint();
  w.steps(10);
  w.stop();
  force_last_applied(w.tmp_.sub("lmdb"), 5);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_FALSE(r.image_loaded);  // the whole journal was replayed
  EXPECT_EQ(r.store_applied_seq, 5u);
  EXPECT_EQ(r.journal_first_seq, 1u);
  EXPECT_GT(r.effects_fed, 0u);
  w.expect_recovered_equals_live();
}

TEST(RecoveryTest, FollowerBehindTheImageWithoutTheJournalStartIsAnError) {
  World w(13, 4 * kKiB);
  w.steps(60);
  w.checkpoint();
  w.steps(10);
  w.stop();
  auto names = w.segment_names();
  ASSERT_GT(names.size(), 2u);
  ASSERT_TRUE(w.fs_.remove(kJournalDir + "/" + names[0]).ok());
  force_last_applied(w.tmp_.sub("lmdb"), 5);
  RecoveryReport r;
  Status st = w.restart(&r);
  ASSERT_EQ(st.code(), StatusCode::corruption) << st.to_string();
  EXPECT_NE(st.message().find("cannot be rebuilt"), std::string::npos) << st.message();
}

TEST(RecoveryTest, MapFullThenRestartWithBiggerMapCompletes) {
  World w(12);
  w.stop();
  // Reopen the store with a tiny map and run traffic until it fills.
  w.store_ = testing::open_store(w.tmp_.sub("lmdb"), true, 256 * kKiB);
  w.open_journal();
  Status sticky;
  for (int i = 0; i < 3000 && sticky.ok(); ++i) {
    std::vector<Command> cs;
    for (int g = 0; g < 4; ++g) {
      auto grp = w.gen_.next_group();
      cs.insert(cs.end(), grp.begin(), grp.end());
    }
    auto effects = apply_record(w.live_, cs);
    ASSERT_TRUE(w.journal_->append_and_wait(testing::to_record(cs)).ok());
    w.all_effects_.insert(w.all_effects_.end(), effects.begin(), effects.end());
    sticky = w.store_->submit(testing::to_batch(cs, std::move(effects)));
    if (sticky.ok() && i % 50 == 49) sticky = w.store_->flush();
  }
  ASSERT_EQ(sticky.code(), StatusCode::no_space) << sticky.to_string();
  EXPECT_LT(w.store_->last_applied_seq(), w.live_.last_seq());
  // With space back (a bigger map) it resumes from last_applied_seq + 1 and
  // completes. (With the same map it may or may not fit: smaller transactions
  // need fewer pages than the big one that failed.)
  RecoveryReport r;
  Status st = w.restart(&r, 1ull << 30);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_GT(r.effects_fed, 0u);
  w.expect_recovered_equals_live();
}

}  // namespace
}  // namespace coffer::storage
